"""Compact streaming lookup structures in numpy (no Python object per record).

``SortedRuns`` is a small log-structured index of ``uint64`` keys with one value per entry: each
batch adds a sorted run, and runs of similar size are merged, so inserting N keys costs
O(N log N) overall and a lookup is one ``searchsorted`` per run (O(log N) runs). Memory is
8 bytes per key plus the value. It replaces Python dicts/sets of bytes keys, which cost hundreds
of bytes per entry (see ``near_duplicates.py`` for why datasketch's in-memory LSH storage is not
used at corpus scale).

``UnionFind`` keeps one int64 parent per record; the root of a set is always its smallest index.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import np

if TYPE_CHECKING:
    import numpy.typing as npt


class SortedRuns:
    """Sorted runs of ``uint64`` keys, each entry carrying one value in each of ``value_dtypes``."""

    def __init__(self, *value_dtypes: npt.DTypeLike) -> None:
        self.dtypes = [np.dtype(d) for d in (value_dtypes or (np.int64,))]
        self.keys: list[np.ndarray] = []
        self.vals: list[list[np.ndarray]] = []

    def __len__(self) -> int:
        return sum(len(k) for k in self.keys)

    @property
    def nbytes(self) -> int:
        """Bytes held by the keys and values (for the memory accounting of the checks)."""
        return sum(k.nbytes + sum(v.nbytes for v in vs) for k, vs in zip(self.keys, self.vals, strict=True))

    def add(self, keys: np.ndarray, *vals: np.ndarray) -> None:
        """Insert ``keys`` with one value array per value dtype as a new run, merging runs of similar size."""
        if len(keys) == 0:
            return
        order = np.argsort(keys, kind="stable")
        self.keys.append(np.ascontiguousarray(keys[order], dtype=np.uint64))
        self.vals.append([np.ascontiguousarray(v[order], dtype=d) for v, d in zip(vals, self.dtypes, strict=True)])
        while len(self.keys) >= 2 and len(self.keys[-2]) <= 2 * len(self.keys[-1]):
            k2, v2 = self.keys.pop(), self.vals.pop()
            k1, v1 = self.keys.pop(), self.vals.pop()
            # merge two sorted runs without a full sort: where each newer key lands
            # (after the equal older ones, so older entries stay first among equals)
            pos2 = np.searchsorted(k1, k2, side="right") + np.arange(len(k2))
            from2 = np.zeros(len(k1) + len(k2), dtype=bool)
            from2[pos2] = True
            k = np.empty(len(from2), dtype=np.uint64)
            k[pos2] = k2
            k[~from2] = k1
            merged = []
            for a1, a2 in zip(v1, v2, strict=True):
                v = np.empty(len(from2), dtype=a1.dtype)
                v[pos2] = a2
                v[~from2] = a1
                merged.append(v)
            del k1, k2, v1, v2, pos2, from2
            self.keys.append(k)
            self.vals.append(merged)

    def entries(self) -> tuple[np.ndarray, list[np.ndarray]]:
        """Every (key, values) entry, run by run (for merging another index into this one)."""
        if not self.keys:
            return np.zeros(0, np.uint64), [np.zeros(0, d) for d in self.dtypes]
        return np.concatenate(self.keys), [np.concatenate([v[i] for v in self.vals]) for i in range(len(self.dtypes))]

    def find_all(self, q: np.ndarray, limit: int | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
        """Every (query position, values) whose key equals ``q[pos]``, over all runs (at most
        ``limit`` per query and run, oldest first, when given)."""
        qis: list[np.ndarray] = []
        vs: list[list[np.ndarray]] = [[] for _ in self.dtypes]
        bounds = _Bounds(q)
        for keys, vals in zip(self.keys, self.vals, strict=True):
            lo, hi = bounds.within(keys)
            cnt = hi - lo
            hit = np.flatnonzero(cnt)
            if len(hit) == 0:
                continue
            c = cnt[hit] if limit is None else np.minimum(cnt[hit], limit)
            qi = np.repeat(hit, c)
            first = np.repeat(lo[hit], c)
            within = np.arange(len(qi)) - np.repeat(np.cumsum(c) - c, c)
            qis.append(qi)
            for out, v in zip(vs, vals, strict=True):
                out.append(v[first + within])
        if not qis:
            return np.zeros(0, np.int64), [np.zeros(0, d) for d in self.dtypes]
        return np.concatenate(qis), [np.concatenate(v) for v in vs]


class _Bounds:
    """Where each of many queries falls in sorted runs (``searchsorted``'s left and right ends).

    numpy's binary search starts from the previous answer when queries ascend, so a large batch of
    queries (a shard's keys looked up while merging, in the main process) is searched in sorted order
    once per run and the answers put back in query order: the same answers, a fraction of the time."""

    SORT_FROM = 4096     # fewer queries: search them as they are

    def __init__(self, q: np.ndarray) -> None:
        self.order = np.argsort(q, kind="stable") if len(q) >= self.SORT_FROM else None
        self.q = q if self.order is None else q[self.order]

    def within(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(left, right) insertion points of every query in ``keys``, in query order."""
        lo = np.searchsorted(keys, self.q, side="left")
        hi = np.searchsorted(keys, self.q, side="right")
        if self.order is None:
            return lo, hi
        out_lo, out_hi = np.empty_like(lo), np.empty_like(hi)
        out_lo[self.order] = lo
        out_hi[self.order] = hi
        return out_lo, out_hi


class RowStore:
    """Append-only rows (a 1-D or 2-D numpy array) in fixed-size chunks: no re-allocation of what
    is stored, constant-time gather by row number."""

    def __init__(self, width: int | None, dtype, chunk: int = 65536):
        self.width, self.dtype, self.chunk = width, np.dtype(dtype), chunk
        self.chunks: list[np.ndarray] = []
        self.n = 0

    @property
    def nbytes(self) -> int:
        """Bytes allocated for the chunks (including the unfilled tail of the last one)."""
        return sum(c.nbytes for c in self.chunks)

    def append(self, rows: np.ndarray) -> np.ndarray:
        """Store ``rows``; returns their row numbers."""
        ids = self.n + np.arange(len(rows))
        pos = 0
        while pos < len(rows):
            k, off = divmod(self.n, self.chunk)
            if k == len(self.chunks):
                shape = (self.chunk,) if self.width is None else (self.chunk, self.width)
                self.chunks.append(np.empty(shape, dtype=self.dtype))
            take = min(self.chunk - off, len(rows) - pos)
            self.chunks[k][off:off + take] = rows[pos:pos + take]
            self.n += take
            pos += take
        return ids

    def take(self, ids: np.ndarray) -> np.ndarray:
        """The stored rows with row numbers ``ids``, in that order."""
        ids = np.asarray(ids, dtype=np.int64)
        shape = (len(ids),) if self.width is None else (len(ids), self.width)
        out = np.empty(shape, dtype=self.dtype)
        c = ids // self.chunk
        for k in np.unique(c).tolist():
            sel = c == k
            out[sel] = self.chunks[k][ids[sel] - k * self.chunk]
        return out


def pairs_within(keys: np.ndarray, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """All (later, earlier) position pairs with equal keys inside one array (each later position
    paired with at most the first ``limit`` of its group, when given)."""
    if len(keys) < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    new_group = np.empty(len(sk), dtype=bool)
    new_group[0] = True
    new_group[1:] = sk[1:] != sk[:-1]
    gstart = np.maximum.accumulate(np.where(new_group, np.arange(len(sk)), 0))
    rank = np.arange(len(sk)) - gstart                 # earlier members in the same group
    if limit is not None:
        rank = np.minimum(rank, limit)
    if not rank.any():
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    later = np.repeat(np.arange(len(sk)), rank)
    within = np.arange(len(later)) - np.repeat(np.cumsum(rank) - rank, rank)
    earlier = np.repeat(gstart, rank) + within
    return order[later], order[earlier]


class UnionFind:
    """Disjoint sets over record numbers 0..n-1 that grow as batches arrive (clusters of duplicates)."""

    def __init__(self) -> None:
        self.parent = np.zeros(1024, dtype=np.int64)
        self.n = 0

    def extend(self, n: int) -> None:
        """Add ``n`` new records, each in a set of its own."""
        need = self.n + n
        if need > len(self.parent):
            grown = np.zeros(max(need, 2 * len(self.parent)), dtype=np.int64)
            grown[: self.n] = self.parent[: self.n]
            self.parent = grown
        self.parent[self.n:need] = np.arange(self.n, need)
        self.n = need

    def append_shifted(self, other: UnionFind) -> int:
        """Append ``other``'s elements (and their sets) after this one's; returns the offset added."""
        offset = self.n
        roots = other.roots()
        self.extend(other.n)
        self.parent[offset:self.n] = roots + offset
        return offset

    def find(self, x: int) -> int:
        """The root (smallest member) of ``x``'s set, halving the path on the way."""
        p = self.parent
        while p[x] != x:
            p[x] = p[p[x]]
            x = int(p[x])
        return x

    def union(self, a: int, b: int) -> bool:
        """Join the sets of ``a`` and ``b`` under the smaller root; False when already joined."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        if ra < rb:
            self.parent[rb] = ra
        else:
            self.parent[ra] = rb
        return True

    def roots(self) -> np.ndarray:
        """Every record's root, by pointer jumping in numpy (the parent array is left as is)."""
        p = self.parent[: self.n].copy()
        while True:
            q = p[p]
            if np.array_equal(q, p):
                return p
            p = q
