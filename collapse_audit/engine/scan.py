"""One scan, one direction: discover -> read -> prepare/observe -> finish -> policy -> ``ScanResult``.

``stream`` is the one reading loop: every command that reads a corpus (``scan``, ``profile``) runs
its steps through it, so batching, the worker pool, bad-record accounting and progress behave the
same everywhere.
"""

from __future__ import annotations

import functools
import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Protocol

import numpy as np

from ..checks.base import CheckResult
from ..checks.registry import build_checks
from ..checks.synthetic import DetectorOptions, detector_reference, load_calibration
from ..config import FieldMap, ScanConfig
from ..errors import AuditError
from ..policy import Policy, find_policy, load_policy
from ..policy.accept import accepted_document, accepted_masks, dump_accepted, load_accepted
from ..policy.evaluate import evaluate_rules
from ..policy.load import require_active_rules
from ..policy.provenance import DERIVED_PREFIX, ProvenanceDerivation
from ..policy.selection import select_rules
from ..readers import (
    BadRecordSink,
    InputFile,
    InputStats,
    RecordBatch,
    discover,
    discover_inputs,
    iter_batches,
)
from ..result import InputEntry, ScanResult, SkippedInput
from ..version import __version__
from .annotations import AnnotationCollector
from .parallel import prepared_batches
from .progress import input_total, progress_bar, wanted
from .sample import choose_sample
from .shards import ShardState, read_options
from .sources import SourceIndex

PACKAGED_POLICY = "(packaged default)"
#: an eval set is reference data, read whole: --max-bad-records tolerates corpus records only (a skipped eval
#: record would silently shrink what contamination is checked against)
REFERENCE_HINT = ("an eval set is read whole, --max-bad-records applies to the corpus only: fix or remove that "
                  "record, or pass a cleaned copy of the eval set")


@dataclass
class ScanOptions:
    """Everything a scan may be told besides the policy file's contents (CLI flags, API keywords)."""

    paths: list[str]
    policy: str | Policy | None = None
    text_field: str | None = None
    id_field: str | None = None
    provenance_field: str | None = None
    source_field: str | None = None
    detector: str | None = None
    sample: int | None = None
    max_bad_records: int = 0
    seed: int = 0
    workers: int = 1
    batch_size: int = 4096
    annotations: str | None = None
    baseline: str | None = None
    eval_sets: list[str] = field(default_factory=list)
    select: list[str] = field(default_factory=list)
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    accept: str | None = None
    write_accept: str | None = None
    progress: bool = True
    argv: list[str] = field(default_factory=list)
    split: str | None = None  # [readers] which split of a saved dataset folder (--split)
    engine: str = "local"                 # local | ray (engine/local.py, engine/ray_engine.py)
    ray_address: str | None = None
    shard: tuple[int, int] | None = None  # (i, N): read only shard i of N (with ``partial``)
    partial: str | None = None            # write this shard's state here instead of a result
    against: str | None = None            # an earlier snapshot's state directory (seen-before check)
    calibration: str | None = None       # --calibration: detector calibration file (overrides the policy)
    human_reference: str | None = None   # --human-reference: trusted human-only records (overrides the policy)


class Step(Protocol):
    """One unit of work over the record stream (a check, or the profile builder)."""

    def prepare(self, batch: RecordBatch) -> Any:
        """Pure per-batch work; may run in a worker process."""

    def observe(self, batch: RecordBatch, prepared: Any) -> None:
        """Fold one batch into the state, in input order, in this process."""


def scan_config(policy: Policy, opts: ScanOptions) -> ScanConfig:
    """The policy's settings with the command line's overrides (fields, detector, sample, seed...)."""
    fields: FieldMap = policy.fields
    fields = replace(fields, text=opts.text_field or fields.text, id=opts.id_field or fields.id,
                     provenance=opts.provenance_field or fields.provenance,
                     source=opts.source_field or fields.source)
    if policy.provenance is not None:
        fields = replace(fields, provenance=policy.provenance.key(fields.provenance))
    det = policy.options.get("detector") or DetectorOptions()
    detector = replace(det, name=opts.detector or det.name, sample=det.sample if opts.sample is None else opts.sample)
    if opts.calibration or opts.human_reference:  # a command-line calibration replaces the policy's
        detector = replace(detector, calibration=opts.calibration, human_reference=opts.human_reference)
    return ScanConfig(fields=fields, options={**policy.options, "detector": detector},
                      seed=opts.seed, workers=max(1, opts.workers), batch_size=opts.batch_size,
                      baseline=opts.baseline, eval_sets=tuple(opts.eval_sets))


