"""``collapse-audit merge``: merge the partial states of a sharded scan into one report."""

from __future__ import annotations

import os
import sys

import typer

from ..engine import ScanOptions
from ..errors import AuditError
from ..outputs import check_outputs
from ..policy.selection import parse_codes
from .common import user_errors
from .render import FORMATS, REDACT_HELP, REDACT_MODES
from .scan import emit


@user_errors
def merge(
    partials: list[str] = typer.Argument(..., help="Partial state directories written by `scan --shard I/N "
                                         "--partial DIR` (all N of them, any order).", show_default=False),
    policy: str | None = typer.Option(None, "--policy", "-p", help="The policy the shards were scanned with "
                                      "(checked against their policy hash)."),
    text_field: str | None = typer.Option(None, "--text-field", help="As given to scan."),
    id_field: str | None = typer.Option(None, "--id-field", help="As given to scan."),
    provenance_field: str | None = typer.Option(None, "--provenance-field", help="As given to scan."),
    source_field: str | None = typer.Option(None, "--source-field", help="As given to scan."),
    fmt: str | None = typer.Option(None, "--format", "-f", help=f"Report format: {' | '.join(FORMATS)}. "
                                   "Default: table."),
    output: str | None = typer.Option(None, "--output", "-o", help="Write the report to FILE (default stdout)."),
    redact: str | None = typer.Option(None, "--redact", help=REDACT_HELP + " Choices: excerpts | ids."),
    annotations: str | None = typer.Option(None, "--annotations", help="Write the per-record annotations "
                                           "Parquet file, as scan does."),
    detector: str | None = typer.Option(None, "--detector", help="As given to scan."),
    sample: int | None = typer.Option(None, "--sample", min=0, help="As given to scan."),
    max_bad_records: int = typer.Option(0, "--max-bad-records", min=0, help="As given to scan (the merged "
                                        "count must stay within it)."),
    baseline: str | None = typer.Option(None, "--baseline", help="As given to scan."),
    eval_set: list[str] | None = typer.Option(None, "--eval-set", help="As given to scan."),
    against: str | None = typer.Option(None, "--against", help="As given to scan."),
    select: list[str] | None = typer.Option(None, "--select", help="Apply only these rules (as scan)."),
    extend_select: list[str] | None = typer.Option(None, "--extend-select", help="Also apply these rules."),
    ignore: list[str] | None = typer.Option(None, "--ignore", help="Do not apply these rules."),
    exit_zero: bool = typer.Option(False, "--exit-zero", help="Exit 0 even when the policy fails."),
    accept: str | None = typer.Option(None, "--accept", help="Accepted-findings file (as scan)."),
    write_accept: str | None = typer.Option(None, "--write-accept", help="Write the findings as an "
                                            "accepted-findings file (as scan)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No verdict line on stderr."),
) -> None:
    """Merge the partial states of a sharded scan (`scan --shard I/N --partial DIR`) into one report.

    The result is the one a single scan of all the inputs gives (apart from its run section). Partials that do not belong together - another policy, seed, tool version or inputs, a missing or repeated shard - are refused (exit 2, naming the directory).

    Exit codes: 0 the policy passed, 1 it failed, 2 the merge could not be done.
    """  # noqa: E501
    fmt = fmt or "table"
    if fmt not in FORMATS:
        raise AuditError(f"Unknown format '{fmt}' (choose from {', '.join(FORMATS)}).")
    if redact is not None and redact not in REDACT_MODES:
        raise AuditError(f"Unknown --redact mode '{redact}' (choose from {', '.join(REDACT_MODES)}).")
    from ..engine.merge import merge_inputs, run_merge

    # no output onto a partial being merged, into its directory, or onto a corpus file its shards read
    check_outputs([output, annotations, write_accept, os.environ.get("GITHUB_STEP_SUMMARY")],
                  [*merge_inputs(partials), *([policy] if policy else []), *([baseline] if baseline else []),
                   *(eval_set or []), *([accept] if accept else []), *([against] if against else [])],
                  protected=[*partials, *([against] if against else [])])

    opts = ScanOptions(
        paths=[], policy=policy, text_field=text_field, id_field=id_field, provenance_field=provenance_field,
        source_field=source_field, detector=detector, sample=sample, max_bad_records=max_bad_records,
        annotations=annotations, baseline=baseline, eval_sets=list(eval_set or []),
        select=parse_codes(select), extend_select=parse_codes(extend_select), ignore=parse_codes(ignore),
        accept=accept, write_accept=write_accept, progress=not quiet, argv=sys.argv[1:], against=against,
    )
    emit(run_merge(opts, partials), fmt, output, redact, quiet, exit_zero)
