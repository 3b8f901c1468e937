"""One scan, one direction: discover -> read -> prepare/observe -> finish -> policy -> ``ScanResult``.

``stream`` is the one reading loop: every command that reads a corpus (``scan``, ``profile``) runs
its steps through it, so batching, the worker pool, bad-record accounting and progress behave the
same everywhere.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

import numpy as np

from ..checks import plugins
from ..checks.base import Check, CheckResult
from ..checks.registry import metric_spec, options_sections
from ..config import FieldMap, ScanConfig
from ..errors import AuditError
from ..policy import Policy, find_policy, load_policy
from ..policy.accept import accepted_document, accepted_masks, dump_accepted, load_accepted
from ..policy.evaluate import Evaluation, evaluate_rules
from ..policy.load import require_active_rules
from ..policy.provenance import DERIVED_PREFIX, ProvenanceDerivation
from ..policy.selection import activated_by, input_rules, select_rules, supplied_inputs
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
from .executors import EXECUTORS, ReadPlan, executor_for
from .progress import input_total, wanted
from .resources import ResourceRequest, checks_to_run, load_resources, metric_available
from .shards import ShardState, read_options

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
    eval_text_field: str | None = None    # --eval-text-field: the eval sets' text spec (as fields.text)
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
    witnesses: str | None = None         # --witnesses: auto | trained | trained+lm (overrides the policy)
    lm_sample: int | None = None         # --lm-sample: records the language-model witness scores
    device: str | None = None            # --device: where torch-based scoring runs (auto | cpu | cuda | mps)

    def __post_init__(self) -> None:
        validate_options(self)


def scan_options(paths: Any, policy: Any = None, **options: Any) -> ScanOptions:
    """The one way ``ScanOptions`` are built from what a caller gave (the CLI's flags, the Python API's
    keywords): unknown names refused, paths made strings, a single code or eval set made a list, rule
    codes split on commas; then ``ScanOptions`` validates the values."""
    from dataclasses import fields

    from ..policy.selection import parse_codes

    known = {f.name for f in fields(ScanOptions)} - {"paths", "policy"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(f"scan() got unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    for key in ("select", "extend_select", "ignore"):
        value = options.get(key)
        if value is not None:
            options[key] = parse_codes([value] if isinstance(value, str) else list(value))
    sets = options.get("eval_sets")
    if sets is not None:
        options["eval_sets"] = [os.fspath(e) for e in ([sets] if isinstance(sets, (str, os.PathLike)) else sets)]
    for key in ("accept", "write_accept", "annotations", "baseline", "partial", "against", "calibration",
                "human_reference"):
        if isinstance(options.get(key), os.PathLike):
            options[key] = os.fspath(options[key])
    if isinstance(policy, os.PathLike):
        policy = os.fspath(policy)
    path_list = [os.fspath(paths)] if isinstance(paths, (str, os.PathLike)) else [os.fspath(p) for p in paths]
    return ScanOptions(paths=path_list, policy=policy, **options)


def validate_options(opts: ScanOptions) -> None:
    """Reject options no scan can run with, with the sentence the CLI prints (an ``AuditError``): the
    command line and the Python API (``collapse_audit.scan``) build ``ScanOptions`` alike, so both
    refuse the same mistakes the same way."""
    if opts.engine not in EXECUTORS:
        raise AuditError(f"Unknown --engine '{opts.engine}' (choose from {', '.join(EXECUTORS)}).")
    for name, value, least in (("--workers", opts.workers, 1), ("--batch-size", opts.batch_size, 1),
                               ("--sample", opts.sample, 0), ("--max-bad-records", opts.max_bad_records, 0),
                               ("--seed", opts.seed, 0)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least):
            raise AuditError(f"{name} must be a whole number of at least {least} (got {value!r}).")
    if opts.shard is not None:
        _validate_shard(opts.shard, opts.partial)


def _validate_shard(shard: Any, partial: str | None) -> None:
    if partial is None:
        raise AuditError("--shard needs --partial DIR (a shard's state is merged later with `collapse-audit merge`).")
    ok = isinstance(shard, (tuple, list)) and len(shard) == 2 and all(
        isinstance(x, int) and not isinstance(x, bool) for x in shard)
    if not ok:
        raise AuditError(f"--shard must look like I/N, e.g. 0/4 (got {shard!r}).")
    i, n = shard
    if not 0 <= i < n:
        raise AuditError(f"--shard {i}/{n}: I must be between 0 and N-1.")


def scan_config(policy: Policy, opts: ScanOptions) -> ScanConfig:
    """The policy's settings with the command line's overrides (fields, detector, sample, seed...)."""
    fields: FieldMap = policy.fields
    fields = replace(fields, text=opts.text_field or fields.text, id=opts.id_field or fields.id,
                     provenance=opts.provenance_field or fields.provenance,
                     source=opts.source_field or fields.source)
    if policy.provenance is not None:
        fields = replace(fields, provenance=policy.provenance.key(fields.provenance))
    det = policy.options.get("detector") or options_sections()["detector"]()
    detector = replace(det, name=opts.detector or det.name, sample=det.sample if opts.sample is None else opts.sample)
    detector = _witness_overrides(detector, opts)
    if opts.calibration or opts.human_reference:  # a command-line calibration replaces the policy's
        detector = replace(detector, calibration=opts.calibration, human_reference=opts.human_reference)
    return ScanConfig(fields=fields, options={**policy.options, "detector": detector},
                      seed=opts.seed, workers=max(1, opts.workers), batch_size=opts.batch_size,
                      baseline=opts.baseline, eval_sets=tuple(opts.eval_sets),
                      eval_text_field=opts.eval_text_field)


def _witness_overrides(detector: Any, opts: ScanOptions) -> Any:
    """The command line's witness, language-model sample and device settings over the policy's, each
    checked against the detector options' declared choices (COLLAPSE_AUDIT_WITNESSES, read where the
    witness loads, only fills in for ``auto``)."""
    choices = {f.name: f.metadata.get("choices") or () for f in dataclasses.fields(detector)}
    if opts.witnesses is not None:
        if opts.witnesses not in choices["witnesses"]:
            raise AuditError(f"--witnesses {opts.witnesses!r} is not one of {', '.join(choices['witnesses'])}.")
        detector = replace(detector, witnesses=opts.witnesses)
    if opts.device is not None:
        if opts.device not in choices["device"] and not opts.device.startswith("cuda:"):
            raise AuditError(f"--device {opts.device!r} is not one of {', '.join(choices['device'])} (or cuda:N).")
        detector = replace(detector, device=opts.device)
    if opts.lm_sample is not None:
        detector = replace(detector, lm_sample=opts.lm_sample)
    return detector


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


def no_records_error(files: Sequence[InputFile], sink: BadRecordSink) -> AuditError:
    """The error for a scan that read nothing: all records unreadable, or an empty input."""
    if sink.count:
        return AuditError(f"No readable records: all {sink.count} records were unreadable "
                          f"(first: {sink.examples[0].sentence()}).")
    return AuditError(f"No records found in {', '.join(f.path for f in files)} (the input is empty).")


def scan_resources(config: ScanConfig, files: list[InputFile], derivation: ProvenanceDerivation | None = None,
                   against: str | None = None, sample: bool = True) -> dict[str, Any]:
    """Everything the checks this scan runs need, loaded (``engine.resources``)."""
    def read(paths: list[str], cfg: ScanConfig | None = None) -> Iterator[RecordBatch]:
        # side inputs such as eval sets come with their own fields (``cfg``) and no provenance to derive
        return read_batches(list(paths), cfg or config, BadRecordSink(max_bad=0, hint=REFERENCE_HINT),
                            derivation if cfg is None else None)

    request = ResourceRequest(config, files, read, against=against, sample=sample)
    return load_resources(request, checks_to_run(config, request))


def load_scan_policy(opts: ScanOptions) -> Policy:
    """The policy the scan applies: the given object, ``--policy``, a discovered one, or the default."""
    if isinstance(opts.policy, Policy):
        return opts.policy
    where = find_policy(opts.policy)
    return load_policy(where.path, where.source)


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
    checks: list[type[Check]] = field(default_factory=list)   # the check classes this scan runs
    activated_by: dict[str, list[str]] = field(default_factory=dict)   # input option -> rules it switched on


def _setup(opts: ScanOptions, discovery: Any = None, sample: bool = True) -> _Setup:
    policy = load_scan_policy(opts)
    config = scan_config(policy, opts)
    if discovery is None:
        discovery = discover_inputs(opts.paths, opts.split)  # [readers] files + skipped_inputs
    files = discovery.files

    def read(paths: list[str], cfg: ScanConfig | None = None) -> Iterator[RecordBatch]:
        # side inputs such as eval sets come with their own fields (``cfg``) and no provenance to derive
        return read_batches(list(paths), cfg or config, BadRecordSink(max_bad=0, hint=REFERENCE_HINT),
                            policy.provenance if cfg is None else None)

    request = ResourceRequest(config, files, read, against=opts.against, sample=sample)
    available = metric_available(request)
    # a typo in --select/--ignore or the policy's ignore: is refused before anything is loaded
    rules = select_rules(policy.rules, opts.select, opts.extend_select, opts.ignore, available,
                         policy_ignore=policy.ignore)
    selected = bool(opts.select or opts.extend_select or opts.ignore)
    if not supplied_inputs(config):  # no input can switch a rule on: say so before loading anything
        require_active_rules(rules, policy, selected)
    config = replace(config, rules=frozenset(r.id for r in rules))   # a plugin's check runs only for its rules
    accept_path = opts.accept or policy.accept
    accepted = load_accepted(accept_path) if accept_path else None
    checks = checks_to_run(config, request)
    resources = load_resources(request, checks)
    # every input can gate: --eval-set and --baseline switch on the rules that judge them
    activated = input_rules(supplied_inputs(config), policy.disabled, policy.ignore, _computable(available, resources))
    rules = select_rules(policy.rules, opts.select, opts.extend_select, opts.ignore, available, activated,
                         policy.ignore)
    require_active_rules(rules, policy, selected)
    config = replace(config, rules=frozenset(r.id for r in rules))   # the input-activated rules' checks are built in
    keep_keys = bool(opts.annotations or accepted or opts.write_accept)
    return _Setup(policy, config, rules, accept_path, accepted, discovery, files, resources, keep_keys, checks,
                  activated_by(activated, rules, policy.rules))


def _computable(available: Callable[[str], bool], resources: dict[str, Any]) -> Callable[[str], bool]:
    """``available``, and a score PSI only against a baseline profiled with scores."""
    def computable(metric: str) -> bool:
        if metric == "drift.score_psi" and not getattr(resources.get("baseline"), "scores", None):
            return False
        return available(metric)
    return computable


def _read(opts: ScanOptions, s: _Setup) -> ShardState:
    """Read the inputs (or this shard of them) into the checks' merged state, with the engine asked for."""
    from .excerpts import fill_excerpts

    config, files = s.config, s.files
    plan = ReadPlan(files=files, config=config, resources=s.resources, fields=read_fields(config, s.policy.provenance),
                    transform=batch_transform(config, s.policy.provenance), max_bad=opts.max_bad_records,
                    keep_keys=s.keep_keys, progress=opts.progress,
                    total=input_total(files) if wanted(opts.progress) and opts.shard is None else None,
                    read=functools.partial(read_batches, derivation=s.policy.provenance), checks=s.checks,
                    shard=opts.shard,
                    ray_address=opts.ray_address)
    state = executor_for(opts.engine, config.workers, opts.shard).run(plan)
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