def _derivation_source(config: ScanConfig, derivation: ProvenanceDerivation) -> str | None:
    key = config.fields.provenance or ""
    return derivation.field or (key[len(DERIVED_PREFIX):] if key.startswith(DERIVED_PREFIX) else None)


def read_fields(config: ScanConfig, derivation: ProvenanceDerivation | None = None) -> list[str]:
    """The record fields the readers must read: the policy's, and the field a derived tag comes from."""
    wanted = [f for f in config.fields.metadata_fields() if not f.startswith(DERIVED_PREFIX)]
    source = _derivation_source(config, derivation) if derivation is not None else None
    if source and source not in wanted and source != config.fields.text:
        wanted.append(source)
    return wanted


def read_batches(inputs: Sequence[InputFile] | Sequence[str], config: ScanConfig, sink: BadRecordSink,
                 derivation: ProvenanceDerivation | None = None,
                 stats: InputStats | None = None) -> Iterator[RecordBatch]:
    """The records of ``inputs`` (discovered files, or PATH arguments) as batches carrying the
    policy's fields (a derived provenance tag included); shared by scan, profile and eval sets."""
    files: list[InputFile]
    if all(isinstance(f, InputFile) for f in inputs):
        files = [f for f in inputs if isinstance(f, InputFile)]
    else:
        files = discover([str(p) for p in inputs])
    batches = iter_batches(files, read_options(config, read_fields(config, derivation)), sink=sink,
                           stats=stats)  # [readers] size/fingerprint/schema collector
    source = _derivation_source(config, derivation) if derivation is not None else None
    if derivation is None or source is None or config.fields.provenance is None:
        return batches
    return _derive(batches, derivation, source, config.fields.provenance)


def _derive(batches: Iterator[RecordBatch], derivation: ProvenanceDerivation, source: str,
            key: str) -> Iterator[RecordBatch]:
    for batch in batches:
        values = batch.fields.get(source, [None] * len(batch))
        batch.fields[key] = [derivation.tag(v) for v in values]
        yield batch


def stream(steps: Sequence[Step], batches: Iterator[RecordBatch], n_files: int, workers: int, *,
           progress: bool, label: str,
           observers: Sequence[Callable[[RecordBatch], None]] = (), total: int | None = None) -> list[int]:
    """The one reading loop: every step's ``prepare`` on the worker pool, ``observe`` in input order.

    Returns the number of records read per file index.
    """
    per_file = [0] * n_files
    with progress_bar(progress, label, total) as advance:
        for batch, prepared in prepared_batches(list(steps), batches, workers):  # type: ignore[arg-type]
            for step, prep in zip(steps, prepared, strict=True):
                step.observe(batch, prep)
            for observe in observers:
                observe(batch)
            per_file[batch.file_index] += len(batch)
            advance(len(batch))
    return per_file


def no_records_error(files: Sequence[InputFile], sink: BadRecordSink) -> AuditError:
    """The error for a scan that read nothing: all records unreadable, or an empty input."""
    if sink.count:
        return AuditError(f"No readable records: all {sink.count} records were unreadable "
                          f"(first: {sink.examples[0].sentence()}).")
    return AuditError(f"No records found in {', '.join(f.path for f in files)} (the input is empty).")


