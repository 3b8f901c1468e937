"""The duplicate indexes merged by key partitions, so no one process holds a whole index.

Each shard's duplicate checks expose their tables (``ExactDuplicates.key_table``,
``NearDuplicates.slot_table``); the map side cuts them into ``R`` partitions by key hash, and each
reducer sees one partition of every shard's keys:

* exact keys: a reducer groups equal 128-bit keys; the earliest (shard, record) is the merged first
  copy, and every later shard's first copy of that key is remapped to it;
* whole-signature hashes: a reducer groups identical signatures (hash and verification values);
  a later shard's slot with an earlier twin joins the twin's record (identical-signature folding);
* band keys: a reducer groups equal (band, key) entries of the slots that are not folded, pairs
  each member with at most ``BUCKET_LIMIT`` earlier members, verifies the pair with the carried
  verification values, and sends each pair to a pair partition;
* pairs: a reducer drops the same pair met in several bands and counts candidates and verified
  pairs (exactly the one-scan counts: distinct pairs of distinct signatures sharing a band key).

Records are named by ``code = shard << 40 | record index within the shard``, which sorts in input
order. The functions are plain numpy so they run the same in one process (tests) or as Ray tasks
(``engine.ray_engine``). The duplicate checks call them from their ``Partitioned`` methods
(``checks.base.Partitioned``); the distributed engine only runs what the checks hand it.
"""

from __future__ import annotations

from ..lazy import np
from ..sketches.hashing import mix64
from .index import pairs_within

#: A record is compared with at most this many earlier members of one band bucket (the oldest), in
#: one scan and across shards alike. Exact copies never fill buckets (identical signatures are folded
#: together first); this only bounds the quadratic work of huge families of templated near-copies.
#: The benchmark corpus never reaches it (``benchmarks/check_reference.py`` would show a difference).
BUCKET_LIMIT = 256
SHIFT = 40                  # record codes are shard << SHIFT | record
_LOW = (1 << SHIFT) - 1


def verify(a: np.ndarray, b: np.ndarray, threshold: float) -> np.ndarray:
    """Signature Jaccard estimate >= threshold, row by row (share of agreeing values)."""
    agree = np.count_nonzero(a == b, axis=1)
    return agree / a.shape[1] >= threshold


def code(shard: int, records: np.ndarray) -> np.ndarray:
    """Record codes ``shard << 40 | record``."""
    return (np.uint64(shard) << np.uint64(SHIFT)) | np.asarray(records, dtype=np.uint64)


