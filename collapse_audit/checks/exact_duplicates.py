"""Exact duplicates: records identical to an earlier record after NFC + whitespace collapsing.

``prepare`` computes each record's 128-bit key (xxh3-128 of the canonical text, vectorised in
``text/normalize.py``). ``observe`` looks the keys up in a compact sorted-run index (16 bytes of
key + 8 of value per *distinct* text, ``text/index.py``) and records, per record, the index of the
first record with the same key. Nothing else per record is kept but that index, the file and the
row (~44 bytes per record in all).

Per-record outputs:

* ``exact_group`` — ``pyarrow.Array`` of int64: a dense group id (0, 1, … in order of each
  group's first record) for every member of a group of size >= 2, null for unique records.
* flags ``duplicates.exact_count`` / ``duplicates.exact_fraction`` — true for every record that
  repeats an earlier one (all members of a group but its first).

Shards merge exactly (``merge``): the later shard's distinct keys are looked up in this index;
a key already here points to this shard's first copy, a new one is added, rebased. A group's report
excerpt is the text of its first *repeat* (for the first ``MAX_EXCERPTS`` groups, in order of that
repeat); when that repeat was the only copy in its shard no shard kept its text, so the merged
state asks for it (``excerpt_requests``) and the engine re-reads those few records before
``finish`` (``engine.excerpts``). An excerpt kept by a shard is that of another copy with the same
canonical text: identical unless the copies differ in Unicode normalisation.

``metrics_for(mask)`` gives the same metrics as if the masked records were the whole corpus
(a record counts when an earlier record *of the subset* has the same text).
"""

from __future__ import annotations

from typing import Any

from ..lazy import np, pa
from ..result.formatting import fmt_number
from ..result.sections import Section
from ..text import shuffle as S
from ..text.batch import nfc_batch
from ..text.excerpt import excerpt
from ..text.index import SortedRuns
from ..text.memo import per_batch
from ..text.normalize import exact_keys
from . import presenting as P
from .base import Check, CheckResult
from .registry import register_check
from .spec import Column, Metric, Rule

LARGEST = 10
MAX_EXCERPTS = 10000
PREPARE_BYTES = 2 << 20      # text per vectorised step: bounds a worker's temporaries


@per_batch
def batch_keys(batch) -> np.ndarray:
    """``(n, 2)`` uint64 canonical-text keys of a batch (computed once per batch per process: the
    seen-before check uses them too)."""
    nfc = nfc_batch(batch)
    parts = [exact_keys(batch.texts[a:b], sub) for a, b, sub in nfc.chunks(PREPARE_BYTES)]
    return np.concatenate(parts) if parts else np.zeros((0, 2), dtype=np.uint64)


