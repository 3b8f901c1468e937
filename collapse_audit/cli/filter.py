"""``collapse-audit filter``: write the records the policy would keep (same schema and format) and a
manifest of every removed record with its reason. Exit 0 on success, 2 when it could not be done."""

from __future__ import annotations

import sys

import typer

from ..errors import AuditError
from . import options as O
from .common import user_errors


@user_errors
def filter(
    paths: list[str] = typer.Argument(..., help="The corpus: Parquet or JSONL files, directories or globs "
                                      "(the same PATHs the scan read).", show_default=False),
    output: str | None = typer.Option(None, "--output", "-o", help="Directory for the filtered corpus (new or "
                                         "empty, outside the inputs); the manifest goes to OUT/.manifest/."),
    policy: str | None = O.POLICY,
    from_annotations: str | None = typer.Option(None, "--from-annotations", help="Use the annotations of an "
                                                   "earlier `scan --annotations FILE` instead of scanning again."),
    scan_result: str | None = typer.Option(None, "--scan-result", help="With --from-annotations: that scan's "
                                              "JSON result (`--format json -o FILE`), which says whether its "
                                              "synthetic-share estimate is validated; without it no record is "
                                              "removed by detector score."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print what would be removed and write nothing."),
    max_records_per_file: int | None = typer.Option(None, "--max-records-per-file", min=1, help="Split each "
                                                       "output into shards of at most N records."),
    row_group_size: int | None = typer.Option(None, "--row-group-size", min=1, help="Parquet output row-group "
                                                 "size (default: the input's)."),
    quarantine: str | None = typer.Option(None, "--quarantine", help="Also write the removed records, in the "
                                             "same format, to this directory."),
    ignore: list[str] | None = typer.Option(None, "--ignore", help="Rule ids the filter must not act on "
                                               "(repeatable or comma-separated), e.g. --ignore CA101."),
    text_field: str | None = O.TEXT_FIELD,
    detector: str | None = O.DETECTOR,
    eval_set: list[str] | None = typer.Option(None, "--eval-set", help="Eval set(s): remove contaminated "
                                                 "training records when the policy has a CA5xx rule."),
    max_bad_records: int = typer.Option(0, "--max-bad-records", min=0, help="Tolerate up to N unreadable records "
                                        "(not copied; counted in the manifest as tolerated-bad)."),
    seed: int = O.SEED,
    workers: int | None = O.WORKERS,
    batch_size: int = O.BATCH_SIZE,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Write the records of PATHS that the policy keeps, unchanged, in their own format.

    Removes what the policy's record-level rules point at: every duplicate but the representative the scan chose (CA201/CA202), untagged or incompletely tagged records (CA301-CA304), contaminated records (CA5xx), records holding personal data (CA601-CA603) or flagged by any other check's rule, and model-generated records beyond the synthetic-share cap (CA101: declared-synthetic records first, then by detector score, per source). Capping by score is refused when the synthetic-share estimate is not validated for the corpus.

    Output is written atomically, one file (or --max-records-per-file shards) per input; OUT/.manifest/ holds removed.parquet (every removed record and its rule) and manifest.json (counts per rule and source, and the expected synthetic share of the output with its interval).

    Exit codes: 0 written (or dry run done), 2 it could not be done (usage, unreadable input, refused cap).
    """  # noqa: E501 - Typer's help keeps docstring line breaks, so each paragraph is one line
    from ..engine.scan import default_workers
    from ..filter import FilterOptions, run_filter
    from ..filter.report import render_run

    if not dry_run and not output:
        raise AuditError("No output directory given (use -o OUT/, or --dry-run to only see what would go).")
    codes = [c for item in (ignore or []) for c in item.split(",") if c.strip()]
    run = run_filter(FilterOptions(
        paths=paths, out=output, policy=policy, text_field=text_field, detector=detector,
        from_annotations=from_annotations, scan_result=scan_result, dry_run=dry_run,
        max_records_per_file=max_records_per_file, row_group_size=row_group_size, quarantine=quarantine,
        ignore=codes, eval_sets=list(eval_set or []), max_bad_records=max_bad_records, seed=seed,
        workers=workers or default_workers(), batch_size=batch_size, progress=not quiet,
    ))
    sys.stdout.write(render_run(run))
    raise typer.Exit(0)
