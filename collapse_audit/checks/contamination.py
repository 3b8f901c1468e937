"""Contamination: eval-set records whose word n-grams turn up in the training corpus (``--eval-set``).

An eval record is contaminated when at least ``threshold`` (default 0.5) of its distinct n-grams
(n = 13 by default) occur somewhere in the training corpus. The eval index (built by
``signals.resources.load_resources``) is in memory; the training corpus is streamed past it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..lazy import np
from ..result.formatting import fmt_metric, fmt_number
from ..result.sections import Section, Table
from ..text.tokens import batch_tokens, ngrams
from . import presenting as P
from .base import Check, CheckResult
from .registry import register_check
from .spec import Metric, Rule, option

NO_MATCH = (1 << 63) - 1          # np.iinfo(np.int64).max: no training record has the gram


@dataclass(frozen=True)
class ContaminationOptions:
    """Policy options of the contamination check (n-gram size and the overlap that counts as a hit)."""
    ngram: int = option(13, "Words per n-gram compared with the eval sets.", min=1, max=64)
    threshold: float = option(0.5, "Share of an eval record's n-grams found in training that makes it "
                              "contaminated.", min=0.0, min_exclusive=True, max=1.0)
    max_listed: int = option(200, "Contaminated eval records listed in the report.", min=0)
    max_pairs: int = option(2_000_000, "(training record, n-gram) hits kept for per-record flags.", min=0)


@register_check
class Contamination(Check):
    """Finds eval-set records whose long n-grams appear in the corpus, so benchmark leakage is caught."""
    name = "contamination"
    title = "Eval-set contamination"
    Options = ContaminationOptions
    options_key = "contamination"
    needs = ("eval_index",)
    metrics = (
        Metric("contamination.eval_records", "count", "Records in the eval sets.", unit="records",
               per_source=False),
        Metric("contamination.eval_count", "count", "Eval records whose n-grams occur in the training "
               "corpus at or above the threshold.", unit="records", record_level="flagged"),
        Metric("contamination.eval_fraction", "fraction", "Share of eval records that are contaminated.",
               record_level="flagged"),
        Metric("contamination.max_overlap", "fraction", "Largest share of one eval record's n-grams found "
               "in the training corpus."),
        Metric("contamination.train_count", "count", "Training records sharing an n-gram with a "
               "contaminated eval record.", unit="records", record_level="flagged"),
        Metric("contamination.train_fraction", "fraction", "Share of training records sharing an n-gram "
               "with a contaminated eval record.", record_level="flagged"),
    )
    rules = (
        Rule(
            "CA501", "eval-contamination", "contamination.eval_fraction", "max", 0.0, "error",
            rationale=(
                "Share of eval-set records of which at least half the word 13-grams occur in the training "
                "corpus. Training on the test set inflates benchmark scores and hides the degradation that "
                "collapse causes; a model that has seen the eval cannot be measured by it. The report lists "
                "each contaminated eval record with the first training record (file, row) that overlaps it, "
                "and the annotations flag every overlapping training record. Needs --eval-set."
            ),
            example="{id: CA501, metric: contamination.eval_fraction, max: 0.0}",
            enabled_by_default=False,
        ),
        Rule(
            "CA502", "contaminated-training-records", "contamination.train_count", "max", 0, "warning",
            rationale=(
                "Training records that share an n-gram with a contaminated eval record: what to remove to "
                "decontaminate. Needs --eval-set."
            ),
            example="{id: CA502, metric: contamination.train_count, max: 0, severity: warning}",
            enabled_by_default=False,
        ),
    )

    def __init__(self, ctx=None):
        super().__init__(ctx)
        index = self.resources["eval_index"]
        opts = self.options
        self.index = index
        self.threshold = float(opts.threshold)
        self.max_listed = int(opts.max_listed)
        self.max_pairs = int(opts.max_pairs)
        g = len(index.grams)
        self.first = np.full(g, NO_MATCH, dtype=np.int64)   # first training record (global index) with gram
        self.locations: dict[int, tuple] = {}
        self.pairs: list[np.ndarray] = []                   # (training record, gram) for flags
        self.n_pairs = 0
        self.pairs_truncated = False
        self.records = 0

    state_attrs = ("first", "locations", "pairs", "n_pairs", "pairs_truncated", "records")

    def merge(self, other: Check) -> None:
        """Exact while the (record, n-gram) hits fit in ``max_pairs``: first matches take the
        earlier shard's, hits concatenate rebased. Past ``max_pairs`` one scan keeps whole batches
        of hits until the next one would not fit; merged shards keep whole shards' hits."""
        self._merge_guard(other)
        assert isinstance(other, Contamination)
        base = self.records
        theirs = np.where(other.first != NO_MATCH, other.first + base, NO_MATCH)
        self.first = np.minimum(self.first, theirs)
        for t, loc in other.locations.items():
            self.locations.setdefault(t + base, loc)
        if not other.pairs_truncated and self.n_pairs + other.n_pairs <= self.max_pairs:
            self.pairs += [p + np.array([[base], [0]], dtype=p.dtype) for p in other.pairs]
            self.n_pairs += other.n_pairs
        else:
            self.pairs_truncated = True
        self.records = base + other.records

    def prepare(self, batch):
        """The batch's word n-gram hashes (with their records) that the eval-set index may contain."""
        tok = batch_tokens(batch)
        h, r = ngrams(tok, self.index.ngram, whole_short=True)
        hit, gid = self.index.lookup(h)
        if not len(gid):
            return None
        r = r[hit]
        pair = np.unique(gid * max(len(batch), 1) + r)          # one hit per (gram, record)
        return pair // max(len(batch), 1), pair % max(len(batch), 1)

    def observe(self, batch, prepared) -> None:
        """Record which of the batch's n-grams hit the eval index, keeping only the hits."""
        self.records = max(self.records, batch.start + len(batch))
        if prepared is None:
            return
        gid, local = prepared
        glob = local + batch.start
        np.minimum.at(self.first, gid, glob)
        new_first = np.unique(local[self.first[gid] == glob])
        for i in new_first.tolist():
            self.locations[batch.start + i] = (batch.file, batch.rows[i], batch.lines[i] if batch.lines else None)
        if self.n_pairs + len(gid) <= self.max_pairs:
            self.pairs.append(np.stack([glob, gid]))
            self.n_pairs += len(gid)
        else:
            self.pairs_truncated = True

    def _evaluate(self, matched_gram: np.ndarray):
        """Per eval record: matched n-grams, overlap, contaminated?; given which grams were seen."""
        idx = self.index
        pair_gram = idx.pair_grams()
        pm = matched_gram[pair_gram]
        matched = np.bincount(idx.recs[pm], minlength=idx.records)
        overlap = np.where(idx.record_grams > 0, matched / np.maximum(idx.record_grams, 1), 0.0)
        contaminated = (idx.record_grams > 0) & (overlap >= self.threshold) & (matched > 0)
        gram_bad = np.zeros(len(idx.grams), bool)
        gram_bad[pair_gram[contaminated[idx.recs]]] = True
        return matched, overlap, contaminated, gram_bad, pair_gram, pm

    def _flags(self, gram_bad: np.ndarray) -> np.ndarray:
        """Training records sharing an n-gram with a contaminated eval record."""
        flags = np.zeros(self.records, bool)
        if self.pairs:
            p = np.concatenate(self.pairs, axis=1)
            flags[p[0][gram_bad[p[1]]]] = True
        if self.pairs_truncated or not self.pairs:
            firsts = self.first[gram_bad & (self.first != NO_MATCH)]
            flags[firsts[firsts < self.records]] = True
        return flags

    def finish(self) -> CheckResult:
        """Per eval set, the contaminated records and fractions, and the flags of the records that hit them."""
        idx = self.index
        n_eval = idx.records
        matched, overlap, contaminated, gram_bad, pair_gram, pm = self._evaluate(self.first != NO_MATCH)
        first_train = np.full(n_eval, NO_MATCH, dtype=np.int64)
        np.minimum.at(first_train, idx.recs[pm], self.first[pair_gram[pm]])
        flags = self._flags(gram_bad)

        count = int(contaminated.sum())
        metrics = {
            "contamination.eval_records": float(n_eval),
            "contamination.eval_count": float(count),
            "contamination.eval_fraction": count / n_eval if n_eval else 0.0,
            "contamination.max_overlap": float(overlap.max()) if n_eval else 0.0,
            "contamination.train_count": float(flags.sum()),
            "contamination.train_fraction": float(flags.sum() / self.records) if self.records else 0.0,
        }
        listed = []
        for rec in np.nonzero(contaminated)[0][: self.max_listed].tolist():
            entry = idx.where(rec)
            entry.update({"overlap": round(float(overlap[rec]), 4), "matched_ngrams": int(matched[rec]),
                          "ngrams": int(idx.record_grams[rec]), "excerpt": idx.record_excerpt[rec]})
            t = int(first_train[rec])
            if t in self.locations:
                f, row, line = self.locations[t]
                entry.update({"train_index": t, "train_file": f, "train_row": int(row)})
                if line is not None:
                    entry["train_line"] = int(line)
            listed.append(entry)
        per_set = []
        for si, path in enumerate(idx.sets):
            m = idx.record_set == si
            k = int(m.sum())
            per_set.append({"path": path, "records": k, "contaminated": int(contaminated[m].sum()),
                            "fraction": float(contaminated[m].sum() / k) if k else 0.0})
        details = {"ngram": idx.ngram, "threshold": self.threshold, "eval_sets": per_set,
                   "contaminated": listed, "listed": len(listed), "total_contaminated": count}
        if count > len(listed):
            details["note"] = f"{count - len(listed)} more contaminated eval records not listed (max_listed)"
        if self.pairs_truncated:
            details["flags_note"] = ("more than max_pairs n-gram hits; training-record flags cover the "
                                     "first ones and the first occurrence of every n-gram")
        return CheckResult(metrics=metrics, details=details,
                           flags={m: flags for m in ("contamination.eval_fraction", "contamination.eval_count",
                                                     "contamination.train_fraction", "contamination.train_count")})

    def metrics_for(self, mask: np.ndarray) -> dict[str, float]:
        """Contamination caused by the training records in ``mask`` alone (e.g. one source)."""
        mask = np.asarray(mask, dtype=bool)
        if self.pairs_truncated or len(mask) != self.records:
            return {}
        seen = np.zeros(len(self.index.grams), bool)
        if self.pairs:
            p = np.concatenate(self.pairs, axis=1)
            seen[p[1][mask[p[0]]]] = True
        _, overlap, contaminated, gram_bad, _, _ = self._evaluate(seen)
        flags = self._flags(gram_bad) & mask
        n_eval, k = self.index.records, int(mask.sum())
        return {"contamination.eval_records": float(n_eval),
                "contamination.eval_count": float(contaminated.sum()),
                "contamination.eval_fraction": float(contaminated.sum() / n_eval) if n_eval else 0.0,
                "contamination.max_overlap": float(overlap.max()) if n_eval else 0.0,
                "contamination.train_count": float(flags.sum()),
                "contamination.train_fraction": float(flags.sum() / k) if k else 0.0}

    @classmethod
    def section(cls, details, metrics) -> Section | None:
        """The eval sets touched and the records that overlap them most."""
        sets = P.dicts(details.get("eval_sets"))
        tables = []
        if sets:
            tables.append(Table(["eval set", "records", "contaminated", "share"],
                                [[str(s.get("path")), fmt_number(s.get("records")), fmt_number(s.get("contaminated")),
                                  fmt_metric("fraction", s.get("fraction"))] for s in sets], title="Eval sets"))
        listed = P.dicts(details.get("contaminated"))
        if listed:
            rows = [[P.location(e, "eval_file", "eval_row"), fmt_metric("fraction", e.get("overlap")),
                     P.location(e, "train_file", "train_row") if e.get("train_file") else "",
                     P.text(e.get("excerpt"))] for e in listed]
            tables.append(Table(["eval record", "overlap", "first training record", "excerpt"], rows,
                                title="Contaminated eval records",
                                caption=str(details.get("note") or "")))
        paragraphs = [str(details[k]) for k in ("flags_note",) if details.get(k)]
        return Section(
            key=cls.name, title=cls.title, paragraphs=paragraphs,
            facts=P.facts(P.fact(metrics, "contaminated eval records", "contamination.eval_count", "count"),
                          P.fact(metrics, "share of the eval sets", "contamination.eval_fraction", "fraction"),
                          P.fact(metrics, "largest overlap", "contamination.max_overlap", "fraction"),
                          P.fact(metrics, "training records involved", "contamination.train_count", "count"),
                          None if details.get("ngram") is None else ("n-gram", fmt_number(details["ngram"])),
                          None if details.get("threshold") is None else
                          ("threshold", fmt_metric("fraction", details["threshold"]))),
            tables=tables,
        )
