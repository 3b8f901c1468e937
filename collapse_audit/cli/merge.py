"""``collapse-audit merge``: merge the partial states of a sharded scan into one report."""

from __future__ import annotations

import os
import sys

import typer

from ..outputs import check_outputs
from . import options as O
from .common import user_errors
from .options import check_report_options
from .scan import emit


@user_errors
def merge(
    partials: list[str] = typer.Argument(..., help="Partial state directories written by `scan --shard I/N "
                                         "--partial DIR` (all N of them, any order).", show_default=False),
    policy: str | None = O.POLICY,
    text_field: str | None = O.TEXT_FIELD,
    id_field: str | None = O.ID_FIELD,
    provenance_field: str | None = O.PROVENANCE_FIELD,
    source_field: str | None = O.SOURCE_FIELD,
    fmt: str | None = O.FORMAT,
    output: str | None = O.OUTPUT,
    redact: str | None = O.REDACT,
    annotations: str | None = O.ANNOTATIONS,
    detector: str | None = O.DETECTOR,
    sample: int | None = O.SAMPLE,
    max_bad_records: int = O.MAX_BAD_RECORDS,
    baseline: str | None = O.BASELINE,
    eval_set: list[str] | None = O.EVAL_SET,
    eval_text_field: str | None = O.EVAL_TEXT_FIELD,
    against: str | None = O.AGAINST,
    select: list[str] | None = O.SELECT,
    extend_select: list[str] | None = O.EXTEND_SELECT,
    ignore: list[str] | None = O.IGNORE,
    exit_zero: bool = O.EXIT_ZERO,
    accept: str | None = O.ACCEPT,
    write_accept: str | None = O.WRITE_ACCEPT,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No verdict line on stderr."),
) -> None:
    """Merge the partial states of a sharded scan (`scan --shard I/N --partial DIR`) into one report.

    The result is the one a single scan of all the inputs gives (apart from its run section). Partials that do not belong together - another policy, seed, tool version or inputs, a missing or repeated shard - are refused (exit 2, naming the directory).

    Exit codes: 0 the policy passed, 1 it failed, 2 the merge could not be done.
    """  # noqa: E501
    fmt = check_report_options(fmt, redact)
    from ..engine.merge import merge_inputs, run_merge
    from ..engine.scan import scan_options

    # no output onto a partial being merged, into its directory, or onto a corpus file its shards read
    check_outputs([output, annotations, write_accept, os.environ.get("GITHUB_STEP_SUMMARY")],
                  [*merge_inputs(partials), *([policy] if policy else []), *([baseline] if baseline else []),
                   *(eval_set or []), *([accept] if accept else []), *([against] if against else [])],
                  protected=[*partials, *([against] if against else [])])

    opts = scan_options(
        [], policy, text_field=text_field, id_field=id_field, provenance_field=provenance_field,
        source_field=source_field, detector=detector, sample=sample, max_bad_records=max_bad_records,
        annotations=annotations, baseline=baseline, eval_sets=list(eval_set or []),
        eval_text_field=eval_text_field,
        select=select or [], extend_select=extend_select or [], ignore=ignore or [],
        accept=accept, write_accept=write_accept, progress=not quiet, argv=sys.argv[1:], against=against,
    )
    emit(run_merge(opts, partials), fmt, output, redact, quiet, exit_zero)
