"""``scan --partial`` and ``collapse-audit merge``: a scan in shards, written and merged later.

``run_partial`` reads one shard (``--shard i/N``; the whole input without it) and writes its state
directory (``engine.partials``) instead of a result. ``run_merge`` loads the partials in shard
order, checks that they belong together and to this policy, merges them, reads back the few
excerpts no shard kept, and finishes exactly as ``run_scan`` does - the same result as one scan
apart from ``run``.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from ..checks.near_duplicates import NearDuplicates
from ..errors import AuditError
from ..readers import InputFile
from ..readers.discover import Discovery, Skipped
from ..result import ScanResult
from .excerpts import fill_excerpts
from .partials import (
    MAX_SHARDS,
    check_partials,
    listing_fingerprint,
    load_partial,
    manifest_for,
    prepare_partial_dir,
    read_manifest,
    save_partial,
)
from .scan import ScanOptions, _read, _setup, finish_scan
from .shards import describe, plan_shards, read_options


def _options(opts: ScanOptions, s: Any) -> dict[str, Any]:
    """What must be the same for partials to merge, besides policy, seed and inputs."""
    det = s.config.option("detector")
    return {"near_duplicates": dataclasses.asdict(NearDuplicates.options_from(s.config)),
            "detector": det.name, "sample": det.sample, "baseline": opts.baseline,
            "eval_sets": list(opts.eval_sets), "eval_text_field": opts.eval_text_field, "against": opts.against,
            "text_field": s.config.fields.text}


def run_partial(opts: ScanOptions) -> dict[str, Any]:
    """Scan one shard and write its state to ``opts.partial``; returns the manifest."""
    if opts.engine == "ray":
        raise AuditError("--engine ray scans the whole input on the cluster and cannot write one shard's "
                         "partial state: drop --engine ray to scan a shard, or drop --shard/--partial.")
    shard = opts.shard or (0, 1)
    i, n = shard
    if not 0 <= i < n <= MAX_SHARDS:
        raise AuditError(f"--shard {i}/{n}: a shard is I/N with 0 <= I < N <= {MAX_SHARDS:,}.")
    prepare_partial_dir(opts.partial or "")   # refused before the scan, not after it
    opts = replace(opts, shard=shard)
    s = _setup(opts)
    s.keep_keys = True                    # annotations and accepted findings are decided at merge time
    state = _read(opts, s)
    inputs = [{"path": f.path, "format": f.format, "compression": f.compression} for f in s.files]
    manifest = manifest_for(shard, inputs, describe(plan_shards(s.files, shard[1])[shard[0]], s.files),
                            s.policy.sha256, s.config.seed, _options(opts, s), listing_fingerprint(s.files))
    manifest["skipped_inputs"] = [{"path": k.path, "reason": k.reason} for k in s.discovery.skipped]
    return save_partial(opts.partial or "", state, manifest)


def merge_inputs(directories: list[str]) -> list[str]:
    """What a merge reads: the partial directories and the corpus files their shards scanned (for the
    output guard: ``merge -o`` must not overwrite either)."""
    out = list(directories)
    for d in directories:
        try:
            out += [str(i["path"]) for i in read_manifest(d)["inputs"] if isinstance(i, dict) and "path" in i]
        except AuditError:
            continue  # the merge itself names the partial that is not one
    return out


def run_merge(opts: ScanOptions, directories: list[str]) -> ScanResult:
    """Merge partial states (any order) into the one-scan result."""
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    ordered = check_partials([(d, read_manifest(d)) for d in directories])
    first_dir, first = ordered[0]
    files = [InputFile(i["path"], i["format"], i["compression"]) for i in first["inputs"]]
    skipped = [Skipped(k["path"], k["reason"]) for k in first.get("skipped_inputs", [])]
    discovery = Discovery(files=files, skipped=skipped)
    opts = replace(opts, seed=int(first["seed"]), paths=[f.path for f in files])
    s = _setup(opts, discovery=discovery, sample=False)
    if s.policy.sha256 != first["policy_sha256"]:
        raise AuditError(f"Partial state {first_dir} was scanned with another policy (sha256 "
                         f"{first['policy_sha256'][:12]}...); merge with the same policy (this one is "
                         f"{s.policy.sha256[:12]}...).")
    mine = _options(opts, s)
    for key, value in first["options"].items():
        if mine.get(key) != value:
            raise AuditError(f"Partial state {first_dir} was scanned with {key} = {value!r}; this merge has "
                             f"{mine.get(key)!r} (give merge the same options as the scans).")
    merged = None
    for directory, manifest in ordered:
        state = load_partial(directory, manifest, s.config, s.resources)
        if merged is None:
            merged = state
        else:
            merged.merge(state)
    assert merged is not None
    merged.check_bad(opts.max_bad_records)
    try:
        fill_excerpts(merged.checks, files, read_options(s.config))
    except OSError as exc:
        raise AuditError(f"Could not read back report excerpts from the inputs ({exc}); merge where the "
                         "inputs are readable.") from None
    if not (opts.annotations or s.accepted or opts.write_accept):
        merged.collector = None
    return finish_scan(opts, s, merged, started, t0)
