"""One scan, one direction: discover -> read -> prepare/observe -> finish -> policy -> result."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

import numpy as np

from .. import __version__
from ..checks.base import Check, CheckResult
from ..checks.registry import build_checks
from ..checks.synthetic import DetectorOptions
from ..config import FieldMap, ScanConfig
from ..errors import AuditError
from ..policy import Policy, load_policy, resolve_policy_path
from ..policy.evaluate import evaluate_rules
from ..readers import (
    BadRecordSink,
    InputFile,
    InputStats,
    RecordBatch,
    discover,
    discover_inputs,
    iter_batches,
)
from ..reports.result import SCHEMA_VERSION
from .annotations import AnnotationCollector
from .parallel import prepared_batches
from .progress import progress_bar
from .sample import choose_sample
from .sources import SourceIndex


@dataclass
class ScanOptions:
    paths: list[str]
    policy: str | None = None
    text_field: str | None = None
    detector: str | None = None
    sample: int | None = None
    max_bad_records: int = 0
    seed: int = 0
    workers: int = 1
    batch_size: int = 4096
    annotations: str | None = None
    baseline: str | None = None
    eval_sets: list[str] = field(default_factory=list)
    progress: bool = True
    argv: list[str] = field(default_factory=list)
    split: str | None = None  # [readers] which split of a saved dataset folder (--split)


def scan_config(policy: Policy, opts: ScanOptions) -> ScanConfig:
    fields: FieldMap = policy.fields
    if opts.text_field:
        fields = replace(fields, text=opts.text_field)
    det = policy.options.get("detector") or DetectorOptions()
    detector = replace(det, name=opts.detector or det.name, sample=det.sample if opts.sample is None else opts.sample)
    return ScanConfig(fields=fields, options={**policy.options, "detector": detector},
                      seed=opts.seed, workers=max(1, opts.workers), batch_size=opts.batch_size,
                      baseline=opts.baseline, eval_sets=tuple(opts.eval_sets))


def read_batches(inputs: list[InputFile] | list[str], config: ScanConfig,
                 sink: BadRecordSink, stats: InputStats | None = None) -> Iterator[RecordBatch]:
    """The records of ``inputs`` (discovered files, or PATH arguments) as batches carrying the
    policy's fields; shared by scan, profile and eval-set loading."""
    files = inputs
    if not all(isinstance(f, InputFile) for f in inputs):
        files = discover([str(p) for p in inputs])
    return iter_batches(files, config.fields.text, config.fields.metadata_fields(), config.batch_size, sink,
                        stats=stats)  # [readers] size/fingerprint/schema collector


def _load_resources(config: ScanConfig, files: list[InputFile]) -> dict[str, Any]:
    from ..detectors.registry import load_detector

    det = config.option("detector") or DetectorOptions()
    resources: dict[str, Any] = {
        "detector": load_detector(det.name, det.detector_options()),
        "sample_rows": choose_sample(files, det.sample, config.seed),
    }
    if config.baseline or config.eval_sets:
        from ..signals.resources import load_resources

        def read(paths: list[str]) -> Iterator[RecordBatch]:
            return read_batches(list(paths), config, BadRecordSink(max_bad=0))

        resources.update(load_resources(config, read))
    return resources