def split_code(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(shard, record) of record codes."""
    codes = np.asarray(codes, dtype=np.uint64)
    return (codes >> np.uint64(SHIFT)).astype(np.int64), (codes & np.uint64(_LOW)).astype(np.int64)


def _part(keys: np.ndarray, r: int) -> np.ndarray:
    return (mix64(np.asarray(keys, dtype=np.uint64), salt=0xC0FFEE) % np.uint64(r)).astype(np.int64)


# ---- exact keys -------------------------------------------------------------------------------------

def exact_partitions(shard: int, hi: np.ndarray, lo: np.ndarray, first: np.ndarray, r: int) -> list[np.ndarray]:
    """``(m, 3)`` uint64 rows ``(hi, lo, code)`` per partition."""
    rows = np.stack([hi.astype(np.uint64), lo.astype(np.uint64), code(shard, first)], axis=1) \
        if len(hi) else np.zeros((0, 3), np.uint64)
    p = _part(rows[:, 0], r)
    return [rows[p == i] for i in range(r)]


def exact_reduce(*parts: np.ndarray) -> np.ndarray:
    """``(m, 2)`` uint64 rows ``(code, first code)`` for every first copy that an earlier shard's
    copy of the same key replaces."""
    rows = np.concatenate(parts) if parts else np.zeros((0, 3), np.uint64)
    if not len(rows):
        return np.zeros((0, 2), np.uint64)
    order = np.lexsort((rows[:, 2], rows[:, 1], rows[:, 0]))
    rows = rows[order]
    new = np.ones(len(rows), bool)
    new[1:] = (rows[1:, 0] != rows[:-1, 0]) | (rows[1:, 1] != rows[:-1, 1])
    head = np.maximum.accumulate(np.where(new, np.arange(len(rows)), 0))
    later = ~new
    return np.stack([rows[later, 2], rows[head[later], 2]], axis=1)


# ---- identical signatures ------------------------------------------------------------------------

def signature_partitions(shard: int, table: dict[str, np.ndarray], r: int) -> list[dict[str, np.ndarray]]:
    """A shard's slots (signature hash, code, verification values) by hash partition."""
    codes = code(shard, table["record"])
    p = _part(table["sighash"], r)
    return [{"sighash": table["sighash"][p == i], "code": codes[p == i], "sigv": table["sigv"][p == i]}
            for i in range(r)]


def signature_reduce(*parts: dict[str, np.ndarray]) -> np.ndarray:
    """``(m, 2)`` uint64 rows ``(code, twin code)``: slots whose signature an earlier slot has."""
    if not parts:
        return np.zeros((0, 2), np.uint64)
    h = np.concatenate([p["sighash"] for p in parts])
    c = np.concatenate([p["code"] for p in parts])
    v = np.concatenate([p["sigv"] for p in parts])
    order = np.lexsort((c, h))
    h, c, v = h[order], c[order], v[order]
    start = np.ones(len(h), bool)
    start[1:] = h[1:] != h[:-1]
    bounds = np.append(np.flatnonzero(start), len(h))
    out = []
    multi = np.flatnonzero(np.diff(bounds) >= 2)
    for i, j in zip(bounds[multi].tolist(), bounds[multi + 1].tolist(), strict=True):
        reps: list[int] = []               # equal hashes: compare the values, earliest wins
        for t in range(i, j):
            twin = next((s for s in reps if np.array_equal(v[s], v[t])), None)
            if twin is None:
                reps.append(t)
            else:
                out.append((c[t], c[twin]))
    return np.array(out, dtype=np.uint64).reshape(-1, 2)


# ---- band keys and pairs -------------------------------------------------------------------------

def band_partitions(shard: int, table: dict[str, np.ndarray], r: int) -> list[dict[str, np.ndarray]]:
    """A shard's (band, key, code, verification values) entries by key partition."""
    bands = table["bands"]
    n, b = bands.shape
    codes = np.repeat(code(shard, table["record"]), b)
    band = np.tile(np.arange(b, dtype=np.uint64), n)
    keys = bands.reshape(-1)
    slot = np.repeat(np.arange(n), b)
    p = _part(keys ^ mix64(band, salt=3), r)
    return [{"band": band[p == i], "key": keys[p == i], "code": codes[p == i], "sigv": table["sigv"][slot[p == i]]}
            for i in range(r)]


def band_reduce(folded: np.ndarray, threshold: float, r: int, *parts: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Candidate pairs of one band-key partition, verified: per pair partition, ``(m, 3)`` uint64
    rows ``(later code, earlier code, verified)``. ``folded``: sorted codes of slots with an
    earlier twin (they are not candidates: their twin stands for them)."""
    empty = [np.zeros((0, 3), np.uint64) for _ in range(r)]
    if not parts:
        return empty
    band = np.concatenate([p["band"] for p in parts])
    key = np.concatenate([p["key"] for p in parts])
    c = np.concatenate([p["code"] for p in parts])
    v = np.concatenate([p["sigv"] for p in parts])
    keep = ~np.isin(c, folded)
    band, key, c, v = band[keep], key[keep], c[keep], v[keep]
    if not len(c):
        return empty
    order = np.lexsort((c, key, band))               # each group in input order
    band, key, c, v = band[order], key[order], c[order], v[order]
    group = np.ones(len(c), bool)
    group[1:] = (band[1:] != band[:-1]) | (key[1:] != key[:-1])
    gid = np.cumsum(group) - 1
    later, earlier = pairs_within(gid.astype(np.uint64), limit=BUCKET_LIMIT)
    if not len(later):
        return empty
    ok = verify(v[later], v[earlier], threshold)
    rows = np.stack([c[later], c[earlier], ok.astype(np.uint64)], axis=1)
    p = _part(rows[:, 0] ^ mix64(rows[:, 1], salt=5), r)
    return [rows[p == i] for i in range(r)]


def pair_reduce(*parts: np.ndarray) -> tuple[np.ndarray, int, int]:
    """(verified ``(later, earlier)`` code pairs, candidate pairs, verified pairs) of one pair
    partition, each pair once however many bands it shares."""
    rows = np.concatenate(parts) if parts else np.zeros((0, 3), np.uint64)
    if not len(rows):
        return np.zeros((0, 2), np.uint64), 0, 0
    rows = np.unique(rows, axis=0)
    ok = rows[:, 2] == 1
    return rows[ok][:, :2], len(rows), int(ok.sum())