def _load_resources(config: ScanConfig, files: list[InputFile],
                    derivation: ProvenanceDerivation | None, against: str | None = None,
                    sample: bool = True) -> dict[str, Any]:
    from ..detectors.registry import load_detector

    det = config.option("detector") or DetectorOptions()
    detector = load_detector(det.name, det.detector_options())
    resources: dict[str, Any] = {
        "detector": detector,
        "sample_rows": choose_sample(files, det.sample, config.seed) if sample else None,
        # what the share estimate compares the corpus with, checked before anything is read
        "applicability_reference": detector_reference(detector),
        "calibration": load_calibration(det, detector),
    }
    if against:
        from .against import load_previous

        resources["previous"] = load_previous(against, config)
    if config.baseline or config.eval_sets:
        from ..signals.resources import load_resources

        def read(paths: list[str]) -> Iterator[RecordBatch]:
            return read_batches(list(paths), config, BadRecordSink(max_bad=0, hint=REFERENCE_HINT), derivation)

        resources.update(load_resources(config, read))
    return resources


def load_scan_policy(opts: ScanOptions) -> Policy:
    """The policy the scan applies: the given object, ``--policy``, a discovered one, or the default."""
    if isinstance(opts.policy, Policy):
        return opts.policy
    where = find_policy(opts.policy)
    return load_policy(where.path, where.source)


def _available(config: ScanConfig, against: str | None = None) -> Callable[[str], bool]:
    def available(metric: str) -> bool:
        if metric.startswith("duplicates.against_"):
            return bool(against)
        if metric.startswith("drift."):
            return bool(config.baseline)
        if metric.startswith("contamination."):
            return bool(config.eval_sets)
        return True
    return available


@dataclass
class _Setup:
    """What a scan knows before reading: policy, settings, inputs and loaded resources."""

    policy: Policy
    config: ScanConfig
    rules: Any
    accept_path: str | None
    accepted: Any
    discovery: Any
    files: list[InputFile]
    resources: dict[str, Any]
    keep_keys: bool


def _setup(opts: ScanOptions, discovery: Any = None, sample: bool = True) -> _Setup:
    policy = load_scan_policy(opts)
    config = scan_config(policy, opts)
    rules = select_rules(policy.rules, opts.select, opts.extend_select, opts.ignore, _available(config, opts.against))
    require_active_rules(rules, policy, bool(opts.select or opts.extend_select or opts.ignore))
    accept_path = opts.accept or policy.accept
    accepted = load_accepted(accept_path) if accept_path else None
    if discovery is None:
        discovery = discover_inputs(opts.paths, opts.split)  # [readers] files + skipped_inputs
    files = discovery.files
    resources = _load_resources(config, files, policy.provenance, opts.against, sample=sample)
    keep_keys = bool(opts.annotations or accepted or opts.write_accept)
    return _Setup(policy, config, rules, accept_path, accepted, discovery, files, resources, keep_keys)


def _read(opts: ScanOptions, s: _Setup) -> ShardState:
    """Read the inputs (or this shard of them) into the checks' merged state, with the engine asked for."""
    from .excerpts import fill_excerpts
    from .shards import plan_shards, scan_shard

    config, files = s.config, s.files
    transform = batch_transform(config, s.policy.provenance)
    fields = read_fields(config, s.policy.provenance)
    total = input_total(files) if wanted(opts.progress) and opts.shard is None else None
    if opts.engine == "ray":
        from .ray_engine import scan_ray

        with progress_bar(opts.progress, "scanning", total) as advance:
            from .local import SHARDS_PER_WORKER

            # as many shards as the local engine with the same -w: the same shard plan, the same JSON
            state = scan_ray(files, config, s.resources, opts.ray_address, opts.max_bad_records, s.keep_keys,
                             shards=config.workers * SHARDS_PER_WORKER, fields=fields, transform=transform,
                             advance=advance)
    elif (opts.shard is not None and opts.shard[1] > 1) or config.workers > 1:
        if opts.shard is not None and opts.shard[1] > 1:
            i, n = opts.shard
            pieces = plan_shards(files, n)[i]
            with progress_bar(opts.progress, f"scanning shard {i}/{n}") as advance:
                state = scan_shard(files, pieces, config, build_checks(config, s.resources), opts.max_bad_records,
                                   s.keep_keys, advance, fields=fields, transform=transform)
        else:
            from .local import scan_sharded

            with progress_bar(opts.progress, "scanning", total) as advance:
                state = scan_sharded(files, config, s.resources, config.workers, opts.max_bad_records, s.keep_keys,
                                     advance, fields=fields, transform=transform)
    else:
        sink = BadRecordSink(max_bad=opts.max_bad_records)
        stats = InputStats(tuple(fields))  # [readers]
        state = ShardState(checks=build_checks(config, s.resources), sources=SourceIndex(config.fields.source),
                           collector=AnnotationCollector(config.fields.id) if s.keep_keys else None, stats=stats)
        observers = [state.sources.observe] + ([state.collector.observe] if state.collector is not None else [])
        batches = read_batches(files, config, sink, s.policy.provenance, stats)
        per_file = stream(state.checks, batches, len(files), 1, progress=opts.progress, label="scanning",
                          observers=observers, total=total)
        state.per_file = {i: n for i, n in enumerate(per_file) if n}
        state.total = sum(per_file)
        state.skipped, state.skipped_per_file = sink.count, dict(sink.per_file)
        state.skipped_examples = list(sink.examples)
    state.check_bad(opts.max_bad_records)
    if opts.partial is None:
        fill_excerpts(state.checks, files, read_options(config))
    return state


