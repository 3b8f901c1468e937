"""Misra–Gries heavy hitters over 64-bit token hashes, merged a batch at a time.

The table holds at most ``capacity`` (hash, count) pairs, sorted by hash. Until it overflows every
count is exact. On overflow it applies the mergeable-summaries reduction (Agarwal et al., 2012):
subtract the (k+1)-th largest count (k = capacity // 2) from every count and drop the non-positive
ones. The sum of those subtractions, ``error``, is the sketch's stated error: each stored count is
low by at most ``error``, and any token not stored occurred at most ``error`` times. It is bounded
by ``(total - stored_total) / (k + 1)`` and in practice far smaller (text is Zipfian; what gets
dropped are rare types).

Each entry also remembers ``error`` at the time it was (last) inserted, as in lossy counting, so
``corrected()`` = stored count + subtractions since insertion = the exact number of occurrences since
insertion. It never exceeds the true count and is low only by occurrences from before an earlier
drop (at most the ``error`` at insertion time) — in practice almost exact for every frequent item.
"""

from __future__ import annotations

from ..lazy import np
from .hashing import add_sorted_counts


class FrequentItems:
    """Misra-Gries table of the most frequent 64-bit keys with bounded count error, mergeable."""
    def __init__(self, capacity: int = 1 << 20):
        if capacity < 16:
            raise ValueError("capacity must be at least 16")
        self.capacity = int(capacity)
        self.keys = np.zeros(0, dtype=np.uint64)
        self.counts = np.zeros(0, dtype=np.int64)
        self.since = np.zeros(0, dtype=np.int64)     # ``error`` when the entry was inserted
        self.total = 0          # occurrences seen
        self.error = 0          # max undercount of any stored count / max count of a dropped item

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def nbytes(self) -> int:
        """Memory held by the table's arrays."""
        return self.keys.nbytes + self.counts.nbytes + self.since.nbytes

    def update(self, keys: np.ndarray, counts: np.ndarray) -> None:
        """Add ``counts`` occurrences of ``keys`` (unique, sorted ascending)."""
        if len(keys) == 0:
            return
        counts = np.asarray(counts, dtype=np.int64)
        self.total += int(counts.sum())
        self.keys, self.counts, new = add_sorted_counts(self.keys, self.counts, keys, counts)
        if len(new):
            self.since = np.insert(self.since, new, self.error)
        if len(self.keys) > self.capacity:
            self._reduce()

    def merge(self, other: FrequentItems) -> None:
        """Fold in another table (mergeable summaries): counts add, errors add, then reduce.

        Identical to updating one table with both streams while neither table nor their union
        overflowed (every count exact, ``error`` 0). Otherwise the result keeps the guarantee
        (each stored count is low by at most ``error``, an absent item occurred at most ``error``
        times), but which entries survive can differ from one table fed both streams.
        """
        pos = np.searchsorted(self.keys, other.keys)
        hit = pos < len(self.keys)
        hit[hit] = self.keys[pos[hit]] == other.keys[hit]
        # ``since`` keeps corrected() <= the true count: an entry's unseen occurrences are bounded
        # by its own table's error, and by the other table's error where that table lacks it
        self.since += np.int64(other.error)
        self.counts[pos[hit]] += other.counts[hit]
        self.since[pos[hit]] += other.since[hit] - np.int64(other.error)
        miss = ~hit
        if miss.any():
            self.keys = np.insert(self.keys, pos[miss], other.keys[miss])
            self.counts = np.insert(self.counts, pos[miss], other.counts[miss])
            self.since = np.insert(self.since, pos[miss], other.since[miss] + np.int64(self.error))
        self.total += other.total
        self.error += other.error
        if len(self.keys) > self.capacity:
            self._reduce()

    def _reduce(self) -> None:
        k = self.capacity // 2
        n = len(self.counts)
        t = int(np.partition(self.counts, n - k - 1)[n - k - 1])   # (k+1)-th largest
        self.counts -= t
        keep = self.counts > 0
        self.keys, self.counts, self.since = self.keys[keep], self.counts[keep], self.since[keep]
        self.error += t

    def corrected(self) -> np.ndarray:
        """Occurrences of each stored key since it was inserted (``counts`` + later subtractions)."""
        return self.counts + (np.int64(self.error) - self.since)

    def top(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` most frequent (hash, corrected count) pairs, sorted by hash (ties broken by hash)."""
        c = self.corrected()
        if len(self.keys) <= k:
            return self.keys.copy(), c
        order = np.lexsort((self.keys, -c))[:k]
        order.sort()
        return self.keys[order], c[order]