#: the command-line flag that overrides each policy field (for the hint of a rule on a missing field)
_FIELD_FLAGS = {"text": "--text-field", "id": "--id-field", "provenance": "--provenance-field",
                "source": "--source-field"}


def _diagnose_fields(rules: list[Any], fields: FieldMap, stats: Any) -> None:
    """Say so in a rule's message when the field its metric rests on (``Metric.field``) exists in none
    of the inputs (every record then "lacks a provenance tag" because the policy names the wrong column)."""
    if stats is None:
        return
    for rule in rules:
        spec = metric_spec(rule.metric)
        attr = spec.field if spec is not None else None
        name = getattr(fields, attr) if attr else None
        if rule.status == "pass" or not name:
            continue
        note = stats.missing_field_message(name, f"fields.{attr}", _FIELD_FLAGS.get(attr or ""))
        if note:
            rule.message = f"{rule.message} ({note.rstrip('.')})"


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
    for check in checks:  # figures a check combines from other checks' results (drift's score PSI)
        metrics.update(check.combine(results))
    groups = sources.per_source_metrics(checks, results)
    masks = None
    if s.accepted is not None and collector is not None:
        masks = accepted_masks(s.accepted, *collector.keys())
    evaluation = evaluate_rules(s.rules, metrics, groups, flags, sources, total,
                                on_inconclusive="warn" if policy.on_inconclusive == "warn" else "fail",
                                accepted=masks, where_missing=policy.where_missing, policy_path=policy.path)
    _diagnose_fields(evaluation.rules, config.fields, stats)

    run = _run_entry(opts, config, started, t0)
    result = ScanResult(
        tool={"name": "collapse-audit", "version": __version__, **plugins.tool_entry()},
        run=run,
        inputs=[InputEntry(path=f.path, format=f.format, compression=f.compression, records=per_file[i],
                           skipped=sink.per_file.get(f.path, 0), **stats.entry(i))  # [readers] size, fingerprint
                for i, f in enumerate(files)],
        skipped_inputs=[SkippedInput(k.path, k.reason) for k in s.discovery.skipped],  # [readers]
        records={"total": total, "skipped": sink.count,
                 "skipped_examples": [b.to_json() for b in sink.examples]},
        detector=_detector_json(resources, metrics, config, results),
        policy={**_policy_json(policy, config, opts, s.accept_path),
                **({"activated_by": s.activated_by} if s.activated_by else {})},
        metrics={k: _num(v) for k, v in metrics.items()},
        sources={"field": config.fields.source, "groups": groups},
        rules=evaluation.rules,
        details={name: res.details for name, res in results.items() if res.details},
        verdict=evaluation.verdict,
    )
    if collector is not None:
        _write_record_outputs(opts, collector, results, evaluation, result.inputs)
    return result


