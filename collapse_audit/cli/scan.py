"""``collapse-audit scan``: audit a corpus end to end and exit 0 (pass), 1 (fail) or 2 (could not audit)."""

from __future__ import annotations

import os
import sys

import typer
from rich.console import Console

from ..errors import AuditError
from ..outputs import check_scan_outputs
from ..result import ScanResult
from ..text.inert import inert
from . import options as O
from .common import user_errors, write_output
from .options import check_report_options
from .render import render_result, renderer_input


@user_errors
def scan(
    paths: list[str] = typer.Argument(..., help="Parquet, JSONL, CSV/TSV, JSON-array or Arrow files (JSONL/CSV/JSON "
                                      "also .gz/.zst/.bz2/.xz), directories (read recursively; a saved Hugging Face "
                                      "dataset folder is one dataset), globs or URLs (s3://, gs://, hf://).",
                                      show_default=False),
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
    calibration: str | None = typer.Option(None, "--calibration", help="Detector calibration file from "
                                           "`collapse-audit detector calibrate` (labelled in-domain records): "
                                           "the share estimate uses its error rates (state: calibrated)."),
    human_reference: str | None = typer.Option(None, "--human-reference", help="Trusted human-only records (any "
                                               "input format): measures the detector's false-positive side on "
                                               "your domain (state: calibrated)."),
    max_bad_records: int = O.MAX_BAD_RECORDS,
    seed: int = O.SEED,
    workers: int | None = O.WORKERS,
    baseline: str | None = O.BASELINE,
    eval_set: list[str] | None = O.EVAL_SET,
    eval_text_field: str | None = O.EVAL_TEXT_FIELD,
    split: str | None = typer.Option(None, "--split", help="Split to read from a saved Hugging Face dataset "
                                     "folder with several (e.g. train)."),
    select: list[str] | None = O.SELECT,
    extend_select: list[str] | None = O.EXTEND_SELECT,
    ignore: list[str] | None = O.IGNORE,
    exit_zero: bool = O.EXIT_ZERO,
    accept: str | None = O.ACCEPT,
    write_accept: str | None = O.WRITE_ACCEPT,
    engine: str = typer.Option("local", "--engine", help="local (worker processes on this machine) or ray (Ray "
                               "tasks; RAY_ADDRESS or --ray-address for a cluster, else a local one; needs the 'ray' "
                               "extra). See docs/distributed.md."),
    ray_address: str | None = typer.Option(None, "--ray-address", help="Ray cluster to run on (--engine ray)."),
    shard: str | None = typer.Option(None, "--shard", help="Scan only shard I/N of the inputs (with --partial); "
                                     "merge the N partial states with `collapse-audit merge`."),
    partial: str | None = typer.Option(None, "--partial", help="Write this scan's state to directory DIR instead "
                                       "of a report (for `collapse-audit merge`, or --against later)."),
    against: str | None = O.AGAINST,
    batch_size: int = O.BATCH_SIZE,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar and no verdict line on stderr."),
) -> None:
    """Audit PATHS against the policy and print or export the report.

    Reads every record once, streaming, through exact and near-duplicate detection, the synthetic-text detector (on a seeded sample), provenance checks and collapse signals, then applies the policy's rules.

    Rules are selected like a linter's: --select CA2,CA301 --ignore CA202; --exit-zero reports a failing policy without failing the job. --write-accept FILE records today's findings; --accept FILE then leaves them out so only new problems fail.

    Exit codes: 0 the policy passed, 1 it failed, 2 the audit could not be run (usage error, unreadable input, bad policy).
    """  # noqa: E501 - Typer's help keeps docstring line breaks, so each paragraph is one line
    if partial is not None:
        _partial_alone(fmt, output, annotations, accept, write_accept, redact, exit_zero)
    fmt = check_report_options(fmt, redact)
    # imported here, so `--help` does not load the engine and every check
    from ..engine import run_scan
    from ..engine.scan import default_workers, scan_options

    opts = scan_options(
        paths, policy, text_field=text_field, id_field=id_field, provenance_field=provenance_field,
        source_field=source_field, detector=detector, sample=sample,
        max_bad_records=max_bad_records, seed=seed, workers=workers or default_workers(),
        batch_size=batch_size, annotations=annotations, baseline=baseline, eval_sets=list(eval_set or []),
        eval_text_field=eval_text_field,
        select=select or [], extend_select=extend_select or [], ignore=ignore or [],
        accept=accept, write_accept=write_accept, progress=not quiet, argv=sys.argv[1:], split=split,
        engine=engine, ray_address=ray_address, shard=parse_shard(shard, partial), partial=partial,
        against=against, calibration=calibration, human_reference=human_reference,
    )
    # Before anything is read: no output may be an input (corpus, policy, state, ...), nor the job summary.
    check_scan_outputs(opts, [output, os.environ.get("GITHUB_STEP_SUMMARY")])
    if partial is not None:
        from ..engine.merge import run_partial

        manifest = run_partial(opts)
        if not quiet:
            i, n = manifest["shard"]
            sys.stderr.write(f"collapse-audit: shard {i}/{n} ({manifest['reading']['records']} records) "
                             f"written to {inert(partial)}\n")
        raise typer.Exit(0)
    emit(run_scan(opts), fmt, output, redact, quiet, exit_zero)


