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

Per-record outputs:

* ``near_cluster`` — ``pyarrow.Array`` int64: dense cluster id (in order of each cluster's first
  record) for members of clusters of size >= 2, null otherwise.
* ``duplicate_of_row`` — ``pyarrow.Array`` int64: global index of the kept record (the lowest
  index of the cluster) for every other member, null for kept records and singletons.
* flags ``duplicates.near_count`` / ``duplicates.near_fraction`` — true where
  ``duplicate_of_row`` is set.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..result.formatting import fmt_number
from ..result.sections import Section, Table
from ..sketches.hashing import mix64
from ..text.batch import nfc_batch
from ..text.excerpt import excerpt
from ..text.index import RowStore, SortedRuns, UnionFind, pairs_within
from ..text.limits import clip_nfc
from ..text.minhash import MinHasher
from . import presenting as P
from .base import Check, CheckResult
from .registry import register_check
from .spec import Column, Metric, Rule, option

LARGEST = 10
MEMBERS_SHOWN = 10
MAX_EXCERPTS = 5000
PREPARE_BYTES = 2 << 20      # text per vectorised step: bounds a worker's temporaries
# A record is compared with at most this many earlier members of one band bucket (the oldest).
# Exact copies never fill buckets (identical signatures are folded together first); this only
# bounds the quadratic work of huge families of templated near-copies. The benchmark corpus never
# reaches it (``benchmarks/check_reference.py`` would show a difference).
BUCKET_LIMIT = 256
# Bits of each signature value kept for verification (b-bit minwise hashing): 8 or 16.
VERIFY_BITS = 8
VERIFY_DTYPE = np.uint16 if VERIFY_BITS == 16 else np.uint8
_FNV = np.uint64(0x100000001B3)


