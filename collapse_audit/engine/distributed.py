"""A scan as map tasks over shards and reduce tasks over key partitions (``engine.shuffle``).

``run_distributed`` is the plan; an *executor* runs its tasks (``InProcess`` here for tests, Ray
tasks in ``engine.ray_engine``). Map: each shard is read and observed by its own checks; the
duplicate checks' key and slot tables are cut into ``R`` partitions by key hash and their indexes
dropped, and the rest of the state is packed (``engine.local.pack_shard``). Reduce: exact keys,
identical signatures, band keys and candidate pairs, each by partition, so no task holds a whole
index. The driver then merges the shards' remaining states in order, applies the remapped first
copies and the verified links, and sets the pair counts - giving the same state as one scan.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from ..config import ScanConfig
from ..readers import InputFile
from . import shuffle as S
from .local import pack_shard, unpack_shard
from .shards import Piece, ShardState, plan_shards, scan_shard

EXACT = "exact_duplicates"
NEAR = "near_duplicates"


class Executor(Protocol):
    """Runs the plan's tasks: in this process, or on Ray."""
    def submit(self, fn: Callable[..., Any], *args: Any, num_returns: int = 1) -> Any:
        """Start ``fn(*args)``; a reference (or ``num_returns`` of them) to its result."""
    def get(self, refs: Any) -> Any:
        """The values behind references."""
    def put(self, value: Any) -> Any:
        """A reference to ``value`` that tasks can share."""


class InProcess:
    """Runs every task in this process, in order (tests and debugging)."""

    def submit(self, fn, *args, num_returns=1):
        """Start ``fn(*args)``; a reference (or ``num_returns`` of them) to its result."""
        out = fn(*args)
        return list(out) if num_returns > 1 else out

    def get(self, refs):
        """The values behind references."""
        return refs

    def put(self, value):
        """A reference to ``value`` that tasks can share."""
        return value


def map_shard(shard: int, files: list[InputFile], pieces: list[Piece], config: ScanConfig,
              resources: dict[str, Any], max_bad: int, annotations: bool, r: int,
              fields: list[str] | None = None, transform: Any = None) -> tuple:
    """Observe one shard; return its packed state, then R exact, R signature and R band partitions."""
    from ..checks.registry import build_checks

    state = scan_shard(files, pieces, config, build_checks(config, resources), max_bad, annotations,
                       fields=fields, transform=transform)
    exact: list[np.ndarray] = [np.zeros((0, 3), np.uint64)] * r
    sigs: list[dict[str, np.ndarray]] = [{"sighash": np.zeros(0, np.uint64), "code": np.zeros(0, np.uint64),
                                          "sigv": np.zeros((0, 0), np.uint8)}] * r
    bands: list[dict[str, np.ndarray]] = [{"band": np.zeros(0, np.uint64), "key": np.zeros(0, np.uint64),
                                           "code": np.zeros(0, np.uint64), "sigv": np.zeros((0, 0), np.uint8)}] * r
    check: Any
    for check in state.checks:
        if check.name == EXACT:
            hi, lo, first = check.key_table()
            exact = S.exact_partitions(shard, hi, lo, first, r)
            check.drop_index()
        elif check.name == NEAR:
            table = check.slot_table()
            sigs = S.signature_partitions(shard, table, r)
            bands = S.band_partitions(shard, table, r)
            check.drop_index()
    meta = {"records": state.total}
    return (pack_shard(state), meta, *exact, *sigs, *bands)


def _merge_exact(mine: Any, theirs: Any, remap: np.ndarray) -> None:
    mine.merge_records(theirs, remap)


def _merge_near(mine: Any, theirs: Any) -> None:
    mine.merge_records(theirs)


def run_distributed(ex: Executor, files: list[InputFile], config: ScanConfig, resources: dict[str, Any],
                    shards: int, max_bad: int, annotations: bool, reducers: int | None = None,
                    advance: Callable[[int], None] = lambda n: None,
                    wait: Callable[[Sequence[Any]], None] | None = None, fields: list[str] | None = None,
                    transform: Any = None) -> ShardState:
    """The whole scan's merged state, computed by map tasks over shards and reducers over key partitions."""
    plan = [p for p in plan_shards(files, max(1, shards)) if p]
    r = max(2, reducers or len(plan))          # at least two: every reduce returns a list of parts
    res_ref, files_ref, config_ref = ex.put(resources), ex.put(files), ex.put(config)
    maps = [ex.submit(map_shard, k, files_ref, pieces, config_ref, res_ref, max_bad, annotations, r, fields,
                      transform, num_returns=2 + 3 * r) for k, pieces in enumerate(plan)]
    if wait is not None:
        wait([m[1] for m in maps])
    exact_parts = [[m[2 + i] for m in maps] for i in range(r)]
    sig_parts = [[m[2 + r + i] for m in maps] for i in range(r)]
    band_parts = [[m[2 + 2 * r + i] for m in maps] for i in range(r)]

    remapped = ex.get([ex.submit(S.exact_reduce, *parts) for parts in exact_parts])
    folded_pairs = ex.get([ex.submit(S.signature_reduce, *parts) for parts in sig_parts])
    folded = np.concatenate([f for f in folded_pairs]) if folded_pairs else np.zeros((0, 2), np.uint64)
    folded_codes = ex.put(np.sort(folded[:, 0]))
    threshold = float(config.option("near_duplicates").threshold) if config.option("near_duplicates") else 0.8
    band_out = [ex.submit(S.band_reduce, folded_codes, threshold, r, *parts, num_returns=r)
                for parts in band_parts]
    pair_out = ex.get([ex.submit(S.pair_reduce, *[b[i] for b in band_out]) for i in range(r)])

    # the driver: shard states in order, then the links and remaps the reducers found
    states = [unpack_shard(s, config, resources) for s in ex.get([m[0] for m in maps])]
    bases = np.concatenate([[0], np.cumsum([s.total for s in states])]).astype(np.int64)
    exact_remap = [bases[k] + np.arange(s.total, dtype=np.int64) for k, s in enumerate(states)]
    rows = np.concatenate(remapped) if remapped else np.zeros((0, 2), np.uint64)
    if len(rows):
        ks, f = S.split_code(rows[:, 0])
        rk, rf = S.split_code(rows[:, 1])
        for shard in np.unique(ks).tolist():
            sel = ks == shard
            exact_remap[shard][f[sel]] = bases[rk[sel]] + rf[sel]

    def glob(codes: np.ndarray) -> np.ndarray:
        k, i = S.split_code(codes)
        return bases[k] + i

    merged = states[0]
    advance(merged.total)
    for k, state in enumerate(states[1:], start=1):
        custom: dict[str, Callable[[Any, Any], None]] = {
            EXACT: functools.partial(_merge_exact, remap=exact_remap[k]), NEAR: _merge_near}
        merged.merge(state, custom)
        advance(state.total)
    near: Any = next((c for c in merged.checks if c.name == NEAR), None)
    if near is not None:
        verified = [p for p, _, _ in pair_out]
        pairs = np.concatenate(verified) if verified else np.zeros((0, 2), np.uint64)
        near.add_links(np.concatenate([glob(folded[:, 0]), glob(pairs[:, 0])]),
                       np.concatenate([glob(folded[:, 1]), glob(pairs[:, 1])]))
        near.pairs_checked = sum(c for _, c, _ in pair_out)
        near.pairs_verified = sum(v for _, _, v in pair_out)
    return merged
