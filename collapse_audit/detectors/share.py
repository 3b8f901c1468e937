"""Honest synthetic-share estimates.

The raw flagged share of a detector is biased: it counts false positives among human records and
misses the synthetic records the detector lets through. With the detector's validated true- and
false-positive rates the bias can be undone (*adjusted classify-and-count*, Forman 2008)::

    p = (flagged_share - fpr) / (tpr - fpr)

The 95% interval is a parametric bootstrap that propagates both sources of error:

* sampling error of the flagged share (Jeffreys Beta posterior of ``n_flagged / n_scored``), and
* the uncertainty of the rates themselves (Jeffreys Beta posteriors from the validation counts
  ``tpr * n_val_pos`` and ``fpr * n_val_neg``).

Each draw is clipped to [0, 1]; the interval is the 2.5th / 97.5th percentile of the draws.
Records declared synthetic by their provenance tag count as synthetic with certainty; the
detector estimates the share among the rest, so the corpus share is
``(n_declared + p * n_undeclared) / n_total``.

What the interval cannot include: a shift between the validation data and the audited corpus
(a domain or generator the detector has never seen changes its tpr/fpr). That is why the
detector's validation split is recorded in the report.
"""

from __future__ import annotations

import math

import numpy as np

DRAWS = 4000
MIN_YOUDEN = 0.05  # below this, tpr - fpr is too small to correct anything


def _as_rate(x) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def estimate_share(
    *,
    n_total: int,
    n_declared_synthetic: int,
    n_scored: int,
    n_flagged: int,
    tpr: float,
    fpr: float,
    n_val_pos: int,
    n_val_neg: int,
    seed: int = 0,
) -> dict:
    """Estimated synthetic share of the whole corpus with a 95% interval.

    ``n_scored`` / ``n_flagged`` are among records NOT declared synthetic (a uniform sample of
    them). Returns ``{"estimate", "ci_low", "ci_high", "method", "note"}`` plus the inputs used.
    Deterministic for a given ``seed``; never raises on degenerate input.
    """
    n_total = max(int(n_total), 0)
    n_decl = min(max(int(n_declared_synthetic), 0), n_total)
    n_und = n_total - n_decl
    n_scored = max(int(n_scored), 0)
    n_flagged = min(max(int(n_flagged), 0), n_scored)
    n_val_pos = max(int(n_val_pos or 0), 0)
    n_val_neg = max(int(n_val_neg or 0), 0)
    tpr_v, fpr_v = _as_rate(tpr), _as_rate(fpr)

    def corpus(p_und: np.ndarray | float):
        if n_total == 0:
            return np.zeros_like(p_und, dtype=float) if isinstance(p_und, np.ndarray) else 0.0
        return (n_decl + np.clip(p_und, 0.0, 1.0) * n_und) / n_total

    out = {
        "n_total": n_total, "n_declared_synthetic": n_decl, "n_scored": n_scored,
        "n_flagged": n_flagged,
        "flagged_share": (n_flagged / n_scored) if n_scored else None,
        "tpr": tpr_v, "fpr": fpr_v, "n_val_pos": n_val_pos, "n_val_neg": n_val_neg,
    }

    if n_total == 0:
        return {**out, "estimate": 0.0, "ci_low": 0.0, "ci_high": 1.0,
                "method": "none", "note": "empty corpus"}
    if n_und == 0:
        return {**out, "estimate": 1.0, "ci_low": 1.0, "ci_high": 1.0,
                "method": "declared", "note": "every record is declared synthetic"}
    if n_scored == 0:
        return {**out, "estimate": float(corpus(0.5)), "ci_low": float(corpus(0.0)),
                "ci_high": float(corpus(1.0)), "method": "unknown",
                "note": "no undeclared record was scored by the detector; the share among them is unknown"}

    rng = np.random.default_rng(seed)
    f_draws = rng.beta(n_flagged + 0.5, n_scored - n_flagged + 0.5, DRAWS)
    f_hat = n_flagged / n_scored

    validated = (tpr_v is not None and fpr_v is not None and n_val_pos > 0 and n_val_neg > 0)
    if not validated:
        est = f_hat
        lo, hi = np.percentile(f_draws, [2.5, 97.5])
        return {**out, "estimate": float(corpus(est)), "ci_low": float(corpus(lo)),
                "ci_high": float(corpus(hi)), "method": "raw flagged share (uncorrected)",
                "note": "the detector has no validated tpr/fpr, so the flagged share is not corrected "
                        "for its errors and the interval covers sampling error only"}

    tpr_v = min(max(tpr_v, 0.0), 1.0)
    fpr_v = min(max(fpr_v, 0.0), 1.0)
    if tpr_v - fpr_v < MIN_YOUDEN:
        return {**out, "estimate": float(corpus(f_hat)), "ci_low": float(corpus(0.0)),
                "ci_high": float(corpus(1.0)), "method": "uninformative detector",
                "note": f"the detector's validated tpr ({tpr_v:.3f}) barely exceeds its fpr "
                        f"({fpr_v:.3f}), so the share among undeclared records is unknown"}

    tp = tpr_v * n_val_pos
    fp = fpr_v * n_val_neg
    tpr_d = rng.beta(tp + 0.5, n_val_pos - tp + 0.5, DRAWS)
    fpr_d = rng.beta(fp + 0.5, n_val_neg - fp + 0.5, DRAWS)
    denom = tpr_d - fpr_d
    with np.errstate(divide="ignore", invalid="ignore"):
        p_d = np.where(denom > 1e-9, (f_draws - fpr_d) / denom, np.where(f_draws > fpr_d, 1.0, 0.0))
    p_d = np.clip(p_d, 0.0, 1.0)
    est = min(max((f_hat - fpr_v) / (tpr_v - fpr_v), 0.0), 1.0)
    lo, hi = np.percentile(p_d, [2.5, 97.5])
    lo, hi = min(lo, est), max(hi, est)
    note = ""
    if n_scored < n_und:
        note = f"detector scored a uniform sample of {n_scored} of {n_und} undeclared records"
    return {**out, "estimate": float(corpus(est)), "ci_low": float(corpus(lo)),
            "ci_high": float(corpus(hi)),
            "method": "adjusted classify-and-count, parametric bootstrap 95% interval "
                      "(sampling + tpr/fpr uncertainty)",
            "note": note}


def cap_message(result: dict, cap: float) -> str:
    """One sentence for a max-share rule (e.g. CA101), honest about the interval.

    Says whether the estimate and its 95% interval are below, above, or straddle ``cap``.
    """
    est, lo, hi = result["estimate"], result["ci_low"], result["ci_high"]
    span = f"estimated synthetic share {est:.1%} (95% interval {lo:.1%}-{hi:.1%})"
    if hi <= cap:
        return f"{span} is below the cap {cap:.1%}."
    if lo > cap:
        return f"{span} exceeds the cap {cap:.1%}."
    side = "above" if est > cap else "below"
    return (f"{span} is {side} the cap {cap:.1%} but too uncertain to be sure: the interval "
            f"straddles the cap (score more records with --sample, or use a detector with "
            f"better validated error rates).")