def run_scan(opts: ScanOptions) -> ScanResult:
    """Run a full audit and return its result (writing annotations / accepted findings if asked)."""
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    s = _setup(opts)
    state = _read(opts, s)
    return finish_scan(opts, s, state, started, t0)


#: rules whose metric rests on a field of the policy: metric prefix -> (field attribute, policy key, CLI flag)
_FIELD_OF_METRIC = (
    ("provenance.disallowed_license", "license", "fields.license", None),
    ("provenance.", "provenance", "fields.provenance", "--provenance-field"),
    ("synthetic.declared", "provenance", "fields.provenance", "--provenance-field"),
)


def _diagnose_fields(rules: list[Any], fields: FieldMap, stats: Any) -> None:
    """Say so in a rule's message when the field its metric rests on exists in none of the inputs
    (every record then "lacks a provenance tag" because the policy names the wrong column)."""
    if stats is None:
        return
    for rule in rules:
        if rule.status == "pass":
            continue
        for prefix, attr, key, flag in _FIELD_OF_METRIC:
            name = getattr(fields, attr)
            if rule.metric.startswith(prefix) and name:
                note = stats.missing_field_message(name, key, flag)
                if note:
                    rule.message = f"{rule.message} ({note.rstrip('.')})"
                break


def finish_scan(opts: ScanOptions, s: _Setup, state: ShardState, started: datetime, t0: float) -> ScanResult:
    """Finish the checks of a (merged) state, apply the policy and build the result."""
    policy, config, files, resources = s.policy, s.config, s.files, s.resources
    checks, sources, collector, stats = state.checks, state.sources, state.collector, state.stats
    sink = state.sink(opts.max_bad_records)
    per_file = [state.per_file.get(i, 0) for i in range(len(files))]
    total = sum(per_file)
    if total == 0:
        raise no_records_error(files, sink)

    results: dict[str, CheckResult] = {c.name: c.finish() for c in checks}
    metrics: dict[str, float] = {"records.total": total, "records.skipped": sink.count}
    flags: dict[str, np.ndarray] = {}
    for res in results.values():
        metrics.update(res.metrics)
        flags.update(res.flags)
    metrics.update(_cross_check_metrics(results, resources))
    groups = sources.per_source_metrics(checks, results)
    masks = None
    if s.accepted is not None and collector is not None:
        masks = accepted_masks(s.accepted, *collector.keys())
    evaluation = evaluate_rules(s.rules, metrics, groups, flags, sources, total,
                                on_inconclusive="warn" if policy.on_inconclusive == "warn" else "fail",
                                accepted=masks, where_missing=policy.where_missing, policy_path=policy.path)
    _diagnose_fields(evaluation.rules, config.fields, stats)

    detector = resources["detector"]
    run = {
        "started": started.isoformat(timespec="seconds"),
        "duration_s": round(time.perf_counter() - t0, 3),
        "workers": config.workers,
        "seed": config.seed,
        "argv": list(opts.argv),
    }
    if opts.engine != "local":
        run["engine"] = opts.engine
    result = ScanResult(
        tool={"name": "collapse-audit", "version": __version__},
        run=run,
        inputs=[InputEntry(path=f.path, format=f.format, compression=f.compression, records=per_file[i],
                           skipped=sink.per_file.get(f.path, 0), **stats.entry(i))  # [readers] size, fingerprint
                for i, f in enumerate(files)],
        skipped_inputs=[SkippedInput(k.path, k.reason) for k in s.discovery.skipped],  # [readers]
        records={"total": total, "skipped": sink.count,
                 "skipped_examples": [b.to_json() for b in sink.examples]},
        detector={**detector.describe(), "scored": int(metrics.get("synthetic.scored", 0)),
                  "sample": config.option("detector").sample,
                  "applicability": _applicability(results)},
        policy=_policy_json(policy, config, opts, s.accept_path),
        metrics={k: _num(v) for k, v in metrics.items()},
        sources={"field": config.fields.source, "groups": groups},
        rules=evaluation.rules,
        details={name: res.details for name, res in results.items() if res.details},
        verdict=evaluation.verdict,
    )
    if collector is not None and opts.annotations:
        collector.write(opts.annotations, results, evaluation.issues,
                        inputs=[{"path": e.path, "size": e.size, "fingerprint": e.fingerprint} for e in result.inputs])
    if collector is not None and opts.write_accept:
        doc = accepted_document(opts.write_accept, evaluation.findings, *collector.keys())
        _write_text(opts.write_accept, dump_accepted(opts.write_accept, doc))
    return result