def _run_entry(opts: ScanOptions, config: ScanConfig, started: datetime, t0: float) -> dict[str, Any]:
    """The result's ``run`` block: when, how long, with how many workers, which seed and argv; the
    engine only when it is not the local one (so local results stay as they always were)."""
    run: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "duration_s": round(time.perf_counter() - t0, 3),
        "workers": config.workers,
        "seed": config.seed,
        "argv": list(opts.argv),
    }
    if opts.engine != "local":
        run["engine"] = opts.engine
    return run


def _write_record_outputs(opts: ScanOptions, collector: AnnotationCollector, results: dict[str, CheckResult],
                          evaluation: Evaluation, inputs: list[InputEntry]) -> None:
    """Write what the per-record collector feeds, when asked: the ``--annotations`` Parquet file
    (stamped with each input's size and fingerprint, so a later ``filter`` can refuse changed inputs)
    and the ``--write-accept`` findings file."""
    if opts.annotations:
        collector.write(opts.annotations, results, evaluation.issues,
                        inputs=[{"path": e.path, "size": e.size, "fingerprint": e.fingerprint} for e in inputs])
    if opts.write_accept:
        doc = accepted_document(opts.write_accept, evaluation.findings, *collector.keys())
        _write_text(opts.write_accept, dump_accepted(opts.write_accept, doc))


