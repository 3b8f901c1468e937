"""``collapse-audit scan``: audit a corpus end to end and exit 0 (pass), 1 (fail) or 2 (could not audit)."""

from __future__ import annotations

import os
import sys

import typer
from rich.console import Console

from ..errors import AuditError
from ..outputs import check_outputs
from ..policy.selection import parse_codes
from ..result import ScanResult
from ..text.inert import inert
from .common import user_errors, write_output
from .render import FORMATS, REDACT_HELP, REDACT_MODES, render_result, renderer_input


@user_errors
def scan(
    paths: list[str] = typer.Argument(..., help="Parquet, JSONL, CSV/TSV, JSON-array or Arrow files (JSONL/CSV/JSON "
                                      "also .gz/.zst/.bz2/.xz), directories (read recursively; a saved Hugging Face "
                                      "dataset folder is one dataset), globs or URLs (s3://, gs://, hf://).",
                                      show_default=False),
    policy: str | None = typer.Option(None, "--policy", "-p", help="Policy YAML (or a pyproject.toml with "
                                         "\\[tool.collapse-audit]). Default: the nearest collapse-audit.yaml, "
                                         ".collapse-audit.yaml or pyproject.toml \\[tool.collapse-audit] from here "
                                         "up to the repository root, else the packaged rules/default.yaml."),
    text_field: str | None = typer.Option(None, "--text-field", help="Field holding the text (overrides the "
                                             "policy; dotted paths reach nested fields)."),
    id_field: str | None = typer.Option(None, "--id-field", help="Field holding the record id (overrides "
                                           "fields.id)."),
    provenance_field: str | None = typer.Option(None, "--provenance-field", help="Field holding the provenance "
                                                   "tag (overrides fields.provenance)."),
    source_field: str | None = typer.Option(None, "--source-field", help="Field naming each record's source "
                                               "(overrides fields.source)."),
    fmt: str | None = typer.Option(None, "--format", "-f", help=f"Report format: {' | '.join(FORMATS)}. "
                                      "Default: table."),
    output: str | None = typer.Option(None, "--output", "-o", help="Write the report to FILE (default stdout)."),
    redact: str | None = typer.Option(None, "--redact", help=REDACT_HELP + " Choices: excerpts | ids."),
    annotations: str | None = typer.Option(None, "--annotations", help="Write a Parquet file with one row per "
                                              "record: duplicates, synthetic score, provenance and the rules it "
                                              "touches."),
    detector: str | None = typer.Option(None, "--detector", help="Synthetic-text detector: default | neural | "
                                           "hf:PATH | lm:PATH (default from the policy)."),
    sample: int | None = typer.Option(None, "--sample", min=0, help="Score at most N records with the detector "
                                         "(uniform, seeded); 0 = all. Default from the policy."),
    calibration: str | None = typer.Option(None, "--calibration", help="Detector calibration file from "
                                           "`collapse-audit detector calibrate` (labelled in-domain records): "
                                           "the share estimate uses its error rates (state: calibrated)."),
    human_reference: str | None = typer.Option(None, "--human-reference", help="Trusted human-only records (any "
                                               "input format): measures the detector's false-positive side on "
                                               "your domain (state: calibrated)."),
    max_bad_records: int = typer.Option(0, "--max-bad-records", min=0, help="Tolerate up to N unreadable records "
                                        "(counted and listed in the report) instead of exiting 2."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed for sampling and estimates; same input+policy+seed give "
                             "identical results."),
    workers: int | None = typer.Option(None, "--workers", "-w", min=1, help="Worker processes (default: all "
                                          "available CPUs); results are identical for any count."),
    baseline: str | None = typer.Option(None, "--baseline", help="Profile JSON from `collapse-audit profile` "
                                           "to measure drift against."),
    eval_set: list[str] | None = typer.Option(None, "--eval-set", help="Eval set(s) to check for contamination "
                                                 "(repeatable)."),
    split: str | None = typer.Option(None, "--split", help="Split to read from a saved Hugging Face dataset "
                                     "folder with several (e.g. train)."),
    select: list[str] | None = typer.Option(None, "--select", help="Apply only these rules: comma-separated "
                                            "codes or prefixes (CA2, CA101). A catalogued code the policy "
                                            "lacks is added with its default limit."),
    extend_select: list[str] | None = typer.Option(None, "--extend-select", help="Also apply these catalogued "
                                                   "rules (codes or prefixes) with their default limits."),
    ignore: list[str] | None = typer.Option(None, "--ignore", help="Do not apply these rules (codes or "
                                            "prefixes)."),
    exit_zero: bool = typer.Option(False, "--exit-zero", help="Exit 0 even when the policy fails (the report "
                                   "still says FAIL); exit 2 still means the audit could not be run."),
    accept: str | None = typer.Option(None, "--accept", help="Accepted-findings file (YAML/JSON): records "
                                      "listed there leave the numerator of their rules. Default: the "
                                      "policy's `accept:`."),
    write_accept: str | None = typer.Option(None, "--write-accept", help="Write this scan's findings as an "
                                            "accepted-findings file for --accept (to adopt the gate on an "
                                            "existing corpus and fail only on new problems)."),
    engine: str = typer.Option("local", "--engine", help="local (worker processes on this machine) or ray (Ray "
                               "tasks; RAY_ADDRESS or --ray-address for a cluster, else a local one; needs the 'ray' "
                               "extra). See docs/distributed.md."),
    ray_address: str | None = typer.Option(None, "--ray-address", help="Ray cluster to run on (--engine ray)."),
    shard: str | None = typer.Option(None, "--shard", help="Scan only shard I/N of the inputs (with --partial); "
                                     "merge the N partial states with `collapse-audit merge`."),
    partial: str | None = typer.Option(None, "--partial", help="Write this scan's state to directory DIR instead "
                                       "of a report (for `collapse-audit merge`, or --against later)."),
    against: str | None = typer.Option(None, "--against", help="A state directory of an earlier snapshot "
                                       "(scan --partial): report records seen there, exactly or nearly."),
    batch_size: int = typer.Option(4096, "--batch-size", min=1, hidden=True),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar and no verdict line on stderr."),
) -> None:
    """Audit PATHS against the policy and print or export the report.

    Reads every record once, streaming, through exact and near-duplicate detection, the synthetic-text detector (on a seeded sample), provenance checks and collapse signals, then applies the policy's rules.

    Rules are selected like a linter's: --select CA2,CA301 --ignore CA202; --exit-zero reports a failing policy without failing the job. --write-accept FILE records today's findings; --accept FILE then leaves them out so only new problems fail.

    Exit codes: 0 the policy passed, 1 it failed, 2 the audit could not be run (usage error, unreadable input, bad policy).
    """  # noqa: E501 - Typer's help keeps docstring line breaks, so each paragraph is one line
    fmt = fmt or "table"
    if fmt not in FORMATS:
        raise AuditError(f"Unknown format '{fmt}' (choose from {', '.join(FORMATS)}).")
    if redact is not None and redact not in REDACT_MODES:
        raise AuditError(f"Unknown --redact mode '{redact}' (choose from {', '.join(REDACT_MODES)}).")
    # imported here, so `--help` does not load the engine and every check
    from ..engine import ScanOptions, run_scan
    from ..engine.scan import default_workers

    # Before anything is read: no output may be an input (corpus, policy, baseline, eval sets).
    check_outputs([output, annotations, write_accept],
                  [*paths, *([policy] if policy else []), *([baseline] if baseline else []), *(eval_set or []),
                   *([accept] if accept else []), *([calibration] if calibration else []),
                   *([human_reference] if human_reference else [])])
    opts = ScanOptions(
        paths=paths, policy=policy, text_field=text_field, id_field=id_field, provenance_field=provenance_field,
        source_field=source_field, detector=detector, sample=sample,
        max_bad_records=max_bad_records, seed=seed, workers=workers or default_workers(),
        batch_size=batch_size, annotations=annotations, baseline=baseline, eval_sets=list(eval_set or []),
        select=parse_codes(select), extend_select=parse_codes(extend_select), ignore=parse_codes(ignore),
        accept=accept, write_accept=write_accept, progress=not quiet, argv=sys.argv[1:], split=split,
        engine=_engine(engine), ray_address=ray_address, shard=parse_shard(shard, partial), partial=partial,
        against=against,
        calibration=calibration, human_reference=human_reference,
    )
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


def _engine(name: str) -> str:
    if name not in ("local", "ray"):
        raise AuditError(f"Unknown --engine '{name}' (choose from local, ray).")
    return name


def parse_shard(text: str | None, partial: str | None) -> tuple[int, int] | None:
    """``I/N`` -> (I, N), 0 <= I < N."""
    if text is None:
        return None
    if partial is None:
        raise AuditError("--shard needs --partial DIR (a shard's state is merged later with `collapse-audit merge`).")
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise AuditError(f"--shard must look like I/N, e.g. 0/4 (got '{text}').") from None
    if not 0 <= i < n:
        raise AuditError(f"--shard {text}: I must be between 0 and N-1.")
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
