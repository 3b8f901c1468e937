"""A scan as map tasks over shards and reduce tasks over key partitions.

``run_distributed`` is the plan; an *executor* runs its tasks (``InProcess`` here for tests, Ray
tasks in ``engine.ray_engine``). Map: each shard is read and observed by its own checks; every check
that can be partitioned (``checks.base.Partitioned``, declared by ``key_tables``) cuts its key tables
into ``R`` partitions by key hash and drops its index, and the rest of the state is packed
(``engine.local.pack_shard``). Reduce: each partitioned check reduces its partitions through the
executor, so no task holds a whole index. The driver then merges the shards' states in order, each
partitioned check joining what its reducers found - giving the same state as one scan. Nothing here
names a check.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from ..config import ScanConfig
from ..readers import InputFile
from .local import pack_shard, unpack_shard
from .shards import Piece, ShardState, plan_shards, scan_shard


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
              fields: list[str] | None = None, transform: Any = None, checks: Any = None) -> tuple:
    """Observe one shard; return its packed state, its size, then every partitioned check's key tables,
    ``r`` partitions each (in check order)."""
    from ..checks.registry import build_checks

    state = scan_shard(files, pieces, config, build_checks(config, resources, checks), max_bad, annotations,
                       fields=fields, transform=transform)
    parts: list[Any] = []
    check: Any
    for check in state.checks:
        if check.key_tables:
            tables = check.partition(shard, r)
            assert len(tables) == check.key_tables and all(len(t) == r for t in tables), check.name
            parts += [p for table in tables for p in table]
    meta = {"records": state.total}
    return (pack_shard(state), meta, *parts)


def run_distributed(ex: Executor, files: list[InputFile], config: ScanConfig, resources: dict[str, Any],
                    shards: int, max_bad: int, annotations: bool, reducers: int | None = None,
                    advance: Callable[[int], None] = lambda n: None,
                    wait: Callable[[Sequence[Any]], None] | None = None, fields: list[str] | None = None,
                    transform: Any = None, checks: Any = None) -> ShardState:
    """The whole scan's merged state, computed by map tasks over shards and reducers over key partitions
    (``checks``: the classes to run, default the registry's runnable ones)."""
    from ..checks.registry import runnable

    classes = list(checks) if checks is not None else runnable(config, resources)
    partitioned: list[Any] = [cls for cls in classes if cls.key_tables]   # checks.base.Partitioned
    plan = [p for p in plan_shards(files, max(1, shards)) if p]
    r = max(2, reducers or len(plan))          # at least two: every reduce returns a list of parts
    res_ref, files_ref, config_ref = ex.put(resources), ex.put(files), ex.put(config)
    n_parts = r * sum(cls.key_tables for cls in partitioned)
    maps = [ex.submit(map_shard, k, files_ref, pieces, config_ref, res_ref, max_bad, annotations, r, fields,
                      transform, classes, num_returns=2 + n_parts) for k, pieces in enumerate(plan)]
    if wait is not None:
        wait([m[1] for m in maps])
    reduced: dict[str, Any] = {}
    offset = 2
    for cls in partitioned:
        tables = [[[m[offset + t * r + i] for m in maps] for i in range(r)] for t in range(cls.key_tables)]
        reduced[cls.name] = cls.reduce(ex, tables, r, cls.options_from(config))
        offset += cls.key_tables * r

    # the driver: shard states in order, each partitioned check joining what its reducers found
    states = [unpack_shard(s, config, resources) for s in ex.get([m[0] for m in maps])]
    bases = np.concatenate([[0], np.cumsum([s.total for s in states])]).astype(np.int64)
    merged = states[0]
    mine: list[Any] = [c for c in merged.checks if c.name in reduced]
    joined = {c.name: c.join(reduced[c.name], bases) for c in mine}
    advance(merged.total)
    for k, state in enumerate(states[1:], start=1):
        custom: dict[str, Any] = {name: functools.partial(_merge_shard, shard=k, joined=j)
                                  for name, j in joined.items()}
        merged.merge(state, custom)
        advance(state.total)
    for c in mine:
        c.apply_joined(joined[c.name])
    return merged


def _merge_shard(mine: Any, theirs: Any, shard: int, joined: Any) -> None:
    mine.merge_partitioned(theirs, shard, joined)
