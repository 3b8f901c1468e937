"""``collapse-audit scan``: audit a corpus end to end and exit 0 (pass), 1 (fail) or 2 (could not audit)."""

from __future__ import annotations

import os
import sys
from typing import Optional

import typer
from rich.console import Console

from ..errors import AuditError
from .common import user_errors, write_output
from .render import FORMATS, REDACT_HELP, REDACT_MODES, render_result


@user_errors
def scan(
    paths: list[str] = typer.Argument(..., help="Parquet or JSONL (.jsonl, .jsonl.gz, .jsonl.zst) files, "
                                      "directories (read recursively) or globs.", show_default=False),
    policy: Optional[str] = typer.Option(None, "--policy", "-p", help="Policy YAML. Default: ./collapse-audit.yaml "
                                         "if present, else the packaged rules/default.yaml."),
    text_field: Optional[str] = typer.Option(None, "--text-field", help="Field holding the text (overrides the "
                                             "policy; dotted paths reach nested fields)."),
    fmt: Optional[str] = typer.Option(None, "--format", "-f", help=f"Report format: {' | '.join(FORMATS)}. "
                                      "Default: table."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Write the report to FILE (default stdout)."),
    redact: Optional[str] = typer.Option(None, "--redact", help=REDACT_HELP + " Choices: excerpts | ids."),
    annotations: Optional[str] = typer.Option(None, "--annotations", help="Write a Parquet file with one row per "
                                              "record: duplicates, synthetic score, provenance and the rules it "
                                              "touches."),
    detector: Optional[str] = typer.Option(None, "--detector", help="Synthetic-text detector: default | neural | "
                                           "hf:PATH | lm:PATH (default from the policy)."),
    sample: Optional[int] = typer.Option(None, "--sample", min=0, help="Score at most N records with the detector "
                                         "(uniform, seeded); 0 = all. Default from the policy."),
    max_bad_records: int = typer.Option(0, "--max-bad-records", min=0, help="Tolerate up to N unreadable records "
                                        "(counted and listed in the report) instead of exiting 2."),
    seed: int = typer.Option(0, "--seed", help="Seed for sampling and estimates; same input+policy+seed give "
                             "identical results."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", min=1, help="Worker processes (default: all "
                                          "available CPUs); results are identical for any count."),
    baseline: Optional[str] = typer.Option(None, "--baseline", help="Profile JSON from `collapse-audit profile` "
                                           "to measure drift against."),
    eval_set: Optional[list[str]] = typer.Option(None, "--eval-set", help="Eval set(s) to check for contamination "
                                                 "(repeatable)."),
    batch_size: int = typer.Option(4096, "--batch-size", min=1, hidden=True),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar and no verdict line on stderr."),
) -> None:
    """Audit PATHS against the policy and print or export the report.

    Reads every record once, streaming, through exact and near-duplicate detection, the synthetic-text detector (on a seeded sample), provenance checks and collapse signals, then applies the policy's rules.

    Exit codes: 0 the policy passed, 1 it failed, 2 the audit could not be run (usage error, unreadable input, bad policy).
    """
    fmt = fmt or "table"
    if fmt not in FORMATS:
        raise AuditError(f"Unknown format '{fmt}' (choose from {', '.join(FORMATS)}).")
    if redact is not None and redact not in REDACT_MODES:
        raise AuditError(f"Unknown --redact mode '{redact}' (choose from {', '.join(REDACT_MODES)}).")
    # imported here, so `--help` does not load the engine and every check
    from ..engine import ScanOptions, run_scan
    from ..engine.scan import default_workers

    opts = ScanOptions(
        paths=paths, policy=policy, text_field=text_field, detector=detector, sample=sample,
        max_bad_records=max_bad_records, seed=seed, workers=workers or default_workers(),
        batch_size=batch_size, annotations=annotations, baseline=baseline, eval_sets=list(eval_set or []),
        progress=not quiet, argv=sys.argv[1:],
    )
    result = run_scan(opts)
    if fmt == "table" and output in (None, "-"):
        from ..reports.console import render
        from ..reports.redact import redact as redact_result
        from .render import renderer_input

        render(redact_result(renderer_input(result), redact), Console() if sys.stdout.isatty() else Console(width=140))
    else:
        write_output(render_result(result, fmt, redact), output)
        if not quiet:
            sys.stderr.write(f"collapse-audit: verdict {result['verdict'].upper()}"
                             f"{'' if output in (None, '-') else f' (report written to {output})'}\n")
    _github_step_summary(result, redact)
    raise typer.Exit(0 if result["verdict"] == "pass" else 1)


def _github_step_summary(result: dict, redact: Optional[str] = None) -> None:
    """In GitHub Actions, also append the Markdown report to the job summary."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    try:
        from ..reports.github import write_step_summary
    except ImportError:  # pragma: no cover
        return
    from ..reports.redact import redact as redact_result
    from .render import renderer_input

    write_step_summary(redact_result(renderer_input(result), redact), path)