@register_check
class ExactDuplicates(Check):
    """Finds records whose normalised text repeats an earlier record's, by 128-bit keys."""
    name = "exact_duplicates"
    title = "Exact duplicates"
    metrics = (
        Metric("duplicates.exact_count", "count", "Records identical (after NFC and whitespace collapsing) "
               "to an earlier record.", unit="records", record_level="representative"),
        Metric("duplicates.exact_fraction", "fraction", "Share of records that repeat an earlier record: "
               "what exact deduplication would remove.", record_level="representative"),
    )

    copy_basis = "exact duplicate"

    @classmethod
    def copies(cls, records: Any) -> np.ndarray:
        """Every member of an exact group but its first (lowest-index) record (``exact_group`` column)."""
        g = records.exact_group
        out = np.zeros(len(g), dtype=bool)
        members = np.flatnonzero(g >= 0)
        if len(members):
            _, first = np.unique(g[members], return_index=True)
            out[members] = True
            out[members[first]] = False
        return out

    rules = (
        Rule(
            "CA202", "exact-duplicate-share", "duplicates.exact_fraction", "max", 0.01, "error",
            rationale=(
                "Exact copies (after NFC and whitespace collapsing) are pure waste and a sign of a broken "
                "pipeline (re-ingested shards, joins that fan out)."
            ),
            example="{id: CA202, metric: duplicates.exact_fraction, max: 0.0}",
            enabled_by_default=False,
        ),
    )
    columns = (
        Column("exact_group", "int64", "Dense id of the record's exact-duplicate group (null when unique).",
               contract=True),
    )

    def __init__(self, ctx=None):
        from ..readers.places import Places  # here, so reading the rule catalogue loads no reader

        super().__init__(ctx)
        # distinct keys seen: high 64 bits -> (low 64 bits, index of the first record)
        self.index = SortedRuns(np.uint64, np.int64)
        self.first: list[np.ndarray] = []               # per record: internal index of its first copy
        self.places = Places()                          # file, row and line of every record
        self.files: dict[int, str] = {}
        self.excerpts: dict[int, str] = {}              # first index -> excerpt (bounded)
        self.n = 0
        self._first_all: np.ndarray | None = None

    state_attrs = ("index", "first", "places", "files", "excerpts", "n")

    def merge(self, other: Check) -> None:
        """Exact: the later shard's keys are looked up here and its records appended."""
        self._merge_guard(other)
        assert isinstance(other, ExactDuplicates)
        base = self.n
        hi, (lo, first) = other.index.entries()
        remap = base + np.arange(other.n, dtype=np.int64)      # other's first index -> merged first
        known = np.zeros(len(hi), dtype=bool)
        qi, (e_lo, e_first) = self.index.find_all(hi)
        if len(qi):
            ok = e_lo == lo[qi]
            remap[first[qi[ok]]] = e_first[ok]
            known[qi[ok]] = True
        self.index.add(hi[~known], lo[~known], first[~known] + base)
        self.merge_records(other, remap)

    def key_table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(high, low, first record) of every distinct key (for a distributed merge)."""
        hi, (lo, first) = self.index.entries()
        return hi, lo, first

    def drop_index(self) -> None:
        """Free the key index once a distributed merge resolves first copies elsewhere."""
        self.index = SortedRuns(np.uint64, np.int64)

    # ---- partitioned across machines (``base.Partitioned``) --------------------------------------

    key_tables = 1

    def partition(self, shard: int, r: int) -> list[list[Any]]:
        """The distinct keys with their first records, cut into ``r`` partitions by key."""
        hi, lo, first = self.key_table()
        self.drop_index()
        return [S.exact_partitions(shard, hi, lo, first, r)]

    @classmethod
    def reduce(cls, ex: Any, tables: list[list[list[Any]]], r: int, options: Any) -> Any:
        """Per partition, each later shard's first copy of a key remapped to the earliest one."""
        return ex.get([ex.submit(S.exact_reduce, *parts) for parts in tables[0]])

    def join(self, reduced: Any, bases: np.ndarray) -> list[np.ndarray]:
        """Per shard, its local first-copy index -> the merged first copy (global index)."""
        remap = [bases[k] + np.arange(bases[k + 1] - bases[k], dtype=np.int64) for k in range(len(bases) - 1)]
        rows = np.concatenate(reduced) if reduced else np.zeros((0, 2), np.uint64)
        if len(rows):
            ks, f = S.split_code(rows[:, 0])
            rk, rf = S.split_code(rows[:, 1])
            for shard in np.unique(ks).tolist():
                sel = ks == shard
                remap[shard][f[sel]] = bases[rk[sel]] + rf[sel]
        return remap

    def merge_partitioned(self, other: Any, shard: int, joined: Any) -> None:
        """Append the shard's records with their first copies remapped."""
        self.merge_records(other, joined[shard])

    def apply_joined(self, joined: Any) -> None:
        """Nothing left: every remap was applied while merging."""

    def merge_records(self, other: ExactDuplicates, remap: np.ndarray) -> None:
        """Append the later shard's records; ``remap`` maps each of its first-copy indices to the
        merged first copy (found in this index, or by a distributed key shuffle)."""
        self._merge_guard(other)
        self.first = [self._first_array(), remap[other._first_array()]]
        self.places.extend(other.places)
        self.files.update(other.files)
        for f, text in other.excerpts.items():
            g = int(remap[f])
            if g not in self.excerpts and len(self.excerpts) < MAX_EXCERPTS:
                self.excerpts[g] = text
        self.n += other.n
        self._first_all = None

    def prepare(self, batch):
        """The 128-bit keys of the batch's normalised texts."""
        return batch_keys(batch)

    def observe(self, batch, prepared) -> None:
        """Look the batch's keys up, remembering each record's first copy."""
        keys = prepared if prepared is not None else exact_keys(batch.texts)
        n = len(keys)
        base = self.n
        self.files[batch.file_index] = batch.file
        self.places.add(batch)
        if n == 0:
            self.first.append(np.zeros(0, np.int64))
            return
        hi = np.ascontiguousarray(keys[:, 0])
        lo = np.ascontiguousarray(keys[:, 1])
        first = np.full(n, -1, dtype=np.int64)
        # 1. earlier batches
        qi, (e_lo, e_first) = self.index.find_all(hi)
        if len(qi):
            ok = e_lo == lo[qi]
            first[qi[ok]] = e_first[ok]
        # 2. within this batch (first occurrence of each distinct key among the unmatched)
        new = np.flatnonzero(first < 0)
        if len(new):
            k = keys[new]
            _, idx, inv = np.unique(k.view(np.dtype((np.void, 16))).ravel(), return_index=True,
                                    return_inverse=True)
            inv = inv.ravel()
            first_pos = new[idx]                      # np.unique sorts; idx is the first occurrence
            first[new] = base + first_pos[inv]
            self.index.add(hi[first_pos], lo[first_pos], base + first_pos)
        dup = np.flatnonzero(first != base + np.arange(n))
        for i in dup:
            f = int(first[i])
            if f not in self.excerpts and len(self.excerpts) < MAX_EXCERPTS:
                self.excerpts[f] = excerpt(batch.texts[i])
        self.first.append(first)
        self.n += n
        self._first_all = None

    # ---- results -------------------------------------------------------------------------------

    def _first_array(self) -> np.ndarray:
        if self._first_all is None:
            self._first_all = np.concatenate(self.first) if self.first else np.zeros(0, np.int64)
        return self._first_all

    def _shown(self) -> list[tuple[int, int, int]]:
        """The largest groups as (first record, size, first repeat or -1 when one scan would keep
        no excerpt for it)."""
        first = self._first_array()
        total = len(first)
        firsts, sizes = np.unique(first, return_counts=True)
        grouped = sizes >= 2
        group_first, group_size = firsts[grouped], sizes[grouped]
        order = np.lexsort((group_first, -group_size))[:LARGEST]
        dup = np.flatnonzero(first != np.arange(total))
        g, pos = np.unique(first[dup], return_index=True)          # each group's first repeat
        repeat = dup[pos]
        rank = np.empty(len(repeat), np.int64)
        rank[np.argsort(repeat, kind="stable")] = np.arange(len(repeat))
        shown = []
        for j in order.tolist():
            f = int(group_first[j])
            k = int(np.searchsorted(g, f))
            shown.append((f, int(group_size[j]), int(repeat[k]) if rank[k] < MAX_EXCERPTS else -1))
        return shown

    def excerpt_requests(self) -> dict[int, tuple[int, int]]:
        """Where to read the texts of the largest groups' shown records (record -> file, row)."""
        return {r: self.places.file_row(r) for f, _, r in self._shown() if r >= 0 and f not in self.excerpts}

    def add_excerpts(self, texts: dict[int, str]) -> None:
        """Keep excerpts of the shown records, read back by the engine after the scan."""
        for f, _, r in self._shown():
            if r in texts:
                self.excerpts[f] = excerpt(texts[r])

    def finish(self) -> CheckResult:
        """Duplicate counts and fractions, the largest groups and the duplicate-of column."""
        first = self._first_array()
        total = len(first)
        is_dup = first != np.arange(total)
        count = int(is_dup.sum())
        firsts, sizes = np.unique(first, return_counts=True)
        grouped = sizes >= 2
        group_first = firsts[grouped]
        gid = np.full(total, -1, dtype=np.int64)
        if len(group_first):
            dense = np.full(total, -1, dtype=np.int64)
            dense[group_first] = np.arange(len(group_first))
            gid = dense[first]
        exact_group = pa.array(gid, type=pa.int64(), mask=gid < 0)

        largest = [{"size": size, **self.places.locate(f, self.files),
                    "excerpt": self.excerpts.get(f) if r >= 0 else None} for f, size, r in self._shown()]
        flags = {"duplicates.exact_count": is_dup, "duplicates.exact_fraction": is_dup}
        metrics = {"duplicates.exact_count": count,
                   "duplicates.exact_fraction": float(count / total) if total else 0.0}
        details = {"groups": int(grouped.sum()), "largest": largest}
        return CheckResult(metrics=metrics, details=details, columns={"exact_group": exact_group},
                           flags=flags)

    def metrics_for(self, mask: np.ndarray) -> dict[str, float]:
        """The duplicate metrics over the records in ``mask`` (a source's slice)."""
        first = self._first_array()
        mask = np.asarray(mask, dtype=bool)
        m = int(mask.sum())
        if m == 0:
            return {"duplicates.exact_count": 0, "duplicates.exact_fraction": 0.0}
        count = m - len(np.unique(first[mask]))
        return {"duplicates.exact_count": count, "duplicates.exact_fraction": count / m}

    @classmethod
    def section(cls, details, metrics) -> Section | None:
        """The duplicate figures and the largest groups with excerpts."""
        groups = details.get("groups")
        return Section(
            key=cls.name, title=cls.title,
            facts=P.facts(P.fact(metrics, "duplicate records", "duplicates.exact_count", "count"),
                          P.fact(metrics, "share", "duplicates.exact_fraction", "fraction"),
                          None if groups is None else ("groups", fmt_number(groups))),
            tables=P.tables(P.examples_table("Largest groups (first copy)", details.get("largest"),
                                             extra=(("copies", "size"),))),
        )
