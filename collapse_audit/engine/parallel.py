"""Running every check's ``prepare`` on all cores while ``observe`` stays ordered.

Workers are forked after the checks are built, so they inherit the checks (and a loaded detector)
without pickling them; only batches go out and compact prepared results come back. At most
``2 * workers`` batches are in flight, which bounds memory whatever the corpus size. Because
``observe`` runs in input order in this process, the result is identical for any worker count.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from ..checks.base import Check
from ..readers.base import RecordBatch

_CHECKS: list[Check] = []


def _prepare_all(batch: RecordBatch) -> list[Any]:
    return [c.prepare(batch) for c in _CHECKS]


def prepared_batches(checks: list[Check], batches: Iterable[RecordBatch],
                     workers: int) -> Iterator[tuple[RecordBatch, list[Any]]]:
    """Yield (batch, [prepared per check]) in input order."""
    global _CHECKS
    _CHECKS = checks
    if workers <= 1:
        for batch in batches:
            yield batch, _prepare_all(batch)
        return
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        window: deque = deque()
        for batch in batches:
            window.append((batch, pool.submit(_prepare_all, batch)))
            if len(window) >= 2 * workers:
                done, fut = window.popleft()
                yield done, fut.result()
        while window:
            done, fut = window.popleft()
            yield done, fut.result()