def batch_transform(config: ScanConfig, derivation: ProvenanceDerivation | None) -> Any:
    """The per-batch rewrite a scan applies after reading (a derived provenance tag), or None;
    picklable, so shard workers apply it too."""
    source = _derivation_source(config, derivation) if derivation is not None else None
    if derivation is None or source is None or config.fields.provenance is None:
        return None
    return functools.partial(_derive, derivation=derivation, source=source, key=config.fields.provenance)


def _applicability(results: dict[str, CheckResult]) -> dict[str, Any] | None:
    """The synthetic check's applicability block (contract: state, reason, tests, calibration)."""
    res = results.get("synthetic")
    return res.details.get("applicability") if res is not None else None


def _write_text(path: str, text: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise AuditError(f"Cannot write {path}: {exc.strerror or exc}.") from None


def _policy_json(policy: Policy, config: ScanConfig, opts: ScanOptions, accept: str | None) -> dict[str, Any]:
    """Which policy was applied, from where, and how the command line changed it."""
    packaged = policy.source == "packaged default"
    out: dict[str, Any] = {
        "path": PACKAGED_POLICY if packaged else policy.path,
        "source": policy.source,
        "sha256": policy.sha256,
        "on_inconclusive": policy.on_inconclusive,
        "fields": _fields_json(config.fields),
    }
    if opts.select or opts.extend_select or opts.ignore:
        out["selection"] = {"select": list(opts.select), "extend_select": list(opts.extend_select),
                            "ignore": list(opts.ignore)}
    if accept:
        out["accept"] = os.path.basename(accept)
    return out


def _cross_check_metrics(results: dict[str, CheckResult], resources: dict[str, Any]) -> dict[str, float]:
    """Metrics that combine two checks' outputs; checks stay independent, the engine joins them."""
    out: dict[str, float] = {}
    baseline = resources.get("baseline")
    if baseline is not None and "synthetic" in results:
        from ..signals.drift import score_psi

        scores = np.array(results["synthetic"].columns["synthetic_score"], dtype=np.float64)
        out["drift.score_psi"] = score_psi(baseline.scores, scores=scores)
    return out


def _fields_json(f: FieldMap) -> dict[str, Any]:
    return {"text": f.text, "id": f.id, "provenance": f.provenance, "source": f.source, "license": f.license,
            "synthetic_values": list(f.synthetic_values), "human_values": list(f.human_values),
            "required": list(f.required),
            "license_allowlist": None if f.license_allowlist is None else list(f.license_allowlist)}


def _num(v: object) -> float | None:
    """A metric as a JSON number: numpy scalars to Python, NaN/inf (and non-numbers) to null."""
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return f if math.isfinite(f) else None
    return None


def default_workers() -> int:
    """All CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1
