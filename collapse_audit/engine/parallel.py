"""Running every check's ``prepare`` on all cores while ``observe`` stays ordered.

The checks go to each worker once, through the pool initializer: with ``fork`` (the default on
Linux) they are inherited without pickling, with ``spawn`` (macOS, Windows, or when asked) they are
pickled once per worker; only batches go out and compact prepared results come back. At most
``2 * workers`` batches are in flight, which bounds memory whatever the corpus size. Because
``observe`` runs in input order in this process, the result is identical for any worker count and
start method.

Workers ignore SIGINT (Ctrl-C reaches the whole process group; the parent alone decides) and are
terminated by the parent when it stops for any reason - an error, Ctrl-C or SIGTERM - so no
worker outlives the command and no worker prints a traceback.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from ..checks.base import Check
from ..readers.base import RecordBatch

_CHECKS: list[Check] = []


def _init_worker(checks: list[Check]) -> None:
    global _CHECKS
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a forked worker must not inherit the parent's handler
    _CHECKS = checks


def _prepare_all(batch: RecordBatch) -> list[Any]:
    return [c.prepare(batch) for c in _CHECKS]


def default_start_method() -> str:
    """``fork`` where it is safe and cheap (Linux), ``spawn`` elsewhere."""
    return "fork" if sys.platform.startswith("linux") else "spawn"


def prepared_batches(checks: list[Check], batches: Iterable[RecordBatch], workers: int,
                     start_method: str | None = None) -> Iterator[tuple[RecordBatch, list[Any]]]:
    """Yield (batch, [prepared per check]) in input order."""
    if workers <= 1:
        for batch in batches:
            yield batch, [c.prepare(batch) for c in checks]
        return
    ctx = multiprocessing.get_context(start_method or default_start_method())
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                               initargs=(checks,))
    finished = False
    try:
        window: deque = deque()
        for batch in batches:
            window.append((batch, pool.submit(_prepare_all, batch)))
            if len(window) >= 2 * workers:
                done, fut = window.popleft()
                yield done, fut.result()
        while window:
            done, fut = window.popleft()
            yield done, fut.result()
        finished = True
    finally:
        if finished:
            pool.shutdown(wait=True)
        else:  # an error, an interrupt or an abandoned generator: stop the workers now
            _terminate(pool)


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Kill the workers and reap them, without waiting for batches still in flight.

    The workers go first: the pool's manager thread then sees them gone, fails what was pending
    and exits, so the shutdown below (and the interpreter's exit) does not wait on it."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    for p in procs:
        if p.is_alive():
            p.terminate()
    for p in procs:
        p.join(timeout=5)
        if p.is_alive():  # pragma: no cover - a worker stuck in uninterruptible I/O
            p.kill()
            p.join(timeout=5)
    _release_result_pipe(pool)
    pool.shutdown(wait=True, cancel_futures=True)


def _release_result_pipe(pool: ProcessPoolExecutor) -> None:
    """Close this process's write end of the pool's result pipe, once every worker is dead.

    A worker killed while sending its (large) state leaves half a message in the pipe; the manager
    thread then blocks reading the rest for ever, since this process still holds a write end -
    and the interpreter joins that thread at exit (the Ctrl-C hang). With every write end closed the
    read ends with EOF, the manager thread marks the pool broken and exits, deterministically."""
    writer = getattr(getattr(pool, "_result_queue", None), "_writer", None)
    if writer is not None:
        with contextlib.suppress(OSError):
            writer.close()