def run_scan(opts: ScanOptions) -> dict[str, Any]:
    """Run a full audit and return the result object (and write annotations if asked)."""
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    policy_path = resolve_policy_path(opts.policy)
    policy = load_policy(policy_path)
    config = scan_config(policy, opts)
    discovery = discover_inputs(opts.paths, opts.split)  # [readers] files + skipped_inputs
    files = discovery.files
    stats = InputStats(tuple(config.fields.metadata_fields()))  # [readers]
    sink = BadRecordSink(max_bad=opts.max_bad_records)
    resources = _load_resources(config, files)
    checks: list[Check] = build_checks(config, resources)
    sources = SourceIndex(config.fields.source)
    collector = AnnotationCollector(config.fields.id) if opts.annotations else None
    per_file = [0] * len(files)

    total = 0
    with progress_bar(opts.progress, "scanning") as advance:
        batches = read_batches(files, config, sink, stats)  # [readers]
        for batch, prepared in prepared_batches(checks, batches, config.workers):
            for check, prep in zip(checks, prepared):
                check.observe(batch, prep)
            sources.observe(batch)
            if collector is not None:
                collector.observe(batch)
            per_file[batch.file_index] += len(batch)
            total += len(batch)
            advance(len(batch))
    if total == 0:
        if sink.count:
            raise AuditError(f"No readable records: all {sink.count} records were unreadable "
                             f"(first: {sink.examples[0].sentence()}).")
        raise AuditError(f"No records found in {', '.join(f.path for f in files)} (the input is empty).")

    results: dict[str, CheckResult] = {c.name: c.finish() for c in checks}
    metrics: dict[str, float] = {"records.total": total, "records.skipped": sink.count}
    flags: dict[str, np.ndarray] = {}
    for res in results.values():
        metrics.update(res.metrics)
        flags.update(res.flags)
    metrics.update(_cross_check_metrics(results, resources))
    groups = sources.per_source_metrics(checks, results)
    rules, verdict, issues = evaluate_rules(policy.rules, metrics, groups, flags, sources, total)

    detector = resources["detector"]
    result: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "collapse-audit", "version": __version__},
        "run": {
            "started": started.isoformat(timespec="seconds"),
            "duration_s": round(time.perf_counter() - t0, 3),
            "workers": config.workers,
            "seed": config.seed,
            "argv": list(opts.argv),
        },
        "inputs": [
            {"path": f.path, "format": f.format, "compression": f.compression, "records": per_file[i],
             "skipped": sink.per_file.get(f.path, 0), **stats.entry(i)}  # [readers] size, fingerprint
            for i, f in enumerate(files)
        ],
        "skipped_inputs": [s.to_json() for s in discovery.skipped],  # [readers]
        "records": {"total": total, "skipped": sink.count,
                    "skipped_examples": [b.to_json() for b in sink.examples]},
        "detector": {**detector.describe(), "scored": int(metrics.get("synthetic.scored", 0)),
                     "sample": config.option("detector").sample},
        "policy": {"path": policy_path if policy_path != _packaged() else "(packaged default)",
                   "sha256": policy.sha256, "fields": _fields_json(config.fields)},
        "metrics": {k: _num(v) for k, v in metrics.items()},
        "sources": {"field": config.fields.source, "groups": groups},
        "rules": rules,
        "details": {name: res.details for name, res in results.items() if res.details},
        "verdict": verdict,
    }
    if collector is not None:
        collector.write(opts.annotations, results, issues)
    return result


def _cross_check_metrics(results: dict[str, CheckResult], resources: dict[str, Any]) -> dict[str, float]:
    """Metrics that combine two checks' outputs; checks stay independent, the engine joins them."""
    out: dict[str, float] = {}
    baseline = resources.get("baseline")
    if baseline is not None and "synthetic" in results:
        from ..signals.drift import score_psi

        scores = np.array(results["synthetic"].columns["synthetic_score"], dtype=np.float64)
        out["drift.score_psi"] = score_psi(baseline.scores, scores=scores)
    return out


def _packaged() -> str:
    from ..policy import default_policy_path

    return default_policy_path()


def _fields_json(f: FieldMap) -> dict[str, Any]:
    return {"text": f.text, "id": f.id, "provenance": f.provenance, "source": f.source, "license": f.license,
            "synthetic_values": list(f.synthetic_values), "human_values": list(f.human_values),
            "required": list(f.required),
            "license_allowlist": None if f.license_allowlist is None else list(f.license_allowlist)}


def _num(v: Any) -> Any:
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        v = float(v)
        if v != v or v in (float("inf"), float("-inf")):
            return None
        return v
    return v


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1
