"""Token counts that merge exactly and in any order: the whole vocabulary, or a hash sample of it.

A frequency sketch such as Misra–Gries (``FrequentItems``) decides what to drop from the order the
tokens arrive in, so two shard plans of one corpus can end with different tables and different
figures. ``VocabularySample`` instead decides by the token alone. It counts every token exactly
while the vocabulary fits in ``capacity`` entries. Past that it keeps every occurrence of the
tokens whose (re-mixed) hash lies below a threshold — a bottom-k / KMV sample of the vocabulary
(Bar-Yossef et al. 2002; Cohen and Kaplan 2007), in which a kept type has all of its occurrences
counted and a dropped type none of them. The threshold only falls, and only to the (k+1)-th
smallest hash of what is kept, so at any time the table holds *all* seen types below it; after
merging tables the lower threshold applies to both. Whatever the shard plan or the order,
``sample()`` then returns exactly the k types of smallest hash in the whole vocabulary with their
exact counts: the figures computed from it are identical for any worker count, batch size or
engine.

A figure that sums over token types (entropy, tail mass) is estimated from the sample by weighting
each kept type by the inverse of the sampled share of the hash space (Horvitz–Thompson). A few very
frequent types would make that estimate swing by whether they fell in the sample, so the table also
keeps a Count-Min sketch (Cormode and Muthukrishnan 2005) of every occurrence: a linear sketch, so
it too is the same for any order and merge. ``estimate(keys)`` reads a given type's count from it
(exactly where the type is sampled), which lets the caller count the heavy types it knows of (the
corpus's most frequent tokens) apart from the sample. Such a figure is labelled an estimate; its
measured error against the exact value is in BENCHMARKS.md.
"""

from __future__ import annotations

from ..lazy import np
from .hashing import add_sorted_counts, mix64

#: salt of the sampling hash: independent of the token hash's own bits (used by other sketches)
SALT = 0x5EED_70C5
#: the threshold of a table that never overflowed: every type is kept
EVERYTHING = (1 << 64) - 1
#: Count-Min rows and log2 of their width (4 x 16,384 counters, 512 KiB)
CM_DEPTH, CM_BITS = 4, 14


class VocabularySample:
    """Exact token counts until ``capacity`` types, then a bottom-k hash sample of the types."""

    def __init__(self, capacity: int = 1 << 14):
        if capacity < 16:
            raise ValueError("capacity must be at least 16")
        self.capacity = int(capacity)
        self.keys = np.zeros(0, dtype=np.uint64)      # token hashes, sorted ascending
        self.counts = np.zeros(0, dtype=np.int64)
        self.total = 0                                  # occurrences seen (kept or not)
        self.threshold = EVERYTHING                     # keep types whose sampling hash is below this
        self.cm = np.zeros((CM_DEPTH, 1 << CM_BITS), dtype=np.int64)   # every occurrence, hashed

    # the interface the diversity figures share with ``FrequentItems``
    error = 0          #: stored counts are exact: a type is counted in full or not at all

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def nbytes(self) -> int:
        """Memory held by the table's arrays."""
        return self.keys.nbytes + self.counts.nbytes + self.cm.nbytes

    @property
    def exact(self) -> bool:
        """True while the whole vocabulary is counted (the table never held more than ``capacity``)."""
        return self.threshold == EVERYTHING

    @staticmethod
    def _cells(keys: np.ndarray) -> np.ndarray:
        """The Count-Min cell of each key in each row: shape (CM_DEPTH, len(keys))."""
        shift = np.uint64(64 - CM_BITS)
        return np.stack([(mix64(keys, salt=SALT + 1 + j) >> shift).astype(np.intp) for j in range(CM_DEPTH)])

    def _below(self, keys: np.ndarray) -> np.ndarray:
        return mix64(keys, salt=SALT) < np.uint64(self.threshold)

    def _add(self, keys: np.ndarray, counts: np.ndarray) -> None:
        """Add counts for ``keys`` (unique, sorted) that are below the threshold."""
        self.keys, self.counts, _ = add_sorted_counts(self.keys, self.counts, keys, counts)
        if len(self.keys) > self.capacity:
            self._lower(self.capacity // 2)

    def update(self, keys: np.ndarray, counts: np.ndarray) -> None:
        """Add ``counts`` occurrences of ``keys`` (unique, sorted ascending)."""
        if len(keys) == 0:
            return
        counts = np.asarray(counts, dtype=np.int64)
        self.total += int(counts.sum())
        for row, cells in zip(self.cm, self._cells(keys), strict=True):
            row += np.bincount(cells, weights=counts, minlength=len(row)).astype(np.int64)
        if not self.exact:
            keep = self._below(keys)
            keys, counts = keys[keep], counts[keep]
        self._add(keys, counts)

    def merge(self, other: VocabularySample) -> None:
        """Fold in another table: both now hold every type below the lower threshold, counted exactly."""
        self.total += other.total
        self.cm += other.cm
        if other.threshold < self.threshold:
            self._restrict(other.threshold)
        keys, counts = other.keys, other.counts
        if not self.exact and other.threshold > self.threshold:
            keep = self._below(keys)
            keys, counts = keys[keep], counts[keep]
        self._add(keys, counts)

    def _restrict(self, threshold: int) -> None:
        self.threshold = int(threshold)
        keep = self._below(self.keys)
        self.keys, self.counts = self.keys[keep], self.counts[keep]

    def _lower(self, k: int) -> None:
        """Keep the ``k`` types of smallest sampling hash: the threshold becomes the (k+1)-th smallest."""
        h = mix64(self.keys, salt=SALT)
        self._restrict(int(np.partition(h, k)[k]))

    def sample(self) -> tuple[np.ndarray, np.ndarray, float]:
        """(keys, exact counts, share of types sampled) — the same for any order of updates and merges.

        Exact: every type, share 1. Sampled: the ``capacity // 2`` types of smallest sampling hash in
        the whole vocabulary, and the share of the hash space at or below the largest of them (each
        type was kept with about that probability).
        """
        if self.exact:
            return self.keys, self.counts, 1.0
        k = self.capacity // 2
        h = mix64(self.keys, salt=SALT)
        order = np.argsort(h, kind="stable")[:k]
        rate = (float(h[order[-1]]) + 1.0) / 2.0 ** 64
        keep = np.sort(order)
        return self.keys[keep], self.counts[keep], rate

    def estimate(self, keys: np.ndarray) -> np.ndarray:
        """Occurrences of each of ``keys`` (sorted): exact for a sampled type, else the Count-Min
        estimate (never low; high by at most ~e/16384 of all occurrences with probability 1 - e^-4)."""
        keys = np.asarray(keys, dtype=np.uint64)
        if len(keys) == 0:
            return np.zeros(0, np.int64)
        out = np.take_along_axis(self.cm, self._cells(keys), axis=1).min(axis=0)
        sk, sc, _ = self.sample()
        pos = np.minimum(np.searchsorted(sk, keys), max(len(sk) - 1, 0))
        hit = (pos < len(sk)) & (sk[pos] == keys) if len(sk) else np.zeros(len(keys), bool)
        out[hit] = sc[pos[hit]]
        return out

    def corrected(self) -> np.ndarray:
        """The stored counts (exact; the name is ``FrequentItems``'s)."""
        return self.counts

    def top(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` most frequent (hash, count) pairs among the counted types, sorted by hash."""
        keys, counts, _ = self.sample()
        if len(keys) <= k:
            return keys.copy(), counts.copy()
        order = np.lexsort((keys, -counts))[:k]
        order.sort()
        return keys[order], counts[order]
