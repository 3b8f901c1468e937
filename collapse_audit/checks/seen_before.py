"""Seen before: records that duplicate, exactly or nearly, a record of an earlier audited snapshot.

``scan --against STATE`` loads the saved duplicate indexes of an earlier scan (a partial state
directory written by ``scan --partial``: ``engine.against``), and this check looks every record up
in them - the canonical-text key in the earlier exact index, then the MinHash signature in the
earlier signature and band indexes, candidates verified exactly as the near-duplicate check
verifies them. That answers "has this data been seen before" without re-reading the earlier
corpus: incremental deduplication of a new snapshot, or of one corpus against another.

It reuses the duplicate checks' per-batch keys and signatures (computed once per batch) and keeps
one int64 per record; the earlier indexes are read-only and shared.
"""

from __future__ import annotations

from ..lazy import np, pa
from ..result.sections import Section, Table
from . import presenting as P
from .base import Check, CheckResult
from .exact_duplicates import batch_keys
from .near_duplicates import BUCKET_LIMIT, NearDuplicates, batch_signatures, verify
from .registry import register_check
from .spec import Column, Metric, Rule

MAX_EXAMPLES = 10


@register_check
class SeenBefore(Check):
    """Records of this scan found in the earlier snapshot's duplicate indexes."""
    name = "seen_before"
    title = "Seen in the earlier snapshot"
    needs = ("previous",)
    metrics = (
        Metric("duplicates.against_exact_count", "count", "Records identical (after NFC and whitespace "
               "collapsing) to a record of the earlier snapshot (--against).", unit="records"),
        Metric("duplicates.against_exact_fraction", "fraction", "Share of records already in the earlier "
               "snapshot, exactly."),
        Metric("duplicates.against_near_count", "count", "Records that are near duplicates (or exact copies) "
               "of a record of the earlier snapshot (--against).", unit="records"),
        Metric("duplicates.against_near_fraction", "fraction", "Share of records already in the earlier "
               "snapshot, exactly or nearly."),
    )
    rules = (
        Rule(
            "CA203", "seen-before-share", "duplicates.against_near_fraction", "max", 0.1, "warning",
            rationale=(
                "Records of a new snapshot that are (near) copies of an already audited and trained-on snapshot"
                " add no new information and over-weight what the model has already seen; incremental "
                "deduplication removes them. Needs --against."
            ),
            example="{id: CA203, metric: duplicates.against_near_fraction, max: 0.05}",
            enabled_by_default=False,
            applies_when="needs --against",
        ),
    )
    columns = (
        Column("seen_before", "string", "The earlier snapshot's record this one duplicates ('FILE:LINE' in a line "
               "format, 'FILE row N' otherwise); null when new (--against)."),
    )

    @classmethod
    def options_from(cls, config):
        """The signatures must be the near-duplicate check's, so it reads that section."""
        return NearDuplicates.options_from(config)

    def __init__(self, ctx=None):
        super().__init__(ctx)
        self.previous = self.resources["previous"]
        self.near = NearDuplicates(ctx)            # the settings (bands, rows, hasher), not its state
        self.exact_of: list[np.ndarray] = []       # per record: earlier record index, or -1
        self.near_of: list[np.ndarray] = []
        self.examples: list[dict] = []
        self._arrays: tuple[np.ndarray, np.ndarray] | None = None

    state_attrs = ("exact_of", "near_of", "examples")

    def merge(self, other: Check) -> None:
        """Exact: the per-record answers concatenate (the earlier snapshot is the same for both)."""
        self._merge_guard(other)
        assert isinstance(other, SeenBefore)
        self.exact_of += other.exact_of
        self.near_of += other.near_of
        self.examples += other.examples[: max(0, MAX_EXAMPLES - len(self.examples))]
        self._arrays = None

    def prepare(self, batch):
        """The duplicate checks' keys and signatures of the batch (shared, computed once)."""
        nd = self.near
        return batch_keys(batch), batch_signatures(batch, nd.num_perm, nd.hasher.ngram, int(self.seed), nd.bands,
                                                   nd.rows)

    def observe(self, batch, prepared) -> None:
        """Look every record up in the earlier exact, signature and band indexes."""
        keys, sig = prepared
        prev_exact, prev_near = self.previous.exact, self.previous.near
        n = len(keys)
        exact_of = np.full(n, -1, dtype=np.int64)
        qi, (lo, first) = prev_exact.index.find_all(np.ascontiguousarray(keys[:, 0]))
        if len(qi):
            ok = lo == keys[qi, 1]
            exact_of[qi[ok]] = first[ok]
        near_of = exact_of.copy()
        todo = np.flatnonzero(near_of < 0)
        sigv = sig["sigv"]
        # identical signatures, then band candidates verified (the earliest earlier record wins)
        qi, (slot,) = prev_near.sig_index.find_all(sig["sighash"][todo])
        if len(qi):
            ok = np.all(prev_near.sigs.take(slot) == sigv[todo[qi]], axis=1)
            near_of[todo[qi[ok]]] = prev_near.slot_record.take(slot[ok])
        todo = np.flatnonzero(near_of < 0)
        best = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        for j in range(nd_bands(prev_near)):
            qi, (slot,) = prev_near.band_index[j].find_all(sig["bands"][todo, j], limit=BUCKET_LIMIT)
            if not len(qi):
                continue
            ok = verify(sigv[todo[qi]], prev_near.sigs.take(slot), prev_near.threshold)
            rec = prev_near.slot_record.take(slot[ok])
            np.minimum.at(best, todo[qi[ok]], rec)
        found = best < np.iinfo(np.int64).max
        near_of[found] = best[found]
        for i in np.flatnonzero(near_of >= 0)[: max(0, MAX_EXAMPLES - len(self.examples))].tolist():
            earlier = self.previous.where(int(near_of[i]))
            self.examples.append({**batch.locate(i), "earlier": earlier,
                                  "kind": "exact" if exact_of[i] >= 0 else "near"})
        self.exact_of.append(exact_of)
        self.near_of.append(near_of)
        self._arrays = None

    def _all(self) -> tuple[np.ndarray, np.ndarray]:
        if self._arrays is None:
            self._arrays = (_cat(self.exact_of), _cat(self.near_of))
        return self._arrays

    def finish(self) -> CheckResult:
        """Counts, shares, flags and the earlier record of every record seen before."""
        exact_of, near_of = self._all()
        total = len(near_of)
        exact, near = exact_of >= 0, near_of >= 0
        labels: list[str | None] = [None] * total
        seen = np.flatnonzero(near)
        for i, label in zip(seen.tolist(), self.previous.where_all(near_of[seen]), strict=True):
            labels[i] = label
        metrics = {
            "duplicates.against_exact_count": int(exact.sum()),
            "duplicates.against_exact_fraction": float(exact.sum() / total) if total else 0.0,
            "duplicates.against_near_count": int(near.sum()),
            "duplicates.against_near_fraction": float(near.sum() / total) if total else 0.0,
        }
        flags = {"duplicates.against_exact_count": exact, "duplicates.against_exact_fraction": exact,
                 "duplicates.against_near_count": near, "duplicates.against_near_fraction": near}
        details = {"earlier": self.previous.describe(), "examples": self.examples}
        return CheckResult(metrics=metrics, details=details, flags=flags,
                           columns={"seen_before": pa.array(labels, type=pa.string())})

    @classmethod
    def section(cls, details, metrics) -> Section | None:
        """The report section: counts and the first records seen before."""
        earlier = details.get("earlier") if isinstance(details.get("earlier"), dict) else {}
        rows = [[P.location(e), str(e.get("earlier", "")), str(e.get("kind", ""))]
                for e in P.dicts(details.get("examples"))]
        return Section(
            key=cls.name, title=cls.title,
            paragraphs=[f"Earlier snapshot: {earlier['records']} records."] if earlier.get("records") else [],
            facts=P.facts(P.fact(metrics, "exact copies of earlier records", "duplicates.against_exact_count", "count"),
                          P.fact(metrics, "exact or near copies", "duplicates.against_near_count", "count"),
                          P.fact(metrics, "share", "duplicates.against_near_fraction", "fraction")),
            tables=[Table(["record", "earlier record", "kind"], rows, title="Records seen before")] if rows else [],
        )


def _cat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


def nd_bands(near: NearDuplicates) -> int:
    """Number of LSH bands of a near-duplicate state."""
    return len(near.band_index)
