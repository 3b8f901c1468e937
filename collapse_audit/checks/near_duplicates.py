"""Near duplicates: MinHash over k-word shingles, LSH banding, verified pairs, union-find clusters.

``prepare`` (vectorised, any process) computes each record's MinHash signature
(``text/minhash.py``; ``num_perm`` uint32 values) and reduces it to what ``observe`` needs:

* one 64-bit key per LSH band — ``b`` bands of ``r`` rows, with ``(b, r)`` chosen by datasketch's
  own ``_optimal_param(threshold, num_perm)`` exactly as ``MinHashLSH`` does (9 x 13 for 0.8/128);
* a 64-bit hash of the whole signature (to fold records with identical signatures together);
* the low ``VERIFY_BITS`` (8) bits of every signature value (b-bit minwise hashing, Li & König
  2010), used to verify candidates.

``observe`` (input order) finds candidate pairs — earlier records sharing at least one band key —
and keeps a pair when the signature Jaccard estimate (share of agreeing 8-bit values) is
>= ``threshold``; kept pairs are merged with union-find, whose root is the lowest index of a
cluster. With b bits, two different values agree by chance with probability 2**-b, so the
agreement rate is P = J + (1 - J) 2**-b; the corrected estimate (P - 2**-b) / (1 - 2**-b) >= 0.8
means agreeing values >= 102.5 of 128, the same integer cut (103) as the raw share with full
values. What remains is chance agreement on a pair's disagreeing positions: on the 100k benchmark
corpus 8 bits accept 2 of 3,588 candidate pairs that 16 bits reject (2 records of 100,000 change),
for half the memory (128 instead of 256 bytes per record: 120 MiB less at 1M records). Set
``VERIFY_BITS = 16`` for the stricter variant. The reference
(``benchmarks/check_reference.py``) applies the same rule, through ``verification_values``.

Index: datasketch's ``MinHashLSH`` with its in-memory storage keeps a Python ``set`` per band
bucket plus a ``bytes`` key per band per record and a list per key: measured ~3.4 KB per record
(``benchmarks/SCAN.md``), i.e. ~3 GiB at 1M records, over the 1 GiB budget. Its other storage
back end is Redis/Cassandra (a server). So the banding is done here with the same (b, r) and
band contents in numpy sorted runs (``text/index.py``): 12 bytes per band per record. Records
whose signature equals an earlier record's are unioned with it directly and not inserted, so a
corpus with thousands of copies of one text does not create quadratic candidate lists. The
candidate set is exactly datasketch's (plus 64-bit key collisions, which verification rejects),
except that a record meets at most ``BUCKET_LIMIT`` earlier members of one bucket.

Shards (``merge``): the later shard's slots (its records with a new signature) are looked up in
this shard's signature index (identical signatures are unioned with this shard's record) and
then in its band indexes; the candidate pairs are verified with the stored verification values
and unioned (the later shard's own clusters are appended, rebased), and its new slots are added
to the indexes. Clusters, kept records (lowest global index), counts and the candidate/verified
pair counts are exactly those of one scan: a cluster's structure depends only on which distinct
signatures share a band key and pass verification, not on the order they were seen in (the pair
counts are corrected for pairs both shards counted). Two bounded differences: a record meets at
most ``BUCKET_LIMIT`` earlier members of one bucket *per sorted run and per shard*, so buckets
larger than that may be cut differently; and a member's report excerpt is kept only by the shard
that saw the link, so a member linked only across shards shows no excerpt (``None``).

Per-record outputs:

* ``near_cluster`` — ``pyarrow.Array`` int64: dense cluster id (in order of each cluster's first
  record) for members of clusters of size >= 2, null otherwise.
* ``duplicate_of_row`` — ``pyarrow.Array`` int64: global index of the kept record (the lowest
  index of the cluster) for every other member, null for kept records and singletons.
* flags ``duplicates.near_count`` / ``duplicates.near_fraction`` — true where
  ``duplicate_of_row`` is set.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ..lazy import np, pa
from ..result.formatting import fmt_number
from ..result.sections import Section, SizeCounts, SourceSeries, Table
from ..sketches.hashing import mix64
from ..text import shuffle as S
from ..text.batch import nfc_batch
from ..text.excerpt import excerpt
from ..text.index import RowStore, SortedRuns, UnionFind, pairs_within
from ..text.limits import clip_nfc
from ..text.memo import per_batch
from ..text.minhash import MinHasher
from ..text.shuffle import BUCKET_LIMIT, verify
from . import presenting as P
from .base import Check, CheckResult
from .registry import register_check
from .spec import Column, Metric, Rule, option

LARGEST = 10
MEMBERS_SHOWN = 10
MAX_EXCERPTS = 5000
PREPARE_BYTES = 2 << 20      # text per vectorised step: bounds a worker's temporaries
# Bits of each signature value kept for verification (b-bit minwise hashing): 8 or 16.
VERIFY_BITS = 8
VERIFY_DTYPE = f"uint{VERIFY_BITS}"   # a dtype name: importing a check module does not import numpy
_FNV = 0x100000001B3


#: datasketch's choice for the common settings, so a scan does not import datasketch (and scipy:
#: seconds of start-up in every process) to look it up; ``tests/checks`` compares it with datasketch
KNOWN_LSH_PARAMS = {(0.8, 128): (9, 13), (0.7, 128): (14, 9), (0.9, 128): (5, 25), (0.8, 256): (17, 15),
                    (0.8, 64): (5, 11)}


@functools.lru_cache(maxsize=64)
def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) as datasketch's MinHashLSH picks them (equal FP/FN weights)."""
    known = KNOWN_LSH_PARAMS.get((round(float(threshold), 6), int(num_perm)))
    if known is not None:
        return known
    try:
        from datasketch.lsh import _optimal_param
        return _optimal_param(threshold, num_perm, 0.5, 0.5)
    except Exception:  # pragma: no cover - datasketch internals moved
        best, res = float("inf"), (1, num_perm)
        for b in range(1, num_perm + 1):
            for r in range(1, num_perm // b + 1):
                fp = _integrate(lambda s, r=r, b=b: 1 - (1 - s ** r) ** b, 0.0, threshold)
                fn = _integrate(lambda s, r=r, b=b: 1 - (1 - (1 - s ** r) ** b), threshold, 1.0)
                if 0.5 * fp + 0.5 * fn < best:
                    best, res = 0.5 * fp + 0.5 * fn, (b, r)
        return res


def _integrate(f, a, b, n=200):
    xs = np.linspace(a, b, n + 1)
    ys = np.array([f(x) for x in xs])
    return float(np.trapezoid(ys, xs) if hasattr(np, "trapezoid") else np.trapz(ys, xs))


def row_hash(sig: np.ndarray, salt: int) -> np.ndarray:
    """64-bit hash of each row of a uint32 matrix."""
    acc = np.full(sig.shape[0], (salt * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF, dtype=np.uint64)
    fnv = np.uint64(_FNV)
    with np.errstate(over="ignore"):
        for c in range(sig.shape[1]):
            acc ^= sig[:, c]
            acc *= fnv
    return mix64(acc)


def band_keys(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """``(n, bands)`` uint64: a key per band, salted with the band number."""
    out = np.empty((sig.shape[0], bands), dtype=np.uint64)
    for j in range(bands):
        out[:, j] = row_hash(sig[:, j * rows:(j + 1) * rows], j + 1)
    return out


def verification_values(sig: np.ndarray) -> np.ndarray:
    """The low ``VERIFY_BITS`` bits of each signature value: what is kept to verify candidates."""
    return sig.astype(VERIFY_DTYPE)


_HASHERS: dict[tuple[int, int, int], MinHasher] = {}


@per_batch
def batch_signatures(batch, num_perm: int, ngram: int, seed: int, bands: int, rows: int) -> dict[str, np.ndarray]:
    """What ``observe`` needs of a batch's MinHash signatures: band keys, whole-signature hashes and
    verification values (computed once per batch and settings per process: the seen-before check
    uses them too)."""
    hasher = _HASHERS.get((num_perm, ngram, seed))
    if hasher is None:
        hasher = _HASHERS[(num_perm, ngram, seed)] = MinHasher(num_perm=num_perm, ngram=ngram, seed=seed)
    nfc = clip_nfc(nfc_batch(batch))  # capped: see text/limits.py
    parts = [hasher.signatures(batch.texts[a:b], sub) for a, b, sub in nfc.chunks(PREPARE_BYTES)]
    sig = np.concatenate(parts) if parts else np.zeros((0, num_perm), dtype=np.uint32)
    return {"bands": band_keys(sig, bands, rows), "sighash": row_hash(sig, 0x51C), "sigv": verification_values(sig)}


@dataclass(frozen=True)
class NearDuplicateOptions:
    """Policy options of the near-duplicate check (similarity threshold, MinHash size, shingles)."""
    threshold: float = option(0.8, "MinHash Jaccard similarity at which two records are near duplicates.",
                              min=0.05, max=1.0)
    ngram: int = option(5, "Words per shingle.", min=1, max=64)
    num_perm: int = option(128, "MinHash permutations per record.", min=16, max=1024)


@register_check
class NearDuplicates(Check):
    """Finds clusters of near-identical records with MinHash LSH, verified by signature similarity."""
    name = "near_duplicates"
    title = "Near duplicates"
    Options = NearDuplicateOptions
    options_key = "near_duplicates"
    metrics = (
        Metric("duplicates.near_count", "count", "Records in a near-duplicate cluster other than its first "
               "record: what near-deduplication would remove.", unit="records", record_level="representative"),
        Metric("duplicates.near_fraction", "fraction", "Share of records that near-deduplication would remove.",
               record_level="representative"),
        Metric("duplicates.near_clusters", "count", "Clusters of two or more near-duplicate records.",
               unit="clusters"),
    )

    copy_basis = "near duplicate"

    @classmethod
    def copies(cls, records: Any) -> np.ndarray:
        """Every record whose ``duplicate_of_row`` points to its cluster's representative."""
        return np.asarray(records.duplicate_of >= 0)
    rules = (
        Rule(
            "CA201", "near-duplicate-share", "duplicates.near_fraction", "max", 0.05, "error",
            rationale=(
                "Near-duplicates (MinHash Jaccard >= 0.8 over 5-word shingles) over-weight recycled content "
                "and shrink effective diversity; training on them accelerates memorisation and collapse. The "
                "share counts every cluster member but one, i.e. what deduplication would remove."
            ),
            example="{id: CA201, metric: duplicates.near_fraction, max: 0.05}",
            enabled_by_default=True,
        ),
    )
    columns = (
        Column("near_cluster", "int64", "Dense id of the record's near-duplicate cluster (null when alone).",
               contract=True),
        Column("duplicate_of_row", "int64", "Global index of the cluster's kept record, for every other member.",
               contract=True),
    )

    def __init__(self, ctx=None):
        from ..readers.places import Places  # here, so reading the rule catalogue loads no reader

        super().__init__(ctx)
        nd = self.options
        self.threshold = float(nd.threshold)
        self.num_perm = int(nd.num_perm)
        self.hasher = MinHasher(num_perm=self.num_perm, ngram=int(nd.ngram), seed=int(self.seed))
        self.bands, self.rows = lsh_params(self.threshold, self.num_perm)
        # Only records whose signature is new get a slot (a stored signature and index entries).
        self.band_index = [SortedRuns(np.uint32) for _ in range(self.bands)]   # per band: key -> slot
        self.sig_index = SortedRuns(np.uint32)                 # whole-signature hash -> slot
        self.sigs = RowStore(self.num_perm, VERIFY_DTYPE)       # slot -> verification values
        self.slot_record = RowStore(None, np.int64)            # slot -> internal record index
        self.uf = UnionFind()
        self.n = 0
        self.places = Places()                 # file, row and line of every record
        self.files: dict[int, str] = {}
        self.starts: list[tuple[int, int]] = []
        self.excerpts: dict[int, str] = {}
        self.pairs_checked = 0
        self.pairs_verified = 0
        self.newer: list[np.ndarray] = []    # records that were the newer end of a link (excerpt-worthy)
        self._roots: np.ndarray | None = None

    state_attrs = ("band_index", "sig_index", "sigs", "slot_record", "uf", "n", "places", "files",
                   "starts", "excerpts", "pairs_checked", "pairs_verified", "newer")

    # ---- merging shards -----------------------------------------------------------------------

    def _slot_bands(self) -> tuple[np.ndarray, np.ndarray]:
        """(slots x bands keys, slot signature hashes), rebuilt from the indexes (slot order)."""
        n = self.sigs.n
        bands = np.zeros((n, self.bands), dtype=np.uint64)
        for j, index in enumerate(self.band_index):
            keys, (slot,) = index.entries()
            bands[slot.astype(np.int64), j] = keys
        sighash = np.zeros(n, dtype=np.uint64)
        keys, (slot,) = self.sig_index.entries()
        sighash[slot.astype(np.int64)] = keys
        return bands, sighash

    def _band_pairs(self, bands: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distinct (query position, slot of this index) pairs sharing a band key."""
        qa, sb = [], []
        for j in range(self.bands):
            qi, (slot,) = self.band_index[j].find_all(bands[query, j], limit=BUCKET_LIMIT)
            qa.append(qi)
            sb.append(slot.astype(np.int64))
        if not qa:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        pair = np.unique(np.stack((np.concatenate(qa), np.concatenate(sb)), axis=1), axis=0)
        return pair[:, 0], pair[:, 1]

    def merge_records(self, other: NearDuplicates) -> int:
        """Append the later shard's records, clusters, excerpts and counts, without looking its
        slots up in this index (a distributed engine finds the cross-shard links itself and hands
        them to ``add_links``). Returns the offset added to the later shard's indices."""
        self._merge_guard(other)
        base = self.uf.append_shifted(other.uf)
        self.n += other.n
        self.places.extend(other.places)
        self.files.update(other.files)
        self.starts += [(s + base, g + base) for s, g in other.starts]
        for r, text in sorted(other.excerpts.items()):
            if len(self.excerpts) >= MAX_EXCERPTS:
                break
            self.excerpts.setdefault(r + base, text)
        self.newer += [n + base for n in other.newer]
        self.pairs_checked += other.pairs_checked
        self.pairs_verified += other.pairs_verified
        self._roots = None
        return base

    source_series = (SourceSeries("duplicate", "near-duplicate", ("duplicates.near_fraction",)),)

    @classmethod
    def figures(cls, details, metrics, detector) -> list[Any]:
        """The distribution of cluster sizes (malformed entries dropped)."""
        raw = details.get("cluster_sizes")
        sizes = []
        for k, v in raw.items() if isinstance(raw, dict) else []:
            try:
                sizes.append((int(k), int(v)))
            except (TypeError, ValueError):
                continue
        if not sizes:
            return []
        return [SizeCounts("clusters", "Near-duplicate cluster sizes", "near-identical records",
                           "records per cluster", sorted(sizes))]

    # ---- partitioned across machines (``base.Partitioned``) --------------------------------------

    key_tables = 2

    def partition(self, shard: int, r: int) -> list[list[Any]]:
        """Whole-signature hashes and band keys of every slot, each cut into ``r`` partitions."""
        table = self.slot_table()
        self.drop_index()
        return [S.signature_partitions(shard, table, r), S.band_partitions(shard, table, r)]

    @classmethod
    def reduce(cls, ex: Any, tables: list[list[list[Any]]], r: int, options: Any) -> Any:
        """Identical signatures folded, then band buckets paired and verified, then pairs de-duplicated
        and counted; returns (folded links, [(verified pairs, candidates, verified) per partition])."""
        sig_parts, band_parts = tables
        folded_pairs = ex.get([ex.submit(S.signature_reduce, *parts) for parts in sig_parts])
        folded = np.concatenate(list(folded_pairs)) if folded_pairs else np.zeros((0, 2), np.uint64)
        folded_codes = ex.put(np.sort(folded[:, 0]))
        threshold = float(options.threshold)
        band_out = [ex.submit(S.band_reduce, folded_codes, threshold, r, *parts, num_returns=r)
                    for parts in band_parts]
        pairs = ex.get([ex.submit(S.pair_reduce, *[b[i] for b in band_out]) for i in range(r)])
        return folded, pairs

    def join(self, reduced: Any, bases: np.ndarray) -> Any:
        """The cross-shard links in merged record indices, and the pair counts."""
        folded, pair_out = reduced

        def glob(codes: np.ndarray) -> np.ndarray:
            k, i = S.split_code(codes)
            return bases[k] + i

        verified = [p for p, _, _ in pair_out]
        pairs = np.concatenate(verified) if verified else np.zeros((0, 2), np.uint64)
        newer = np.concatenate([glob(folded[:, 0]), glob(pairs[:, 0])])
        older = np.concatenate([glob(folded[:, 1]), glob(pairs[:, 1])])
        return newer, older, sum(c for _, c, _ in pair_out), sum(v for _, _, v in pair_out)

    def merge_partitioned(self, other: Any, shard: int, joined: Any) -> None:
        """Append the shard's records and clusters (its links come with ``apply_joined``)."""
        self.merge_records(other)

    def apply_joined(self, joined: Any) -> None:
        """Union the links the reducers verified; the pair counts are theirs."""
        newer, older, checked, verified = joined
        self.add_links(newer, older)
        self.pairs_checked = checked
        self.pairs_verified = verified

    def add_links(self, newer: np.ndarray, older: np.ndarray) -> None:
        """Union verified links found outside this state (global record indices)."""
        for i, j in zip(np.asarray(newer).tolist(), np.asarray(older).tolist(), strict=True):
            self.uf.union(i, j)
        if len(newer):
            self.newer.append(np.unique(np.asarray(newer, dtype=np.int64)))
        self._roots = None

    def slot_table(self) -> dict[str, np.ndarray]:
        """Every slot's band keys, signature hash, verification values and record (for a
        distributed merge that partitions them by key)."""
        bands, sighash = self._slot_bands()
        every = np.arange(self.sigs.n)
        return {"bands": bands, "sighash": sighash, "sigv": self.sigs.take(every),
                "record": self.slot_record.take(every)}

    def drop_index(self) -> None:
        """Forget the slot indexes (after ``slot_table`` was taken): what remains merges with
        ``merge_records``."""
        self.band_index = [SortedRuns(np.uint32) for _ in range(self.bands)]
        self.sig_index = SortedRuns(np.uint32)
        self.sigs = RowStore(self.num_perm, VERIFY_DTYPE)
        self.slot_record = RowStore(None, np.int64)

    def merge(self, other: Check) -> None:
        """Exact: the later shard's signatures are looked up in this index and its clusters joined."""
        self._merge_guard(other)
        assert isinstance(other, NearDuplicates)
        base = self.uf.n
        o_bands, o_hash = other._slot_bands()
        o_sigv = other.sigs.take(np.arange(other.sigs.n))
        o_rec = other.slot_record.take(np.arange(other.sigs.n)) + base
        # 1. other's slots whose signature is identical to one of ours: the same record class
        same = np.full(len(o_hash), -1, dtype=np.int64)
        qi, (slot,) = self.sig_index.find_all(o_hash)
        if len(qi):
            ok = np.all(self.sigs.take(slot) == o_sigv[qi], axis=1)
            same[qi[ok]] = self.slot_record.take(slot[ok])
        matched = np.flatnonzero(same >= 0)
        new = np.flatnonzero(same < 0)
        links = [(o_rec[matched], same[matched])]
        # 2. pairs other counted that one scan counts on our side (an endpoint that is one of ours)
        if len(matched):
            qa, sb = other._band_pairs(o_bands, matched)
            a, b = matched[qa], sb
            keep = a != b
            a, b = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
            if len(a):
                pair = np.unique(np.stack((a, b), axis=1), axis=0)
                ok = verify(o_sigv[pair[:, 0]], o_sigv[pair[:, 1]], self.threshold)
                other_checked, other_verified = len(pair), int(ok.sum())
            else:
                other_checked = other_verified = 0
        else:
            other_checked = other_verified = 0
        # 3. other's new classes against ours: candidate pairs, verified
        qa, sb = self._band_pairs(o_bands, new)
        ok = verify(o_sigv[new[qa]], self.sigs.take(sb), self.threshold) if len(qa) else np.zeros(0, bool)
        links.append((o_rec[new[qa[ok]]], self.slot_record.take(sb[ok])))
        self.merge_records(other)
        self.pairs_checked += len(qa) - other_checked
        self.pairs_verified += int(ok.sum()) - other_verified
        self.add_links(np.concatenate([x for x, _ in links]), np.concatenate([y for _, y in links]))
        # 4. other's new classes join the indexes
        if len(new):
            self._index_slots(o_sigv[new], o_hash[new], o_rec[new], o_bands[new])

    # ---- per batch -----------------------------------------------------------------------------

    def prepare(self, batch):
        """The batch's MinHash signatures and LSH band hashes."""
        return batch_signatures(batch, self.num_perm, self.hasher.ngram, int(self.seed), self.bands, self.rows)

    def observe(self, batch, prepared) -> None:
        """Index the batch's signatures and union each record with the verified earlier matches."""
        if prepared is None:
            prepared = self.prepare(batch)
        base = self.n
        n = self._take_positions(batch)
        if n == 0:
            return
        sigv, sighash, bands = prepared["sigv"], prepared["sighash"], prepared["bands"]
        rec = base + np.arange(n)
        same = self._identical_signatures(sigv, sighash, base)
        links: list[tuple[np.ndarray, np.ndarray]] = []
        dup = np.flatnonzero(same >= 0)
        if len(dup):
            links.append((rec[dup], same[dup]))
        new = np.flatnonzero(same < 0)
        if len(new):
            nb = bands[new]
            pair = self._candidate_pairs(new, nb)
            if pair is not None:
                links.append(self._verified_links(pair, sigv, rec, base))
            self._index_slots(sigv[new], sighash[new], rec[new], nb)
        newer = self._union_links(links)
        self._keep_excerpts(newer, batch.texts, base)

    def _take_positions(self, batch) -> int:
        """Remember where the batch's records are (file, row, line, global start) and give them union-find
        entries; returns the batch size. Done even for an empty batch, so file indexes stay dense."""
        n = len(batch)
        self.files[batch.file_index] = batch.file
        self.starts.append((self.n, batch.start))
        self.places.add(batch)
        self.uf.extend(n)
        self.n += n
        return n

    def _identical_signatures(self, sigv: np.ndarray, sighash: np.ndarray, base: int) -> np.ndarray:
        """Per batch position, the internal index of an earlier record with the same signature, else -1.

        Earlier batches are looked up in the signature index, then the batch is folded onto its own
        first occurrences. Such records are unioned directly and never enter the band index, so
        thousands of copies of one text do not make quadratic candidate lists."""
        n = len(sighash)
        same = np.full(n, -1, dtype=np.int64)
        qi, (slot,) = self.sig_index.find_all(sighash)
        if len(qi):
            ok = np.all(self.sigs.take(slot) == sigv[qi], axis=1)
            same[qi[ok]] = self.slot_record.take(slot[ok])
        todo = np.flatnonzero(same < 0)
        if len(todo) > 1:
            _, first, inv = np.unique(sighash[todo], return_index=True, return_inverse=True)
            rep = todo[first[inv.ravel()]]                 # first position with the same hash
            ok = (rep != todo) & np.all(sigv[todo] == sigv[rep], axis=1)
            same[todo[ok]] = base + rep[ok]
        return same

    def _candidate_pairs(self, new: np.ndarray, nb: np.ndarray) -> np.ndarray | None:
        """Distinct (position, other) pairs sharing a band key, for the batch's new signatures
        (positions ``new``, band keys ``nb``); None when there are none.

        ``other`` >= 0 is a position in this batch, < 0 the slot ``-1 - other`` of an earlier batch.
        A record meets at most ``BUCKET_LIMIT`` members of one bucket, so a huge bucket costs linear
        time, not quadratic."""
        cand_a, cand_b = [], []
        for j in range(self.bands):
            qi, (slot,) = self.band_index[j].find_all(nb[:, j], limit=BUCKET_LIMIT)
            if len(qi):
                cand_a.append(new[qi])
                cand_b.append(-1 - slot.astype(np.int64))   # negative: a slot of an earlier batch
            la, lb = pairs_within(nb[:, j], limit=BUCKET_LIMIT)
            if len(la):
                cand_a.append(new[la])
                cand_b.append(new[lb])                       # >= 0: a position in this batch
        if not cand_a:
            return None
        a = np.concatenate(cand_a)
        b = np.concatenate(cand_b)
        keep = a != b
        a, b = a[keep], b[keep]
        return np.unique(np.stack((a, b), axis=1), axis=0)

    def _verified_links(self, pair: np.ndarray, sigv: np.ndarray, rec: np.ndarray,
                        base: int) -> tuple[np.ndarray, np.ndarray]:
        """The candidate pairs whose signature Jaccard estimate reaches the threshold, as (newer,
        older) internal record indices; counts the pairs checked and verified (reported metrics)."""
        a, b = pair[:, 0], pair[:, 1]
        old = b < 0
        otherv = np.empty((len(a), self.num_perm), dtype=sigv.dtype)
        if old.any():
            otherv[old] = self.sigs.take(-1 - b[old])
        otherv[~old] = sigv[b[~old]]
        ok = verify(sigv[a], otherv, self.threshold)
        self.pairs_checked += len(a)
        self.pairs_verified += int(ok.sum())
        b_rec = np.where(old, 0, base + b)
        if old.any():
            b_rec[old] = self.slot_record.take(-1 - b[old])
        return rec[a[ok]], b_rec[ok]

    def _index_slots(self, sigv: np.ndarray, sighash: np.ndarray, records: np.ndarray, bands: np.ndarray) -> None:
        """Add new distinct signatures as slots: their verification values and record, and their keys
        in the band and signature indexes, where later records (and shards) look them up."""
        slots = self.sigs.append(sigv)
        self.slot_record.append(records)
        for j in range(self.bands):
            self.band_index[j].add(bands[:, j], slots.astype(np.uint32))
        self.sig_index.add(sighash, slots.astype(np.uint32))

    def _union_links(self, links: list[tuple[np.ndarray, np.ndarray]]) -> list[int]:
        """Union every verified link; returns (and remembers, for ``_excerpt_worthy``) the newer end
        of each link in record order."""
        newer: set[int] = set()
        for x, y in links:
            for i, j in zip(x.tolist(), y.tolist(), strict=True):
                self.uf.union(i, j)
                newer.add(max(i, j))
        ordered = sorted(newer)
        self.newer.append(np.array(ordered, dtype=np.int64))
        return ordered

    def _keep_excerpts(self, newer: list[int], texts, base: int) -> None:
        """Excerpts only for the newer record of each verified link: it is always in this batch,
        so which records get one (and the first MAX_EXCERPTS of them, in record order) does not
        depend on batch size or worker count. The kept record's text is its duplicates' text."""
        for r in newer:
            if len(self.excerpts) >= MAX_EXCERPTS:
                break
            if r not in self.excerpts:
                self.excerpts[r] = excerpt(texts[r - base])

    # ---- results -------------------------------------------------------------------------------

    def _roots_array(self) -> np.ndarray:
        if self._roots is None:
            self._roots = self.uf.roots()
        return self._roots

    def _to_global(self, internal: np.ndarray) -> np.ndarray:
        if not self.starts:
            return internal
        starts = np.array([s for s, _ in self.starts], dtype=np.int64)
        gstarts = np.array([g for _, g in self.starts], dtype=np.int64)
        b = np.searchsorted(starts, internal, side="right") - 1
        return internal - starts[b] + gstarts[b]

    def _excerpt_worthy(self) -> np.ndarray:
        """The records one scan keeps an excerpt for: the first ``MAX_EXCERPTS`` newer ends of links."""
        newer = np.unique(np.concatenate(self.newer)) if self.newer else np.zeros(0, np.int64)
        return newer[:MAX_EXCERPTS]

    def _shown_members(self) -> list[int]:
        roots = self._roots_array()
        sizes = np.bincount(roots, minlength=len(roots)) if len(roots) else np.zeros(0, np.int64)
        cluster_roots = np.flatnonzero(sizes >= 2)
        top = cluster_roots[np.lexsort((cluster_roots, -sizes[cluster_roots]))[:LARGEST]]
        out: list[int] = []
        for r in top.tolist():
            out += np.flatnonzero(roots == r)[:MEMBERS_SHOWN].tolist()
        return out

    def excerpt_requests(self) -> dict[int, tuple[int, int]]:
        """Where to read the texts of the largest clusters' shown members (record -> file, row)."""
        worthy = self._excerpt_worthy()
        want = [i for i in self._shown_members() if i not in self.excerpts and np.isin(i, worthy)]
        if not want:
            return {}
        return {i: self.places.file_row(i) for i in want}

    def add_excerpts(self, texts: dict[int, str]) -> None:
        """Keep excerpts of the shown members, read back by the engine after the scan."""
        self.excerpts.update({i: excerpt(t) for i, t in texts.items()})

    def finish(self) -> CheckResult:
        """Cluster counts and fractions, the cluster-size histogram, largest clusters and columns."""
        roots = self._roots_array()
        total = len(roots)
        idx = np.arange(total)
        sizes = np.bincount(roots, minlength=total) if total else np.zeros(0, np.int64)
        is_dup = roots != idx
        in_cluster = sizes[roots] >= 2 if total else np.zeros(0, bool)
        cluster_roots = np.flatnonzero(sizes >= 2)
        dense = np.full(total, -1, dtype=np.int64)
        dense[cluster_roots] = np.arange(len(cluster_roots))
        cid = np.where(in_cluster, dense[roots], -1)
        dup_of = np.where(is_dup, self._to_global(roots), -1)
        columns = {
            "near_cluster": pa.array(cid, type=pa.int64(), mask=cid < 0),
            "duplicate_of_row": pa.array(dup_of, type=pa.int64(), mask=dup_of < 0),
        }
        count = int(is_dup.sum())
        metrics = {
            "duplicates.near_count": count,
            "duplicates.near_fraction": float(count / total) if total else 0.0,
            "duplicates.near_clusters": int(len(cluster_roots)),
        }
        hist = Counter(sizes[cluster_roots].tolist())
        csizes = sizes[cluster_roots]
        largest = []
        top = cluster_roots[np.lexsort((cluster_roots, -csizes))[:LARGEST]]
        worthy = set(self._excerpt_worthy().tolist()) if len(top) else set()
        if len(top):
            members_of: dict[int, list[int]] = {int(r): [] for r in top}
            sel = np.flatnonzero(np.isin(roots, top))
            for i, r in zip(sel.tolist(), roots[sel].tolist(), strict=True):
                if len(members_of[r]) < MEMBERS_SHOWN:
                    members_of[r].append(i)
            for r in top.tolist():
                largest.append({
                    "size": int(sizes[r]),
                    "members": [{**self.places.locate(i, self.files),
                                 "excerpt": self.excerpts.get(i) if i in worthy else None}
                                for i in members_of[r]],
                })
        details = {
            "threshold": self.threshold, "num_perm": self.num_perm, "ngram": self.hasher.ngram,
            "lsh": {"bands": int(self.bands), "rows": int(self.rows)},
            "candidate_pairs": int(self.pairs_checked), "verified_pairs": int(self.pairs_verified),
            "cluster_sizes": {str(k): int(v) for k, v in sorted(hist.items())},
            "largest": largest,
        }
        flags = {"duplicates.near_count": is_dup, "duplicates.near_fraction": is_dup}
        return CheckResult(metrics=metrics, details=details, columns=columns, flags=flags)

    def metrics_for(self, mask: np.ndarray) -> dict[str, float]:
        """The near-duplicate metrics over the records in ``mask`` (a source's slice)."""
        roots = self._roots_array()
        mask = np.asarray(mask, dtype=bool)
        m = int(mask.sum())
        if m == 0:
            return {"duplicates.near_count": 0, "duplicates.near_fraction": 0.0,
                    "duplicates.near_clusters": 0}
        _, counts = np.unique(roots[mask], return_counts=True)
        count = m - len(counts)
        return {"duplicates.near_count": int(count), "duplicates.near_fraction": count / m,
                "duplicates.near_clusters": int((counts >= 2).sum())}

    @classmethod
    def section(cls, details, metrics) -> Section | None:
        """The cluster figures, the size histogram and the largest clusters with excerpts."""
        sizes = details.get("cluster_sizes")
        tables = []
        if isinstance(sizes, dict) and sizes:
            tables.append(Table(["cluster size", "clusters"], [[str(k), fmt_number(v)] for k, v in sizes.items()],
                                title="Cluster sizes"))
        for n, cluster in enumerate(P.dicts(details.get("largest")), start=1):
            t = P.examples_table(f"Cluster {n} ({fmt_number(cluster.get('size'))} records)", cluster.get("members"))
            if t is not None:
                tables.append(t)
        params = [(k, fmt_number(details[k])) for k in ("threshold", "ngram", "num_perm") if k in details]
        return Section(
            key=cls.name, title=cls.title,
            facts=P.facts(P.fact(metrics, "duplicate records", "duplicates.near_count", "count"),
                          P.fact(metrics, "share", "duplicates.near_fraction", "fraction"),
                          P.fact(metrics, "clusters", "duplicates.near_clusters", "count"), *params),
            tables=tables,
        )
