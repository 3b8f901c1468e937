"""Per-batch memoisation: work derived from a batch, computed once and shared by every check.

Checks' ``prepare`` calls run one after another on the same ``RecordBatch`` object (in this
process or a worker), so several checks can share e.g. the NFC-normalised texts or the token
arrays. Only the latest batch is remembered (a weak reference, so nothing outlives the batch).
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def per_batch(fn: Callable[[Any], T]) -> Callable[[Any], T]:
    """Decorate ``fn(batch)`` so repeated calls on the same batch object reuse the result."""
    last: list = [None, None]   # [weakref to the batch, result]

    @functools.wraps(fn)
    def wrapper(batch: Any) -> T:
        if last[0] is not None and last[0]() is batch:
            return last[1]
        result = fn(batch)
        try:
            last[0], last[1] = weakref.ref(batch), result
        except TypeError:       # not weak-referenceable: just don't cache
            last[0] = last[1] = None
        return result

    return wrapper
