"""Synthetic content: declared (provenance tags), detected (the detector) and estimated shares.

The detector scores a seeded uniform sample of at most ``detector.sample`` records (chosen by the
engine before the scan, so the choice does not depend on batching or workers). The estimated share
counts declared-synthetic records in full and corrects the detector's flagged share of the rest with
its validated error rates (see ``detectors.share``).
"""

from __future__ import annotations

import heapq

import numpy as np

from ..detectors.share import estimate_share
from ..text.limits import clip_for_analysis
from .base import Check, CheckResult, excerpt
from .provenance_tags import HUMAN, SYNTHETIC, classify_tags, provenance_values, tag_text

TOP_K = 20
BINS = 20


class Synthetic(Check):
    name = "synthetic"
    produces = (
        "synthetic.scored", "synthetic.declared_count", "synthetic.declared_fraction",
        "synthetic.detected_count", "synthetic.detected_fraction",
        "synthetic.estimated_fraction", "synthetic.estimated_fraction_ci_low",
        "synthetic.estimated_fraction_ci_high",
        "provenance.undeclared_synthetic_count", "provenance.undeclared_synthetic_fraction",
    )

    def __init__(self, config, resources=None):
        super().__init__(config, resources)
        self.detector = self.resources["detector"]
        self.sample_rows: dict[int, np.ndarray] | None = self.resources.get("sample_rows")
        self.scores: list[np.ndarray] = []
        self.codes: list[np.ndarray] = []
        self.top: list[tuple] = []  # min-heap of (score, -global index, record info)

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
        raw = provenance_values(batch, self.config.fields)
        self.scores.append(full)
        self.codes.append(classify_tags(raw, self.config.fields))
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
            n_val_pos=int(v.get("n_pos") or 0), n_val_neg=int(v.get("n_neg") or 0), seed=self.config.seed,
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
