"""64-bit hash mixing on numpy arrays (wrap-around uint64 arithmetic, no Python loops)."""

from __future__ import annotations

import functools

from ..lazy import np

GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB


@functools.cache
def _splitmix() -> tuple[np.uint64, ...]:
    """The golden ratio, multipliers and shifts as numpy scalars, so every step stays uint64 (built
    on first use: importing this module does not import numpy)."""
    return tuple(np.uint64(c) for c in (GOLDEN, _M1, _M2, 30, 27, 31))


def mix64(x: np.ndarray, salt: int = 0) -> np.ndarray:
    """splitmix64 finaliser of ``x + salt * golden``: a bijective, well-mixed 64-bit hash."""
    golden, m1, m2, s30, s27, s31 = _splitmix()
    with np.errstate(over="ignore"):
        z = np.asarray(x, dtype=np.uint64)
        z = z + np.uint64(salt & 0xFFFFFFFFFFFFFFFF) * golden if salt else z.copy()
        t = np.empty_like(z)          # one scratch array for the three shifts
        np.right_shift(z, s30, out=t)
        z ^= t
        z *= m1
        np.right_shift(z, s27, out=t)
        z ^= t
        z *= m2
        np.right_shift(z, s31, out=t)
        z ^= t
    return z


def seeded_uniform(seed: int, index: np.ndarray) -> np.ndarray:
    """A uniform draw in [0, 1) per integer index, fixed by ``seed`` (independent of batching)."""
    h = mix64(mix64(np.asarray(index, dtype=np.uint64), salt=(seed * 2 + 1)), salt=7)
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def add_sorted_counts(table_keys: np.ndarray, table_counts: np.ndarray, keys: np.ndarray,
                      counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Add ``counts`` of unique, sorted ``keys`` into a sorted key -> count table, inserting new keys.

    Returns the new (keys, counts) and the insertion positions of the new keys in the *old* table, so
    a caller keeping a third parallel array can insert into it the same way. ``table_counts`` is
    updated in place for keys already present.
    """
    pos = np.searchsorted(table_keys, keys)
    hit = pos < len(table_keys)
    hit[hit] = table_keys[pos[hit]] == keys[hit]
    if hit.any():
        table_counts[pos[hit]] += counts[hit]
    miss = ~hit
    if not miss.any():
        return table_keys, table_counts, pos[miss]
    return (np.insert(table_keys, pos[miss], keys[miss]), np.insert(table_counts, pos[miss], counts[miss]),
            pos[miss])
