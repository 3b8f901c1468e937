"""Partial scan states on disk: one directory per shard, merged later by ``collapse-audit merge``.

A partial directory holds ``manifest.json`` (what was scanned and how: tool version, policy hash,
seed, shard ``i/N``, the inputs, a fingerprint of the input listing and this shard's pieces of
them, the reading counts), one ``<check>.npz`` + ``<check>.json`` per check (``Check.to_state``),
``sources.npz/.json`` (the per-source index) and, when annotations were asked for,
``annotations.npz/.json``. The manifest records the size and SHA-256 of every state file and a
digest of what produced the state (``producer_sha256``).

Every file of a state is read through one bounded, validated reader (``read_manifest``,
``read_state``): a manifest over ``MAX_MANIFEST_BYTES`` or of an unknown format version, a shard
count over ``MAX_SHARDS``, a state file whose size or SHA-256 differs from the manifest's (truncated,
empty, corrupted), or one that does not parse is an error naming the file - never a BadZipFile or an
EOFError. Loading never unpickles anything (``np.load(allow_pickle=False)``; JSON for the rest). A
digest stored in the same directory detects corruption, not deliberate tampering: whoever can
rewrite a state file can rewrite its manifest too.

Partials merge only when they belong together: same tool version (this one), policy hash, seed,
options, inputs and input listing fingerprint (so shards of two versions of a file never merge),
and every shard ``0..N-1`` exactly once; otherwise the merge stops (exit 2) naming the partial that
does not fit.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..checks.base import Check, CheckContext
from ..checks.registry import check_named
from ..checks.state import pack_attrs, unpack_attrs
from ..config import ScanConfig
from ..errors import AuditError
from ..readers import BadRecord, InputFile
from ..version import __version__
from .annotations import AnnotationCollector
from .shards import ShardState, stats_from_json, stats_json
from .sources import SourceIndex

FORMAT = "collapse-audit-partial"
FORMAT_VERSION = 3             # 2: state files listed with size and SHA-256, producer digest, listing fingerprint;
                               # 3: the duplicate checks keep each record's line (readers/places.py)
MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 256 * 1024 * 1024
MAX_SHARDS = 65_536            # far beyond any cluster; a larger N is a typo or a hostile manifest
_COLLECTOR_ATTRS = ("id_field", "files", "file_idx", "rows", "ids", "fps")
#: how duplicate keys are made (exact: xxh3-128 of NFC + whitespace-collapsed text; near: the MinHash of
#: text/minhash.py over lower-cased word shingles). Bump it when either changes: ``--against`` compares
#: keys across tool versions and needs only this, the seed and the near-duplicate settings to match.
KEY_SCHEME = 1
_EDGE_BYTES = 65_536           # the listing fingerprint hashes each local file's first and last 64 KiB


def _write(directory: str, stem: str, arrays: Mapping[str, np.ndarray], meta: Any) -> dict[str, Any]:
    """Write one state (``stem.npz`` + ``stem.json``); returns their sizes and SHA-256 for the manifest."""
    savez: Any = np.savez
    savez(os.path.join(directory, f"{stem}.npz"), **dict(arrays))
    with open(os.path.join(directory, f"{stem}.json"), "w", encoding="utf-8") as fh:
        json.dump(meta, fh)
    return {name: _file_digest(os.path.join(directory, name)) for name in (f"{stem}.npz", f"{stem}.json")}


def _file_digest(path: str) -> dict[str, Any]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return {"size": size, "sha256": h.hexdigest()}


def read_state(directory: str, stem: str, manifest: Mapping[str, Any]) -> tuple[Any, Any]:
    """One state (arrays + JSON) of a partial, each file checked against the manifest's size and SHA-256
    first, so a truncated, emptied or corrupted file is named instead of failing inside the parser."""
    listed = manifest.get("files") or {}
    paths = {ext: os.path.join(directory, f"{stem}.{ext}") for ext in ("npz", "json")}
    for ext, path in paths.items():
        want = listed.get(f"{stem}.{ext}")
        if not isinstance(want, dict):
            raise AuditError(f"Partial state {directory}: {stem}.{ext} is not listed in its manifest (damaged).")
        try:
            got = _file_digest(path)
        except OSError as exc:
            raise AuditError(f"Partial state file {path} cannot be read ({exc.strerror or exc}).") from None
        if got["size"] != want.get("size"):
            raise AuditError(f"Partial state file {path} has {got['size']:,} bytes, its manifest says "
                             f"{want.get('size')!r}: it is truncated or damaged; write the partial again.")
        if got["sha256"] != want.get("sha256"):
            raise AuditError(f"Partial state file {path} does not match the SHA-256 in its manifest: it is "
                             "corrupted; write the partial again.")
    try:
        with np.load(paths["npz"], allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        with open(paths["json"], encoding="utf-8") as fh:
            meta = json.load(fh)
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, RecursionError) as exc:
        raise AuditError(f"Partial state {directory}: {stem} cannot be parsed ({type(exc).__name__}).") from None
    return arrays, meta


def listing_fingerprint(files: Sequence[InputFile]) -> str:
    """SHA-256 over each input's path, format, size, remote version and (local files) the bytes of its
    first and last 64 KiB: shards scanned from two versions of a file get different fingerprints,
    at the cost of two small reads per file (a full hash per shard would read every input N times)."""
    h = hashlib.sha256()
    for f in files:
        size, edges = f.size, ""
        if "://" not in f.path:
            try:
                size = os.path.getsize(f.path)
                with open(f.path, "rb") as fh:
                    head = fh.read(_EDGE_BYTES)
                    fh.seek(max(0, size - _EDGE_BYTES))
                    edges = hashlib.sha256(head + fh.read(_EDGE_BYTES)).hexdigest()
            except OSError:
                edges = "unreadable"
        h.update(json.dumps([f.path, f.format, f.compression, size, f.version, edges]).encode())
    return h.hexdigest()


def prepare_partial_dir(directory: str) -> None:
    """Before a scan writes a partial there: DIR is new, empty, or an earlier partial (rewritten);
    anything else would mix the state with unrelated files (or fail after a full scan)."""
    if not os.path.exists(directory):
        return
    if not os.path.isdir(directory):
        raise AuditError(f"The partial state directory {directory} exists and is not a directory; choose a "
                         "directory path.")
    if os.listdir(directory) and not os.path.isfile(os.path.join(directory, MANIFEST)):
        raise AuditError(f"The partial state directory {directory} is not empty and holds no partial state; "
                         "choose a new or empty directory.")


def save_partial(directory: str, state: ShardState, manifest: dict[str, Any]) -> dict[str, Any]:
    """Write a shard's state and its manifest (the manifest last: a directory without one is not a partial)."""
    prepare_partial_dir(directory)
    os.makedirs(directory, exist_ok=True)
    if os.path.exists(os.path.join(directory, MANIFEST)):
        os.remove(os.path.join(directory, MANIFEST))
    files: dict[str, Any] = {}
    for check in state.checks:
        files.update(_write(directory, f"check-{check.name}", *check.to_state()))
    files.update(_write(directory, "sources", *state.sources.to_state()))
    if state.collector is not None:
        files.update(_write(directory, "annotations", *pack_attrs(state.collector, _COLLECTOR_ATTRS)))
    full = {
        "format": FORMAT, "format_version": FORMAT_VERSION, **manifest, "files": files,
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
        with open(path, "rb") as fh:
            raw = fh.read(MAX_MANIFEST_BYTES + 1)
    except (FileNotFoundError, NotADirectoryError):
        raise AuditError(f"{directory} is not a partial scan state (no {MANIFEST}; write one with "
                         "`collapse-audit scan --shard i/N --partial DIR`).") from None
    except OSError as exc:
        raise AuditError(f"{path} could not be read ({exc.strerror or exc}).") from None
    if len(raw) > MAX_MANIFEST_BYTES:
        raise AuditError(f"{path} is larger than {MAX_MANIFEST_BYTES:,} bytes; it is not a partial state manifest.")
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # empty, truncated, not UTF-8, not JSON
        raise AuditError(f"{path} is empty, truncated or not JSON; write the partial again.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise AuditError(f"{path} is not a collapse-audit partial state manifest.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise AuditError(f"{path} has partial format version {manifest.get('format_version')!r}; this "
                         f"collapse-audit reads version {FORMAT_VERSION} (write the partial again).")
    _validate(path, manifest)
    return manifest


def _validate(path: str, m: dict[str, Any]) -> None:
    """The manifest's structure, bounds and producer digest (a damaged manifest is named, not crashed on)."""
    shard = m.get("shard")
    if not (isinstance(shard, list) and len(shard) == 2 and all(type(x) is int for x in shard)):
        raise AuditError(f"{path} is damaged: 'shard' must be [i, N].")
    i, n = shard
    if not 0 <= i < n <= MAX_SHARDS:
        raise AuditError(f"{path} claims shard {i}/{n}; a shard is i/N with 0 <= i < N <= {MAX_SHARDS:,}.")
    kinds = {"tool_version": str, "policy_sha256": str, "seed": int, "inputs": list, "pieces": list,
             "options": dict, "checks": list, "files": dict, "reading": dict}
    for key, kind in kinds.items():
        if not isinstance(m.get(key), kind):
            raise AuditError(f"{path} is damaged: '{key}' is missing or not a {kind.__name__}.")
    if m.get("producer_sha256") != producer_digest(m):
        raise AuditError(f"{path} is damaged: its fields do not match its producer digest; write the partial again.")


_PRODUCER_KEYS = ("tool_version", "policy_sha256", "seed", "shard", "inputs", "listing_sha256", "options")


def producer_digest(m: Mapping[str, Any]) -> str:
    """SHA-256 of what produced a state: tool version, policy hash, seed, shard i/N, inputs, the input
    listing's fingerprint and the options (detector, sample, near-duplicate settings, ...)."""
    canonical = json.dumps({k: m.get(k) for k in _PRODUCER_KEYS}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def load_partial(directory: str, manifest: dict[str, Any], config: ScanConfig,
                 resources: Mapping[str, Any]) -> ShardState:
    """A partial directory's state, its checks built with this scan's settings and resources."""
    checks: list[Check] = []
    for name in manifest["checks"]:
        cls = check_named(name)
        if cls is None:
            raise AuditError(f"Partial state {directory} holds a state of an unknown check {name!r}.")
        arrays, meta = read_state(directory, f"check-{name}", manifest)
        ctx = CheckContext(fields=config.fields, options=cls.options_from(config), seed=config.seed,
                           resources=dict(resources))
        try:
            checks.append(cls.from_state(ctx, arrays, meta))
        except (KeyError, ValueError, TypeError) as exc:
            raise AuditError(f"Partial state {directory}: the {name} state is damaged ({exc}).") from None
    try:
        sources = SourceIndex.from_state(*read_state(directory, "sources", manifest))
        collector = None
        if manifest.get("annotations"):
            collector = AnnotationCollector(None)
            unpack_attrs(collector, *read_state(directory, "annotations", manifest))
        r = manifest["reading"]
        return ShardState(checks=checks, sources=sources, collector=collector,
                          per_file={int(k): int(v) for k, v in r["per_file"].items()}, total=int(r["records"]),
                          skipped=int(r["skipped"]), skipped_per_file=dict(r["skipped_per_file"]),
                          skipped_examples=[BadRecord(**b) for b in r["skipped_examples"]],
                          stats=stats_from_json(r["stats"]))
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise AuditError(f"Partial state {directory} is damaged ({type(exc).__name__}: {exc}).") from None


def manifest_for(shard: tuple[int, int], inputs: list[Any], pieces: list[dict[str, Any]],
                 policy_sha256: str, seed: int, options: dict[str, Any], listing_sha256: str = "") -> dict[str, Any]:
    """What a partial says about itself (and its producer digest), so partials that do not belong
    together are refused."""
    m = {"tool_version": __version__, "policy_sha256": policy_sha256, "seed": seed,
         "shard": list(shard), "inputs": inputs, "listing_sha256": listing_sha256, "pieces": pieces,
         "options": options, "key_scheme": KEY_SCHEME}
    m["producer_sha256"] = producer_digest(m)
    return m


KEYS = ("tool_version", "policy_sha256", "seed", "inputs", "listing_sha256", "options")
_WHY = {"listing_sha256": "input listing (an input file changed between the shards' scans)"}


def check_partials(manifests: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """The partials in shard order, or an AuditError naming the one that does not fit."""
    if not manifests:
        raise AuditError("No partial states given.")
    first_dir, first = manifests[0]
    if first.get("tool_version") != __version__:
        raise AuditError(f"Partial state {first_dir} was written by collapse-audit {first.get('tool_version')}, this "
                         f"is {__version__}; scan the shards again with this version.")
    n = first["shard"][1]
    seen: dict[int, str] = {}
    for directory, m in manifests:
        for key in KEYS:
            if m.get(key) != first.get(key):
                shown = "" if key in _WHY else f" ({_short(m.get(key))} vs {_short(first.get(key))})"
                raise AuditError(f"Partial state {directory} does not match {first_dir}: different "
                                 f"{_WHY.get(key, key)}{shown}.")
        i, count = m["shard"]
        if count != n:
            raise AuditError(f"Partial state {directory} is shard {i}/{count}, but {first_dir} is one of {n} shards.")
        if i in seen:
            raise AuditError(f"Partial states {seen[i]} and {directory} are both shard {i}/{n}.")
        seen[i] = directory
    missing = [i for i in range(n) if i not in seen]
    if missing:
        shown = ", ".join(f"{i}/{n}" for i in missing[:10]) + (f" and {len(missing) - 10:,} more" if len(missing) > 10
                                                               else "")
        raise AuditError(f"Shard(s) {shown} missing: give all {n} partial states.")
    return sorted(manifests, key=lambda dm: dm[1]["shard"][0])


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