def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) as datasketch's MinHashLSH picks them (equal FP/FN weights)."""
    try:
        from datasketch.lsh import _optimal_param
        return _optimal_param(threshold, num_perm, 0.5, 0.5)
    except Exception:  # pragma: no cover - datasketch internals moved
        best, res = float("inf"), (1, num_perm)
        for b in range(1, num_perm + 1):
            for r in range(1, num_perm // b + 1):
                fp = _integrate(lambda s: 1 - (1 - s ** r) ** b, 0.0, threshold)
                fn = _integrate(lambda s: 1 - (1 - (1 - s ** r) ** b), threshold, 1.0)
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
    with np.errstate(over="ignore"):
        for c in range(sig.shape[1]):
            acc ^= sig[:, c]
            acc *= _FNV
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


def verify(a: np.ndarray, b: np.ndarray, threshold: float) -> np.ndarray:
    """Signature Jaccard estimate >= threshold, row by row (share of agreeing values)."""
    agree = np.count_nonzero(a == b, axis=1)
    return agree / a.shape[1] >= threshold


@dataclass(frozen=True)
class NearDuplicateOptions:
    threshold: float = option(0.8, "MinHash Jaccard similarity at which two records are near duplicates.",
                              min=0.05, max=1.0)
    ngram: int = option(5, "Words per shingle.", min=1, max=64)
    num_perm: int = option(128, "MinHash permutations per record.", min=16, max=1024)


@register_check
class NearDuplicates(Check):
    name = "near_duplicates"
    title = "Near duplicates"
    Options = NearDuplicateOptions
    options_key = "near_duplicates"
    metrics = (
        Metric("duplicates.near_count", "count", "Records in a near-duplicate cluster other than its first "
               "record: what near-deduplication would remove.", unit="records"),
        Metric("duplicates.near_fraction", "fraction", "Share of records that near-deduplication would remove."),
        Metric("duplicates.near_clusters", "count", "Clusters of two or more near-duplicate records.",
               unit="clusters"),
    )
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
        Column("near_cluster", "int64", "Dense id of the record's near-duplicate cluster (null when alone)."),
        Column("duplicate_of_row", "int64", "Global index of the cluster's kept record, for every other member."),
    )

    def __init__(self, ctx=None):
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
        self.file_idx: list[np.ndarray] = []
        self.rows_: list[np.ndarray] = []
        self.files: dict[int, str] = {}
        self.starts: list[tuple[int, int]] = []
        self.excerpts: dict[int, str] = {}
        self.pairs_checked = 0
        self.pairs_verified = 0
        self._roots: np.ndarray | None = None

    # ---- per batch -----------------------------------------------------------------------------

    def prepare(self, batch):
        nfc = clip_nfc(nfc_batch(batch))  # capped: see text/limits.py
        parts = [self.hasher.signatures(batch.texts[a:b], sub) for a, b, sub in nfc.chunks(PREPARE_BYTES)]
        sig = np.concatenate(parts) if parts else np.zeros((0, self.num_perm), dtype=np.uint32)
        return {
            "bands": band_keys(sig, self.bands, self.rows),
            "sighash": row_hash(sig, 0x51C),
            "sigv": verification_values(sig),
        }

    def observe(self, batch, prepared) -> None:
        if prepared is None:
            prepared = self.prepare(batch)
        n = len(batch)
        base = self.n
        self.files[batch.file_index] = batch.file
        self.starts.append((base, batch.start))
        self.file_idx.append(np.full(n, batch.file_index, dtype=np.int32))
        self.rows_.append(np.asarray(batch.rows, dtype=np.int64))
        self.uf.extend(n)
        self.n += n
        if n == 0:
            return
        sigv, sighash, bands = prepared["sigv"], prepared["sighash"], prepared["bands"]
        rec = base + np.arange(n)
        same = np.full(n, -1, dtype=np.int64)     # internal index of an earlier identical signature
        # identical signatures: earlier batches, then within this batch
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
        links: list[tuple[np.ndarray, np.ndarray]] = []
        dup = np.flatnonzero(same >= 0)
        if len(dup):
            links.append((rec[dup], same[dup]))
        new = np.flatnonzero(same < 0)
        if len(new):
            nb = bands[new]
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
            if cand_a:
                a = np.concatenate(cand_a)
                b = np.concatenate(cand_b)
                keep = a != b
                a, b = a[keep], b[keep]
                pair = np.unique(np.stack((a, b), axis=1), axis=0)
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
                links.append((rec[a[ok]], b_rec[ok]))
            slots = self.sigs.append(sigv[new])
            self.slot_record.append(rec[new])
            for j in range(self.bands):
                self.band_index[j].add(nb[:, j], slots.astype(np.uint32))
            self.sig_index.add(sighash[new], slots.astype(np.uint32))
        newer: set[int] = set()
        for x, y in links:
            for i, j in zip(x.tolist(), y.tolist()):
                self.uf.union(i, j)
                newer.add(max(i, j))
        # Excerpts only for the newer record of each verified link: it is always in this batch,
        # so which records get one (and the first MAX_EXCERPTS of them, in record order) does not
        # depend on batch size or worker count. The kept record's text is its duplicates' text.
        for r in sorted(newer):
            if len(self.excerpts) >= MAX_EXCERPTS:
                break
            if r not in self.excerpts:
                self.excerpts[r] = excerpt(batch.texts[r - base])

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

    def finish(self) -> CheckResult:
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
        file_idx = np.concatenate(self.file_idx) if self.file_idx else np.zeros(0, np.int32)
        rows = np.concatenate(self.rows_) if self.rows_ else np.zeros(0, np.int64)
        csizes = sizes[cluster_roots]
        largest = []
        top = cluster_roots[np.lexsort((cluster_roots, -csizes))[:LARGEST]]
        if len(top):
            members_of = {int(r): [] for r in top}
            sel = np.flatnonzero(np.isin(roots, top))
            for i, r in zip(sel.tolist(), roots[sel].tolist()):
                if len(members_of[r]) < MEMBERS_SHOWN:
                    members_of[r].append(i)
            for r in top.tolist():
                largest.append({
                    "size": int(sizes[r]),
                    "members": [{"file": self.files[int(file_idx[i])], "row": int(rows[i]),
                                 "excerpt": self.excerpts.get(i)} for i in members_of[r]],
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
