"""Synthetic content: declared (provenance tags), detected (the detector) and estimated shares.

The detector scores a seeded uniform sample of at most ``detector.sample`` records (chosen by the
engine before the scan, so the choice does not depend on batching or workers). The estimated share
counts declared-synthetic records in full and corrects the detector's flagged share of the rest with
its validated error rates (see ``detectors.share``).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..detectors.share import estimate_share
from ..result.formatting import fmt_interval, fmt_metric, fmt_number
from ..result.sections import Section
from ..text.excerpt import excerpt
from ..text.limits import clip_for_analysis
from . import presenting as P
from .base import Check, CheckResult
from .provenance_tags import HUMAN, SYNTHETIC, classify_tags, provenance_values, tag_text
from .registry import register_check
from .spec import Column, Metric, Rule, option

TOP_K = 20
BINS = 20


VALIDATION_KEYS = ("tpr", "fpr", "n_pos", "n_neg")


@dataclass(frozen=True)
class DetectorOptions:
    """The policy's ``detector:`` section: which detector, how many records it scores, and the
    options handed to it (``detector_options``)."""

    name: str = option("default", "Detector: default, neural, hf:PATH or lm:PATH.")
    sample: int = option(20000, "Score at most this many records (uniform, seeded); 0 = all.", min=0)
    threshold: float | None = option(None, "Score at which a record counts as flagged (default: the "
                                     "detector's own).", min=0.0, max=1.0)
    tpr: float | None = option(None, "Measured true-positive rate at the threshold (detector eval).",
                               min=0.0, max=1.0)
    fpr: float | None = option(None, "Measured false-positive rate at the threshold.", min=0.0, max=1.0)
    n_pos: int | None = option(None, "Synthetic records the rates were measured on.", min=1)
    n_neg: int | None = option(None, "Human records the rates were measured on.", min=1)
    synthetic_label: str | None = option(None, "hf: models: the label meaning model-generated.")
    method: str | None = option(None, "lm: detectors: the zero-shot criterion.",
                                choices=("fast-detectgpt", "log-rank"))
    center: float | None = option(None, "lm: detectors: criterion value mapped to 0.5.")
    scale: float | None = option(None, "lm: detectors: criterion scale of the logistic map.")
    batch_size: int | None = option(None, "Texts per model call (neural, hf:, lm:).", min=1, max=4096)
    max_length: int | None = option(None, "Tokens per text the model reads (hf:, lm:).", min=8, max=1 << 20)
    device: str | None = option(None, "Where torch-based detectors run (neural, hf:, lm:): auto takes a GPU "
                                "when torch sees one.", choices=("auto", "cpu", "cuda", "mps"))

    def problems(self) -> list[tuple[str, str]]:
        """Cross-field mistakes: (key, sentence) pairs."""
        given = [k for k in VALIDATION_KEYS if getattr(self, k) is not None]
        if given and len(given) != len(VALIDATION_KEYS):
            missing = [k for k in VALIDATION_KEYS if k not in given]
            return [(given[0], f"sets {', '.join(given)} but not {', '.join(missing)}; give all four "
                               "(from `collapse-audit detector eval`)")]
        return []

    def detector_options(self) -> dict[str, Any]:
        """What the detector itself receives (every option that is set, but name and sample)."""
        return {k: v for k, v in vars(self).items() if v is not None and k not in ("name", "sample")}


@register_check
class Synthetic(Check):
    name = "synthetic"
    title = "Synthetic content"
    Options = DetectorOptions
    options_key = "detector"
    needs = ("detector", "sample_rows")
    metrics = (
        Metric("synthetic.scored", "count", "Records the detector scored (the seeded sample).", unit="records",
               per_source=False),
        Metric("synthetic.declared_count", "count", "Records whose provenance tag says model-generated.",
               unit="records"),
        Metric("synthetic.declared_fraction", "fraction", "Share of records tagged model-generated."),
        Metric("synthetic.detected_count", "count", "Scored records the detector flags.", unit="records"),
        Metric("synthetic.detected_fraction", "fraction", "Share of scored records the detector flags."),
        Metric("synthetic.estimated_fraction", "interval", "Estimated share of model-generated records: "
               "declared ones in full plus the error-corrected flagged share of the rest, with a 95% interval."),
        Metric("provenance.undeclared_synthetic_count", "count", "Records tagged human that the detector "
               "flags as model-generated.", unit="records"),
        Metric("provenance.undeclared_synthetic_fraction", "fraction", "Share of scored human-tagged records "
               "that the detector flags."),
    )
    rules = (
        Rule(
            "CA101", "synthetic-share-cap", "synthetic.estimated_fraction", "max", 0.3, "error",
            rationale=(
                "Models trained on a growing share of model-generated text lose the tails of the human "
                "distribution and degrade generation after generation (model collapse). The cap is applied to"
                " the *estimated* share: records declared synthetic count in full, and the detector's flagged"
                " share of the rest is corrected for its validated true- and false-positive rates, with a 95%"
                " interval. When that interval straddles the cap the message says the estimate is too "
                "uncertain to be sure either way."
            ),
            example="{id: CA101, metric: synthetic.estimated_fraction, max: 0.30}",
            enabled_by_default=True,
        ),
        Rule(
            "CA102", "declared-synthetic-cap", "synthetic.declared_fraction", "max", 0.3, "error",
            rationale=(
                "Caps the share of records whose provenance tag says they are model-generated. Unlike CA101 "
                "it needs no detector, so it is exact, but it trusts the tags."
            ),
            example="{id: CA102, metric: synthetic.declared_fraction, max: 0.20}",
            enabled_by_default=False,
        ),
        Rule(
            "CA103", "undeclared-synthetic", "provenance.undeclared_synthetic_count", "max", 0, "warning",
            rationale=(
                "Records tagged human that the detector flags as model-generated suggest mislabelled "
                "provenance. Individual flags are probabilistic (see the detector's false-positive rate), so "
                "this defaults to a warning; the annotations list the records."
            ),
            example="{id: CA103, metric: provenance.undeclared_synthetic_count, max: 0, severity: warning}",
            enabled_by_default=True,
        ),
    )
    columns = (
        Column("synthetic_score", "float64", "Detector score P(model-generated); null when not in the sample."),
    )

    def __init__(self, ctx=None):
        super().__init__(ctx)
        self.detector = self.resources["detector"]
        self.sample_rows: dict[int, np.ndarray] | None = self.resources.get("sample_rows")
        self.scores: list[np.ndarray] = []
        self.codes: list[np.ndarray] = []
        self.top: list[tuple] = []  # min-heap of (score, -global index, record info)

    state_attrs = ("scores", "codes", "top")

    def merge(self, other: Synthetic) -> None:
        """Exact: scores and tags concatenate; the top-scored list keeps the best ``TOP_K`` by
        (score, earliest index) over both shards, the later shard's indices rebased."""
        self._merge_guard(other)
        base = sum(len(s) for s in self.scores)
        self.scores += other.scores
        self.codes += other.codes
        entries = self.top + [(s, neg - base, info) for s, neg, info in other.top]
        self.top = heapq.nlargest(TOP_K, entries, key=lambda e: (e[0], e[1]))
        heapq.heapify(self.top)

    def _selected(self, batch) -> np.ndarray:
        if self.sample_rows is None:
            return np.arange(len(batch))
        chosen = self.sample_rows.get(batch.file_index)
        if chosen is None or not len(chosen):
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(np.isin(np.asarray(batch.rows, dtype=np.int64), chosen, assume_unique=True))

    def prepare(self, batch):
        idx = self._selected(batch)
        if not len(idx):
            return idx, np.zeros(0, dtype=np.float64)
        texts = clip_for_analysis([batch.texts[i] for i in idx])  # capped: see text/limits.py
        scores = np.asarray(self.detector.score(texts), dtype=np.float64)
        return idx, scores

    def observe(self, batch, prepared) -> None:
        idx, scores = prepared
        full = np.full(len(batch), np.nan, dtype=np.float64)
        full[idx] = scores
        raw = provenance_values(batch, self.fields)
        self.scores.append(full)
        self.codes.append(classify_tags(raw, self.fields))
        for i, s in zip(idx.tolist(), scores.tolist()):
            item = (s, -(batch.start + i))
            if len(self.top) < TOP_K or item > self.top[0][:2]:
                info = {"file": batch.file, "row": batch.rows[i], "score": round(s, 4),
                        "provenance": tag_text(raw[i]), "excerpt": excerpt(batch.texts[i])}
                entry = (*item, info)
                if len(self.top) < TOP_K:
                    heapq.heappush(self.top, entry)
                else:
                    heapq.heappushpop(self.top, entry)

    def _arrays(self):
        scores = np.concatenate(self.scores) if self.scores else np.zeros(0, np.float64)
        codes = np.concatenate(self.codes) if self.codes else np.zeros(0, np.uint8)
        return scores, codes

    def _masks(self, scores: np.ndarray, codes: np.ndarray):
        """(scored, flagged, declared, human) per record; unscored records are never flagged."""
        scored = ~np.isnan(scores)
        flagged = scored & (np.nan_to_num(scores, nan=-1.0) >= self.detector.threshold)
        return scored, flagged, codes == SYNTHETIC, codes == HUMAN

    def _metrics(self, scores: np.ndarray, codes: np.ndarray) -> tuple[dict[str, float], dict]:
        """The check's metrics over these records, and the share estimate behind them."""
        v = self.detector.validation
        scored, flagged, declared, human = self._masks(scores, codes)
        n_total = len(codes)
        est = estimate_share(
            n_total=n_total, n_declared_synthetic=int(declared.sum()),
            n_scored=int((scored & ~declared).sum()), n_flagged=int((flagged & ~declared).sum()),
            tpr=v.get("tpr", 1.0), fpr=v.get("fpr", 0.0),
            n_val_pos=int(v.get("n_pos") or 0), n_val_neg=int(v.get("n_neg") or 0), seed=self.seed,
        )
        n_scored = int(scored.sum())
        human_scored = int((human & scored).sum())
        undeclared = int((human & flagged).sum())
        return {
            "synthetic.scored": n_scored,
            "synthetic.declared_count": int(declared.sum()),
            "synthetic.declared_fraction": float(declared.sum() / max(n_total, 1)),
            "synthetic.detected_count": int(flagged.sum()),
            "synthetic.detected_fraction": float(flagged.sum() / n_scored) if n_scored else 0.0,
            "synthetic.estimated_fraction": float(est["estimate"]),
            "synthetic.estimated_fraction_ci_low": float(est["ci_low"]),
            "synthetic.estimated_fraction_ci_high": float(est["ci_high"]),
            "provenance.undeclared_synthetic_count": undeclared,
            "provenance.undeclared_synthetic_fraction": float(undeclared / human_scored) if human_scored else 0.0,
        }, est

    def finish(self) -> CheckResult:
        scores, codes = self._arrays()
        self._all = (scores, codes)
        metrics, estimate = self._metrics(scores, codes)
        scored, flagged, declared, human = self._masks(scores, codes)
        undeclared = human & flagged
        counts, edges = np.histogram(scores[scored], bins=BINS, range=(0.0, 1.0))
        details = {
            "threshold": float(self.detector.threshold),
            "histogram": {"edges": [round(float(e), 4) for e in edges], "counts": counts.astype(int).tolist()},
            "top": [e[2] for e in sorted(self.top, key=lambda e: (-e[0], -e[1]))],
            "estimate": estimate,
        }
        flags = {
            "synthetic.estimated_fraction": declared | flagged,
            "synthetic.declared_fraction": declared, "synthetic.declared_count": declared,
            "synthetic.detected_fraction": flagged, "synthetic.detected_count": flagged,
            "provenance.undeclared_synthetic_count": undeclared,
            "provenance.undeclared_synthetic_fraction": undeclared,
        }
        # float64 with NaN for unscored records (the annotations writer turns NaN into null)
        return CheckResult(metrics=metrics, details=details, columns={"synthetic_score": scores}, flags=flags)

    def metrics_for(self, mask: np.ndarray) -> dict[str, float]:
        scores, codes = self._all
        return self._metrics(scores[mask], codes[mask])[0]

    @classmethod
    def section(cls, details, metrics) -> Section | None:
        est = details.get("estimate") if isinstance(details.get("estimate"), dict) else {}
        lo, hi = metrics.get("synthetic.estimated_fraction_ci_low"), metrics.get("synthetic.estimated_fraction_ci_high")
        paragraphs = [str(est["note"])] if est.get("note") else []
        interval = None if lo is None or hi is None else ("95% interval", fmt_interval("interval", lo, hi))
        thr = details.get("threshold")
        return Section(
            key=cls.name, title=cls.title, paragraphs=paragraphs,
            facts=P.facts(P.fact(metrics, "estimated share", "synthetic.estimated_fraction", "interval"), interval,
                          None if not est.get("method") else ("method", str(est["method"])),
                          P.fact(metrics, "declared synthetic", "synthetic.declared_fraction", "fraction"),
                          P.fact(metrics, "flagged by the detector", "synthetic.detected_fraction", "fraction"),
                          P.fact(metrics, "records scored", "synthetic.scored", "count"),
                          None if thr is None else ("threshold", fmt_number(thr)),
                          P.fact(metrics, "human-tagged but flagged", "provenance.undeclared_synthetic_count",
                                 "count")),
            tables=P.tables(P.examples_table("Highest-scoring records", [
                {**t, "score": fmt_metric("value", t.get("score"))} for t in P.dicts(details.get("top"))],
                extra=(("score", "score"), ("provenance", "provenance")))),
        )
