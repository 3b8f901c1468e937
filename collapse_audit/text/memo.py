"""Per-batch memoisation: work derived from a batch, computed once and shared by every check.

Checks' ``prepare`` calls run one after another on the same ``RecordBatch`` object (in this
process or a worker), so several checks can share e.g. the NFC-normalised texts, the token arrays
or the diversity sketches of a batch. Only the latest batch is remembered (a weak reference, so
nothing outlives the batch), together with the other arguments of the call: a call with other
settings (e.g. two diversity configurations) recomputes.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def per_batch(fn: Callable[..., T]) -> Callable[..., T]:
    """Decorate ``fn(batch, *args)`` so repeated calls on the same batch object with equal
    (hashable) ``args`` reuse the result."""
    last: list[Any] = [None, None, None]   # [weakref to the batch, args, result]

    @functools.wraps(fn)
    def wrapper(batch: Any, *args: Any) -> T:
        if last[0] is not None and last[0]() is batch and last[1] == args:
            cached: T = last[2]
            return cached
        result = fn(batch, *args)
        try:
            last[:] = [weakref.ref(batch), args, result]
        except TypeError:       # not weak-referenceable: just don't cache
            last[:] = [None, None, None]
        return result

    return wrapper
