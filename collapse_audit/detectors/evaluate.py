"""Detector metrics (numpy only): AUROC, TPR at a fixed FPR, calibration error, per group."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt


def auroc(y: np.ndarray, s: np.ndarray) -> float | None:
    """Area under the ROC curve (Mann-Whitney U, ties count half); None if one class is absent."""
    y = np.asarray(y, bool)
    s = np.asarray(s, np.float64)
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return None
    order = np.argsort(s, kind="mergesort")
    ss = s[order]
    ranks = np.empty(len(s), np.float64)
    # average ranks over ties
    brk = np.flatnonzero(np.diff(ss)) + 1
    starts = np.concatenate([[0], brk])
    ends = np.concatenate([brk, [len(ss)]])
    avg = (starts + ends + 1) / 2.0
    ranks[order] = np.repeat(avg, ends - starts)
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def rates_at(y: np.ndarray, s: np.ndarray, threshold: float) -> tuple[float, float]:
    """(tpr, fpr) of ``s >= threshold``."""
    y = np.asarray(y, bool)
    f = np.asarray(s) >= threshold
    tpr = float(f[y].mean()) if y.any() else float("nan")
    fpr = float(f[~y].mean()) if (~y).any() else float("nan")
    return tpr, fpr


def tpr_at_fpr(y: np.ndarray, s: np.ndarray, max_fpr: float = 0.01) -> float | None:
    """Highest TPR with FPR <= max_fpr (threshold strictly above that many human scores)."""
    y = np.asarray(y, bool)
    s = np.asarray(s, np.float64)
    if not y.any() or y.all():
        return None
    neg = np.sort(s[~y])[::-1]
    k = int(np.floor(max_fpr * len(neg)))  # negatives allowed at or above the threshold
    thr = neg[k] if k < len(neg) else -np.inf
    # flagged: s > thr (strict, so the (k+1)-th negative is not flagged)
    return float((s[y] > thr).mean())


def youden_threshold(y: np.ndarray, s: np.ndarray) -> float:
    """Threshold maximising tpr - fpr (best for adjusted classify-and-count)."""
    y = np.asarray(y, bool)
    s = np.asarray(s, np.float64)
    cand = np.unique(s)
    if len(cand) > 2000:
        cand = np.unique(np.quantile(s, np.linspace(0, 1, 2001)))
    best, best_j = 0.5, -1.0
    for t in cand:
        tpr, fpr = rates_at(y, s, t)
        if tpr - fpr > best_j:
            best, best_j = float(t), tpr - fpr
    return best


def calibration_error(y: np.ndarray, s: np.ndarray, bins: int = 10) -> float | None:
    """Expected calibration error of ``s`` as P(synthetic), equal-width bins."""
    y = np.asarray(y, np.float64)
    s = np.clip(np.asarray(s, np.float64), 0, 1)
    if len(y) == 0:
        return None
    b = np.minimum((s * bins).astype(int), bins - 1)
    ece = 0.0
    for k in range(bins):
        m = b == k
        if m.any():
            ece += m.mean() * abs(s[m].mean() - y[m].mean())
    return float(ece)


def metrics(labels: npt.ArrayLike, scores: npt.ArrayLike, threshold: float | None = None) -> dict:
    """n, class counts, AUROC, TPR at 1% FPR, calibration error, and tpr/fpr at ``threshold`` when given."""
    y = np.asarray(labels, bool)
    s = np.asarray(scores, np.float64)
    out = {
        "n": int(len(y)), "n_pos": int(y.sum()), "n_neg": int((~y).sum()),
        "auroc": auroc(y, s), "tpr_at_1pct_fpr": tpr_at_fpr(y, s, 0.01),
        "calibration_error": calibration_error(y, s),
    }
    if threshold is not None:
        tpr, fpr = rates_at(y, s, threshold)
        out.update({"threshold": float(threshold),
                    "tpr": None if np.isnan(tpr) else tpr, "fpr": None if np.isnan(fpr) else fpr})
    return out


def grouped(labels: npt.ArrayLike, scores: npt.ArrayLike, groups: Sequence, threshold: float | None = None) -> dict:
    """Overall metrics plus one entry per group value (sorted)."""
    y = np.asarray(labels, bool)
    s = np.asarray(scores, np.float64)
    g = np.asarray([str(x) for x in groups])
    out = {"overall": metrics(y, s, threshold), "groups": {}}
    for v in sorted(set(g.tolist())):
        m = g == v
        out["groups"][v] = metrics(y[m], s[m], threshold)
    return out