def batch_transform(config: ScanConfig, derivation: ProvenanceDerivation | None) -> Any:
    """The per-batch rewrite a scan applies after reading (a derived provenance tag), or None;
    picklable, so shard workers apply it too."""
    source = _derivation_source(config, derivation) if derivation is not None else None
    if derivation is None or source is None or config.fields.provenance is None:
        return None
    return functools.partial(_derive, derivation=derivation, source=source, key=config.fields.provenance)


def _detector_json(resources: dict[str, Any], metrics: dict[str, float], config: ScanConfig,
                   results: dict[str, CheckResult]) -> dict[str, Any]:
    """The result's ``detector`` block: the loaded detector, what it scored and, from the check that
    scored, its applicability block (contract: state, reason, tests, calibration); empty when no check
    that ran needed a detector."""
    detector = resources.get("detector")
    if detector is None:
        return {}
    scoring = [res.details["applicability"] for res in results.values() if "applicability" in res.details]
    witnesses = [res.details["witnesses"] for res in results.values() if "witnesses" in res.details]
    return {**detector.describe(), "scored": int(metrics.get("synthetic.scored", 0)),
            "sample": config.option("detector").sample, "applicability": scoring[0] if scoring else None,
            "witnesses": witnesses[0] if witnesses else None}


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
