"""The local engine's parallel mode: worker processes that each read, prepare AND observe their own
shard of the input into their own state, merged in input order at the end.

Nothing per batch goes through the main process: each worker reads its contiguous shard
(``engine.shards``), runs every check's ``prepare`` and ``observe`` on it, and sends back its
compact state (``Check.to_state``: numpy arrays and JSON). The main process only plans the shards,
merges the states in order (``ShardState.merge``) and finishes. Workers are forked where that is
safe (they inherit the loaded detector and indexes) and spawned elsewhere; they ignore SIGINT and
are terminated if the main process stops for any reason.

There are ``SHARDS_PER_WORKER`` shards per worker, handed out in order as workers free up, so one
slow shard does not leave the other workers idle at the end.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from ..checks.base import Check, CheckContext
from ..checks.registry import build_checks, check_named
from ..config import ScanConfig
from ..readers import InputFile
from .excerpts import fill_excerpts
from .parallel import _terminate, default_start_method
from .shards import Piece, ShardState, plan_shards, read_options, scan_shard
from .sources import SourceIndex

SHARDS_PER_WORKER = 2
_JOB: dict[str, Any] = {}


def _init(job: dict[str, Any]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _JOB.update(job)


def _run(pieces: list[Piece]) -> dict[str, Any]:
    config: ScanConfig = _JOB["config"]
    checks = build_checks(config, _JOB["resources"], _JOB["checks"])
    state = scan_shard(_JOB["files"], pieces, config, checks, _JOB["max_bad"], _JOB["annotations"],
                       fields=_JOB["fields"], transform=_JOB["transform"])
    return pack_shard(state)


def pack_shard(state: ShardState) -> dict[str, Any]:
    """A shard's state as plain arrays and JSON (what crosses a process boundary)."""
    return {"checks": [(c.name, *c.to_state()) for c in state.checks],
            "sources": state.sources.to_state(), "collector": state.collector,
            "reading": (state.per_file, state.total, state.skipped, state.skipped_per_file,
                        state.skipped_examples, state.stats)}


def unpack_shard(packed: dict[str, Any], config: ScanConfig, resources: dict[str, Any]) -> ShardState:
    """A shard's state from ``pack_shard``'s output, its checks rebuilt from their saved states."""
    checks = []
    for name, arrays, meta in packed["checks"]:
        cls = check_named(name)
        assert cls is not None, name
        ctx = CheckContext(fields=config.fields, options=cls.options_from(config), seed=config.seed,
                           resources=resources)
        checks.append(cls.from_state(ctx, arrays, meta))
    per_file, total, skipped, skipped_per_file, examples, stats = packed["reading"]
    return ShardState(checks=checks, sources=SourceIndex.from_state(*packed["sources"]),
                      collector=packed["collector"], per_file=per_file, total=total, skipped=skipped,
                      skipped_per_file=skipped_per_file, skipped_examples=examples, stats=stats)


def scan_sharded(files: list[InputFile], config: ScanConfig, resources: dict[str, Any], workers: int,
                 max_bad: int, annotations: bool, advance: Callable[[int], None] = lambda n: None,
                 start_method: str | None = None, fields: list[str] | None = None,
                 transform: Any = None, checks: list[type[Check]] | None = None) -> ShardState:
    """Scan ``files`` with ``workers`` processes, each observing its own shards; merged in order
    (``checks``: the classes to run, default the registry's runnable ones)."""
    shards = [s for s in plan_shards(files, max(1, workers * SHARDS_PER_WORKER)) if s]
    job = {"config": config, "resources": resources, "files": files, "max_bad": max_bad,
           "annotations": annotations, "fields": fields, "transform": transform, "checks": checks}
    ctx = multiprocessing.get_context(start_method or default_start_method())
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init, initargs=(job,))
    finished = False
    try:
        futures = [pool.submit(_run, pieces) for pieces in shards]
        merged: ShardState | None = None
        for fut in futures:                       # in shard order: merge as each one is done
            state = unpack_shard(fut.result(), config, resources)
            advance(state.total)
            if merged is None:
                merged = state
            else:
                merged.merge(state)
        if merged is not None:               # the few texts no shard kept, read back by the workers
            fill_excerpts(merged.checks, files, read_options(config),
                          lambda fn, args: [f.result() for f in [pool.submit(fn, *a) for a in args]])
        finished = True
    finally:
        if finished:
            pool.shutdown(wait=True)
        else:
            _terminate(pool)
    assert merged is not None
    return merged