def emit(result: ScanResult, fmt: str, output: str | None, redact: str | None, quiet: bool, exit_zero: bool) -> None:
    """Print or write the report, the verdict line and the job summary; exit 1 when the policy failed."""
    if fmt == "table" and output in (None, "-"):
        from ..reports.console import render
        from ..reports.redact import redact as redact_result

        console = Console() if sys.stdout.isatty() else Console(width=140)
        render(redact_result(renderer_input(result), redact), console)
    else:
        write_output(render_result(result, fmt, redact), output)
        if not quiet:
            sys.stderr.write(f"collapse-audit: verdict {result.verdict.upper()}"
                             f"{'' if output in (None, '-') else f' (report written to {inert(output)})'}\n")
    _github_step_summary(result, redact)
    raise typer.Exit(0 if result.verdict == "pass" or exit_zero else 1)


def _partial_alone(fmt: str | None, output: str | None, annotations: str | None, accept: str | None,
                   write_accept: str | None, redact: str | None, exit_zero: bool) -> None:
    """``--partial`` writes a state, not a report: report options would be silently ignored, so they
    are refused (they belong to ``collapse-audit merge``)."""
    given = [flag for flag, value in (("--format", fmt), ("--output", output), ("--annotations", annotations),
                                      ("--accept", accept), ("--write-accept", write_accept),
                                      ("--redact", redact), ("--exit-zero", exit_zero or None)) if value is not None]
    if given:
        raise AuditError(f"--partial writes a scan state, not a report, so {', '.join(given)} would be ignored; "
                         "give report options to `collapse-audit merge` (or scan without --partial).")


def parse_shard(text: str | None, partial: str | None) -> tuple[int, int] | None:
    """``I/N`` -> (I, N); whether it fits (0 <= I < N, with --partial) is checked with the other options."""
    if text is None:
        return None
    if partial is None:
        raise AuditError("--shard needs --partial DIR (a shard's state is merged later with `collapse-audit merge`).")
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise AuditError(f"--shard must look like I/N, e.g. 0/4 (got '{text}').") from None
    return i, n


def _github_step_summary(result: ScanResult, redact: str | None = None) -> None:
    """In GitHub Actions, also append the Markdown report to the job summary."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    try:
        from ..reports.github import write_step_summary
    except ImportError:  # pragma: no cover
        return
    from ..reports.redact import redact as redact_result

    write_step_summary(redact_result(renderer_input(result), redact), path)
