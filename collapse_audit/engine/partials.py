"""Partial scan states on disk: one directory per shard, merged later by ``collapse-audit merge``.

A partial directory holds ``manifest.json`` (what was scanned and how: tool version, policy hash,
seed, shard ``i/N``, the inputs and this shard's pieces of them, the reading counts), one
``<check>.npz`` + ``<check>.json`` per check (``Check.to_state``), ``sources.npz/.json`` (the
per-source index) and, when annotations were asked for, ``annotations.npz/.json``. Loading never
unpickles anything (``np.load(allow_pickle=False)``; JSON for the rest).

Partials merge only when they belong together: same tool version, policy hash, seed, inputs and
shard count, and every shard ``0..N-1`` exactly once; otherwise the merge stops (exit 2) naming
the partial that does not fit.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..checks.base import Check, CheckContext
from ..checks.registry import check_named
from ..checks.state import pack_attrs, unpack_attrs
from ..config import ScanConfig
from ..errors import AuditError
from ..readers import BadRecord
from ..version import __version__
from .annotations import AnnotationCollector
from .shards import ShardState, stats_from_json, stats_json
from .sources import SourceIndex

FORMAT = "collapse-audit-partial"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_COLLECTOR_ATTRS = ("id_field", "files", "file_idx", "rows", "ids")


def _write(directory: str, stem: str, arrays: Mapping[str, np.ndarray], meta: Any) -> None:
    savez: Any = np.savez
    savez(os.path.join(directory, f"{stem}.npz"), **dict(arrays))
    with open(os.path.join(directory, f"{stem}.json"), "w", encoding="utf-8") as fh:
        json.dump(meta, fh)


def _read(directory: str, stem: str) -> tuple[Any, Any]:
    try:
        arrays = dict(np.load(os.path.join(directory, f"{stem}.npz"), allow_pickle=False))
        with open(os.path.join(directory, f"{stem}.json"), encoding="utf-8") as fh:
            meta = json.load(fh)
    except (OSError, ValueError) as exc:
        raise AuditError(f"Partial state {directory} is incomplete or damaged ({stem}: {exc}).") from None
    return arrays, meta


def save_partial(directory: str, state: ShardState, manifest: dict[str, Any]) -> dict[str, Any]:
    """Write a shard's state and its manifest (the manifest last: a directory without one is not a partial)."""
    os.makedirs(directory, exist_ok=True)
    if os.path.exists(os.path.join(directory, MANIFEST)):
        os.remove(os.path.join(directory, MANIFEST))
    for check in state.checks:
        _write(directory, f"check-{check.name}", *check.to_state())
    _write(directory, "sources", *state.sources.to_state())
    if state.collector is not None:
        _write(directory, "annotations", *pack_attrs(state.collector, _COLLECTOR_ATTRS))
    full = {
        "format": FORMAT, "format_version": FORMAT_VERSION, **manifest,
        "checks": [c.name for c in state.checks],
        "annotations": state.collector is not None,
        "reading": {"records": state.total, "per_file": {str(k): v for k, v in sorted(state.per_file.items())},
                    "skipped": state.skipped, "skipped_per_file": state.skipped_per_file,
                    "skipped_examples": [b.to_json() for b in state.skipped_examples],
                    "stats": stats_json(state.stats)},
    }
    tmp = os.path.join(directory, MANIFEST + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(full, fh, indent=1)
    os.replace(tmp, os.path.join(directory, MANIFEST))
    return full


def read_manifest(directory: str) -> dict[str, Any]:
    """The manifest of a partial state directory, or an AuditError saying why it is not one."""
    path = os.path.join(directory, MANIFEST)
    try:
        with open(path, encoding="utf-8") as fh:
            manifest = json.load(fh)
    except FileNotFoundError:
        raise AuditError(f"{directory} is not a partial scan state (no {MANIFEST}; write one with "
                         "`collapse-audit scan --shard i/N --partial DIR`).") from None
    except (OSError, ValueError) as exc:
        raise AuditError(f"{path} could not be read ({exc}).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise AuditError(f"{path} is not a collapse-audit partial state manifest.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise AuditError(f"{path} has partial format version {manifest.get('format_version')!r}; this "
                         f"collapse-audit reads version {FORMAT_VERSION}.")
    return manifest


def load_partial(directory: str, manifest: dict[str, Any], config: ScanConfig,
                 resources: Mapping[str, Any]) -> ShardState:
    """A partial directory's state, its checks built with this scan's settings and resources."""
    checks: list[Check] = []
    for name in manifest["checks"]:
        cls = check_named(name)
        if cls is None:
            raise AuditError(f"Partial state {directory} holds a state of an unknown check {name!r}.")
        arrays, meta = _read(directory, f"check-{name}")
        ctx = CheckContext(fields=config.fields, options=cls.options_from(config), seed=config.seed,
                           resources=dict(resources))
        try:
            checks.append(cls.from_state(ctx, arrays, meta))
        except (KeyError, ValueError, TypeError) as exc:
            raise AuditError(f"Partial state {directory}: the {name} state is damaged ({exc}).") from None
    sources = SourceIndex.from_state(*_read(directory, "sources"))
    collector = None
    if manifest.get("annotations"):
        collector = AnnotationCollector(None)
        unpack_attrs(collector, *_read(directory, "annotations"))
    r = manifest["reading"]
    return ShardState(checks=checks, sources=sources, collector=collector,
                      per_file={int(k): int(v) for k, v in r["per_file"].items()}, total=int(r["records"]),
                      skipped=int(r["skipped"]), skipped_per_file=dict(r["skipped_per_file"]),
                      skipped_examples=[BadRecord(**b) for b in r["skipped_examples"]],
                      stats=stats_from_json(r["stats"]))


def manifest_for(shard: tuple[int, int], inputs: list[dict[str, Any]], pieces: list[dict[str, Any]],
                 policy_sha256: str, seed: int, options: dict[str, Any]) -> dict[str, Any]:
    """What a partial says about itself, so partials that do not belong together are refused."""
    return {"tool_version": __version__, "policy_sha256": policy_sha256, "seed": seed,
            "shard": list(shard), "inputs": inputs, "pieces": pieces, "options": options}


KEYS = ("tool_version", "policy_sha256", "seed", "inputs", "options")


def check_partials(manifests: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """The partials in shard order, or an AuditError naming the one that does not fit."""
    if not manifests:
        raise AuditError("No partial states given.")
    first_dir, first = manifests[0]
    n = first["shard"][1]
    seen: dict[int, str] = {}
    for directory, m in manifests:
        for key in KEYS:
            if m.get(key) != first.get(key):
                raise AuditError(f"Partial state {directory} does not match {first_dir}: different {key} "
                                 f"({m.get(key)!r} vs {first.get(key)!r}).")
        i, count = m["shard"]
        if count != n:
            raise AuditError(f"Partial state {directory} is shard {i}/{count}, but {first_dir} is one of {n} shards.")
        if i in seen:
            raise AuditError(f"Partial states {seen[i]} and {directory} are both shard {i}/{n}.")
        seen[i] = directory
    missing = [i for i in range(n) if i not in seen]
    if missing:
        raise AuditError(f"Shard(s) {', '.join(f'{i}/{n}' for i in missing)} missing: give all {n} partial states.")
    return sorted(manifests, key=lambda dm: dm[1]["shard"][0])
