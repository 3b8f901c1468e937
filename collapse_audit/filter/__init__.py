"""``collapse-audit filter``: write the records the policy would keep, and a manifest of the rest.

Three steps, each replaceable on its own:

1. audit: the scan engine's annotations (``run_scan`` with every record scored when the policy caps
   the synthetic share) or a ``--from-annotations`` file from an earlier scan;
2. plan (``records.py`` + ``plan.py``): one more streaming pass with the same readers gives per-record
   arrays (a few bytes each); the decisions are one byte per record;
3. write (``writers.py`` + ``manifest.py``): the inputs are streamed again and kept records copied
   unchanged, in their own format, to a staging folder renamed into place at the end.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field, replace
from typing import Any, cast

import numpy as np

from ..errors import AuditError
from ..readers import InputFile, discover
from .plan import Plan, build_plan, estimate_validated
from .records import RecordTable, load_annotations, read_records

__all__ = ["FilterOptions", "FilterRun", "estimate_validated", "run_filter"]


@dataclass
class FilterOptions:
    """Everything ``collapse-audit filter`` was asked to do, as the CLI parsed it."""

    paths: list[str]
    out: str | None
    policy: str | None = None
    text_field: str | None = None
    detector: str | None = None
    from_annotations: str | None = None
    scan_result: str | None = None
    dry_run: bool = False
    max_records_per_file: int | None = None
    row_group_size: int | None = None
    quarantine: str | None = None
    ignore: list[str] = field(default_factory=list)
    eval_sets: list[str] = field(default_factory=list)
    max_bad_records: int = 0
    seed: int = 0
    workers: int = 1
    batch_size: int = 4096
    progress: bool = True


@dataclass
class FilterRun:
    """What a filter run decided and wrote: per-record plan, manifest, and the output directory (None on a dry run)."""

    records: RecordTable
    plan: Plan
    manifest: dict[str, Any]
    files: list[InputFile]
    written_to: str | None = None


def run_filter(opts: FilterOptions) -> FilterRun:
    """Scan (or read the annotations), plan what each rule removes, and write the kept records unless dry-running."""
    from ..checks.synthetic import DetectorOptions
    from ..detectors.registry import load_detector
    from ..policy import load_policy, resolve_policy_path

    policy_path = resolve_policy_path(opts.policy)
    policy = load_policy(policy_path)
    fields = replace(policy.fields, text=opts.text_field) if opts.text_field else policy.fields
    files = discover(opts.paths)
    if not opts.dry_run:
        _check_destinations(opts, files)
    ignore = {c.strip().upper() for c in opts.ignore}
    caps = any(r.metric == "synthetic.estimated_fraction" and r.id not in ignore for r in policy.rules)

    if opts.from_annotations:
        ann = load_annotations(opts.from_annotations, fields)
        result = _load_result(opts.scan_result) if opts.scan_result else None
    else:
        ann, result = _scan(opts, policy_path, files, score_all=caps, fields=fields)
    validated = estimate_validated(result)
    det_cfg = policy.options.get("detector") or DetectorOptions()
    detector = load_detector(opts.detector or det_cfg.name, det_cfg.detector_options()) if caps else None
    records = read_records(files, ann, fields, opts.batch_size, opts.max_bad_records,
                           detector=detector if caps and validated[0] else None)
    plan = build_plan(records, policy.rules, ignore=ignore,
                      detector_validation=dict(detector.validation) if detector else {},
                      estimate_validated=validated, threshold=float(detector.threshold) if detector else 0.5,
                      seed=opts.seed)
    from ..policy import default_policy_path

    packaged = os.path.realpath(policy_path) == os.path.realpath(default_policy_path())
    policy_info = {"path": "(packaged default)" if packaged else policy_path, "sha256": policy.sha256}
    from .manifest import summary

    if opts.dry_run:
        info = summary(records, plan, files, policy=policy_info, validated=validated, outputs=[],
                       quarantine=None, bad_per_file=records.bad_per_file or {})
        return FilterRun(records, plan, info, files)
    info = _write(opts, files, records, plan, policy_info, validated)
    return FilterRun(records, plan, info, files, written_to=opts.out)


def _check_destinations(opts: FilterOptions, files: list[InputFile]) -> None:
    from .writers import check_output_dir, refuse_unwritable

    if not opts.out:
        raise AuditError("No output directory given (use -o OUT/).")
    refuse_unwritable(files)     # before the scan: a refusal after minutes of scanning helps nobody
    inputs = list(opts.paths) + [f.path for f in files]
    if opts.from_annotations:
        inputs.append(opts.from_annotations)
    check_output_dir(opts.out, inputs)
    if opts.quarantine:
        check_output_dir(opts.quarantine, inputs, "quarantine directory")
        a, b = os.path.realpath(opts.out), os.path.realpath(opts.quarantine)
        if a == b or os.path.commonpath([a, b]) in (a, b):
            raise AuditError("The quarantine directory must not be the output directory or inside it (or contain it).")


def _scan(opts: FilterOptions, policy_path: str, files: list[InputFile], *, score_all: bool, fields) -> tuple:
    from ..engine import ScanOptions, run_scan

    with tempfile.TemporaryDirectory(prefix="collapse-audit-filter-") as tmp:
        path = os.path.join(tmp, "annotations.parquet")
        result = run_scan(ScanOptions(
            paths=[f.path for f in files], policy=policy_path, text_field=opts.text_field, detector=opts.detector,
            sample=0 if score_all else None, max_bad_records=opts.max_bad_records, seed=opts.seed,
            workers=opts.workers, batch_size=opts.batch_size, annotations=path, eval_sets=list(opts.eval_sets),
            progress=opts.progress,
        ))
        return load_annotations(path, fields), result.to_dict()   # the plan reads the result's JSON form


def _load_result(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            result = json.load(fh)
    except FileNotFoundError:
        raise AuditError(f"Scan result not found: {path}.") from None
    except (OSError, ValueError) as exc:
        raise AuditError(f"{path} is not a scan result JSON file ({exc}).") from None
    if not isinstance(result, dict) or "metrics" not in result:
        raise AuditError(f"{path} is not a scan result JSON file (write one with `scan --format json -o FILE`).")
    return result


def _write(opts: FilterOptions, files: list[InputFile], records: RecordTable, plan: Plan, policy_info: dict,
           validated: tuple) -> dict:
    from ..engine.progress import progress_bar
    from .manifest import removed_table, summary, write_manifest
    from .writers import Route, StagedDir, output_names, shard_names, write_input

    out = StagedDir(cast(str, opts.out))  # _check_destinations refused a run without one
    quarantine = StagedDir(opts.quarantine) if opts.quarantine else None
    try:
        names = output_names(files)
        kept = plan.kept
        outputs: list[dict] = []
        quarantined: list[dict] = []
        with progress_bar(opts.progress, "writing") as advance:
            for i, info in enumerate(files):
                mine = records.file_range(i)
                rows = records.row[mine]
                dest = np.zeros(int(rows.max()) + 1 if len(rows) else 0, dtype=np.uint8)
                dest[rows[kept[mine]]] = 1
                routes = {1: Route(out, shard_names(names[i], int(kept[mine].sum()), opts.max_records_per_file),
                                   opts.max_records_per_file)}
                if quarantine is not None:
                    dest[rows[~kept[mine]]] = 2
                    routes[2] = Route(quarantine, shard_names(names[i], int((~kept[mine]).sum()),
                                                              opts.max_records_per_file), opts.max_records_per_file)
                write_input(info, dest, routes, opts.row_group_size, advance)
                outputs += [{"file": n, "records": c, "from": info.path} for n, c in routes[1].written]
                if quarantine is not None:
                    quarantined += [{"file": n, "records": c, "from": info.path} for n, c in routes[2].written]
        _verify_counts(outputs, int(kept.sum()), "kept")
        if quarantine is not None:
            _verify_counts(quarantined, int((~kept).sum()), "quarantined")
        manifest = summary(records, plan, files, policy=policy_info, validated=validated, outputs=outputs,
                           quarantine=quarantined if quarantine is not None else None,
                           bad_per_file=records.bad_per_file or {})
        write_manifest(out, removed_table(records, plan), manifest)
        if quarantine is not None:
            quarantine.commit()
        out.commit()
        return manifest
    except BaseException:
        out.abort()
        if quarantine is not None:
            quarantine.abort()
        raise


def _verify_counts(written: list[dict], expected: int, what: str) -> None:
    got = sum(w["records"] for w in written)
    if got != expected:   # the inputs changed between the passes
        raise AuditError(f"Wrote {got} {what} records but planned {expected}: an input changed while it was "
                         "being filtered; nothing was written.")
