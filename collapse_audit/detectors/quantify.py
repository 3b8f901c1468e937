"""The synthetic share of a corpus from detector scores, with an interval that never lies by omission.

Why not just count flags: a detector's raw flagged share counts its false positives and misses what
it lets through. Both estimators here undo that with the detector's *measured* behaviour on
validation data, and both are one Bayesian model, so their intervals mean the same thing:

* ``acc`` - adjusted classify-and-count (Forman 2008): the corpus is split in two bins at the
  detector's threshold; the flagged share is ``p * tpr + (1 - p) * fpr``.
* ``hist`` - distribution matching over ``K`` score bins (the maximum-likelihood / EM prior
  adjustment of Saerens et al. 2002 on a histogram, HDy-like): the corpus score histogram is
  ``p * P + (1 - p) * N`` where ``P`` and ``N`` are the validation histograms of synthetic and
  human records. It uses the whole score distribution, not only which side of the threshold.

The posterior over ``p`` (uniform prior) is computed on a grid, averaged over Dirichlet draws of
``P`` and ``N`` from the validation counts (Jeffreys prior), so the interval carries the
sampling error of the corpus AND the error-rate uncertainty of the validation data. Because it
is a posterior, not clipped bootstrap draws, it is never zero-width: a human-only corpus reads
``0.0% (95% interval 0.0%-0.4%)``.

Which estimator is the default was measured on L2R leave-one-domain/generator-out folds (see
benchmarks/DETECTOR.md, "Share estimate and applicability"); the applicability test
(``applicability.py``) decides whether the validation histograms may be used at all. When it
says no, the interval is widened to the bounds over the error rates measured on those folds.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..lazy import np
from .distributions import beta_ppf

DRAWS = 200            # Dirichlet draws of the validation histograms
COARSE = 401           # first grid over p in [0, 1]
FINE = 801             # second grid over the region holding the posterior mass
LEVEL = 0.95
DEFAULT_METHOD = "hist"  # chosen on L2R LODO/LOGO folds (benchmarks/quantification_eval.py)
# The validation histograms count as this share of their records in the Dirichlet posterior. The
# threshold was chosen on the same split (max tpr - fpr), so its rates are optimistic; on the L2R
# test split the human false-positive rate came out 0.084 against 0.064 on validation. Halving the
# effective counts widens the rate uncertainty by sqrt(2) to cover such split-to-split shifts.
REFERENCE_WEIGHT = 0.5
METHODS = ("acc", "hist")


@dataclass
class ShareAssessment:
    """A share estimate with its 95% interval and whether the detector may be trusted on this corpus.

    ``estimate``/``ci_low``/``ci_high`` are record shares of the whole corpus (declared synthetic
    records count in full); the ``token_*`` fields are the same by token count (None when no
    token counts were given). ``validated`` is True only when the applicability state is
    ``validated`` or ``calibrated``: a rule may pass on the interval only then.
    """
    estimate: float
    ci_low: float
    ci_high: float
    method: str
    validated: bool
    applicability: dict
    note: str = ""
    details: dict = field(default_factory=dict)
    token_estimate: float | None = None
    token_ci_low: float | None = None
    token_ci_high: float | None = None

    def as_metrics(self) -> dict[str, float | None]:
        """The metric names of the result JSON (contract: ``synthetic.estimated_fraction`` ...)."""
        return {
            "synthetic.estimated_fraction": self.estimate,
            "synthetic.estimated_fraction_ci_low": self.ci_low,
            "synthetic.estimated_fraction_ci_high": self.ci_high,
            "synthetic.estimated_token_fraction": self.token_estimate,
            "synthetic.estimated_token_fraction_ci_low": self.token_ci_low,
            "synthetic.estimated_token_fraction_ci_high": self.token_ci_high,
            "synthetic.estimate_validated": 1.0 if self.validated else 0.0,
        }


# ----------------------------------------------------------------------------- the posterior

def _log_mixture(P: np.ndarray, N: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """log(p*P + (1-p)*N) [draw, grid point, bin], floored at 1e-300 (one buffer, computed in place)."""
    g = grid[None, :, None]
    mix = np.multiply(g, P[:, None, :])
    mix += np.multiply(1.0 - g, N[:, None, :])
    np.maximum(mix, 1e-300, out=mix)
    np.log(mix, out=mix)
    return mix


def _weighted(log_mix: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """log-likelihood [draw, grid point] of the bin ``counts``: sum over bins of count * log-mixture."""
    return np.multiply(log_mix, counts).sum(axis=2)


def _loglik(counts: np.ndarray, P: np.ndarray, N: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """log-likelihood [draw, grid point] of the corpus bin counts under p*P + (1-p)*N.

    The share estimate evaluates this [draws x grid x bins] tensor dozens of times per scan (overall
    and per source) after the workers are done: it is most of the scan's serial finishing work. Each
    element and the sum over bins are the same operations as the plain expression
    ``(counts * log(max(p*P + (1-p)*N, 1e-300))).sum(-1)``: identical figures."""
    return _weighted(_log_mixture(P, N, grid), counts)


def _normalised(ll: np.ndarray) -> np.ndarray:
    """Posterior over the grid from the log-likelihoods [draw, grid point]: each draw's likelihood
    normalised, then averaged (the marginal over the reference histograms' uncertainty)."""
    ll = ll - ll.max(axis=1, keepdims=True)
    w = np.exp(ll)
    w /= w.sum(axis=1, keepdims=True)
    return w.mean(axis=0)


def _posterior(counts, P, N, grid):
    return _normalised(_loglik(counts, P, N, grid))


@functools.lru_cache(maxsize=4)
def _reference_draws(pc: bytes, nc: bytes, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The reference histograms' Dirichlet draws and their log-mixture on the coarse grid.

    Every estimate of a scan (overall, each source, records and tokens) draws from the same few
    references with the same seed, so the draws and the coarse pass's tensor are made once per
    reference and reused: the same arrays, a third less of the finishing work."""
    pos, neg = np.frombuffer(pc, np.float64), np.frombuffer(nc, np.float64)
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(pos, DRAWS)
    N = rng.dirichlet(neg, DRAWS)
    coarse = _log_mixture(P, N, np.linspace(0.0, 1.0, COARSE))
    for a in (P, N, coarse):
        a.flags.writeable = False
    return P, N, coarse


def mixture_posterior(counts: Sequence[float] | np.ndarray, pos_counts: Sequence[float] | np.ndarray,
                      neg_counts: Sequence[float] | np.ndarray, seed: int = 0, level: float = LEVEL) -> dict:
    """Share ``p`` of the positive class in a binned sample, with a ``level`` interval.

    ``counts`` are the corpus counts per bin (may be fractional: token-weighted counts scaled to
    an effective sample size); ``pos_counts``/``neg_counts`` the validation counts per bin of the
    positive / negative class. Returns ``{"estimate", "ci_low", "ci_high", "fit_kl"}``: the
    estimate is the maximum-likelihood ``p`` under the validation histograms' posterior means,
    the interval the 95% highest-posterior-density region (one-sided when the estimate sits at 0 or 1),
    ``fit_kl`` the per-record KL divergence of the corpus histogram from the fitted mixture.
    """
    c = np.asarray(counts, np.float64)
    pc = np.asarray(pos_counts, np.float64) * REFERENCE_WEIGHT + 0.5
    nc = np.asarray(neg_counts, np.float64) * REFERENCE_WEIGHT + 0.5
    P, N, coarse_log = _reference_draws(pc.tobytes(), nc.tobytes(), int(seed))
    Pm, Nm = (pc / pc.sum())[None], (nc / nc.sum())[None]

    coarse = np.linspace(0.0, 1.0, COARSE)
    post = _normalised(_weighted(coarse_log, c))
    keep = np.flatnonzero(post > post.max() * 1e-9)
    a = coarse[max(keep[0] - 1, 0)]
    b = coarse[min(keep[-1] + 1, COARSE - 1)]
    grid = np.linspace(a, b, FINE)
    post = _posterior(c, P, N, grid)
    cdf = np.cumsum(post)
    cdf /= cdf[-1]
    est = float(grid[int(np.argmax(_loglik(c, Pm, Nm, grid)[0]))])
    alpha = 1.0 - level
    step = grid[1] - grid[0]
    if est <= grid[0] + step and a == 0.0:       # at the boundary: one-sided interval
        lo, hi = 0.0, float(np.interp(level, cdf, grid))
    elif est >= grid[-1] - step and b == 1.0:
        lo, hi = float(np.interp(alpha, cdf, grid)), 1.0
    else:
        lo, hi = _hpd(grid, post, level)
        if a == 0.0 and lo <= grid[0] + step:     # the region reaches the boundary: say so exactly
            lo = 0.0
        if b == 1.0 and hi >= grid[-1] - step:
            hi = 1.0
    lo, hi = min(lo, est), max(hi, est)
    hi = max(hi, lo + step)                       # a grid-resolution floor, never zero width
    n = c.sum()
    fit = est * Pm[0] + (1 - est) * Nm[0]
    q = c / n if n > 0 else c
    with np.errstate(divide="ignore", invalid="ignore"):
        kl = float(np.nansum(np.where(q > 0, q * np.log(q / fit), 0.0)))
    return {"estimate": est, "ci_low": lo, "ci_high": min(hi, 1.0), "fit_kl": kl}


def _hpd(grid: np.ndarray, post: np.ndarray, level: float) -> tuple[float, float]:
    """Highest-posterior-density interval on a grid (the posterior is unimodal in ``p``).

    Why not equal tails: near a boundary the posterior is skewed, and an equal-tailed interval
    then cuts off the boundary itself - a human-only corpus estimated at 0.8% would read
    "0.1%-4.4%", excluding the truth 0 although 0 is more plausible than 4%. The HPD region keeps
    the most plausible values, so it reaches the boundary exactly when the boundary is plausible.
    """
    w = post / post.sum()
    order = np.argsort(-w, kind="stable")
    k = int(np.searchsorted(np.cumsum(w[order]), level)) + 1
    keep = grid[order[:k]]
    return float(keep.min()), float(keep.max())


def bin_index(scores: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin of each score given the inner ``edges`` (len K-1): bin k holds edges[k-1] <= s < edges[k]."""
    return np.searchsorted(np.asarray(edges, np.float64), np.asarray(scores, np.float64), side="right")


def binned(scores, edges, weights=None) -> np.ndarray:
    """Per-bin (optionally weighted) counts over all K bins, empty bins included."""
    k = len(edges) + 1
    return np.bincount(bin_index(scores, edges), weights=weights, minlength=k).astype(np.float64)


def effective_counts(scores, edges, weights) -> np.ndarray:
    """Token-weighted bin counts rescaled to the Kish effective sample size.

    Weighting by tokens changes what one observation is worth; the likelihood must not pretend a
    10,000-token record is 10,000 independent observations.
    """
    w = np.asarray(weights, np.float64)
    w = np.where(np.isfinite(w) & (w > 0), w, 0.0)
    s = w.sum()
    if s <= 0:
        return binned(scores, edges)
    n_eff = s * s / max((w * w).sum(), 1e-300)
    return binned(scores, edges, w) / s * n_eff


# ----------------------------------------------------------------------------- the reference

@dataclass
class ScoreReference:
    """What the estimators need to know about the detector's validated behaviour.

    ``edges`` are inner bin edges in score space; ``pos``/``neg`` the validation counts per bin
    (``pos_tokens``/``neg_tokens`` token-weighted, scaled to effective sizes); ``threshold`` the
    flag threshold; ``folds`` the (tpr, fpr) measured on held-out domains/generators, used to
    bound the share when the corpus is outside the validated domain.
    """
    edges: np.ndarray
    pos: np.ndarray
    neg: np.ndarray
    threshold: float
    pos_tokens: np.ndarray | None = None
    neg_tokens: np.ndarray | None = None
    folds: list = field(default_factory=list)
    source: str = "validation split"

    @classmethod
    def from_rates(cls, tpr: float, fpr: float, n_pos: int, n_neg: int, threshold: float = 0.5,
                   source: str = "validation rates") -> ScoreReference:
        """A two-bin reference (for ``acc`` only) from counts, e.g. a user calibration."""
        tp, fp = float(tpr) * n_pos, float(fpr) * n_neg
        return cls(edges=np.array([threshold]), pos=np.array([n_pos - tp, tp]),
                   neg=np.array([n_neg - fp, fp]), threshold=float(threshold), source=source)

    @classmethod
    def from_scores(cls, scores, labels, threshold: float, bins: int = 10, tokens=None,
                    folds: list | None = None, source: str = "validation split") -> ScoreReference:
        """Bins at quantiles of the pooled validation scores, with the threshold as one edge."""
        s = np.asarray(scores, np.float64)
        y = np.asarray(labels, bool)
        q = np.quantile(s, np.linspace(0, 1, bins + 1)[1:-1])
        edges = np.unique(np.concatenate([q, [threshold]]))
        ref = cls(edges=edges, pos=binned(s[y], edges), neg=binned(s[~y], edges),
                  threshold=float(threshold), folds=list(folds or []), source=source)
        if tokens is not None:
            t = np.asarray(tokens, np.float64)
            ref.pos_tokens = effective_counts(s[y], edges, t[y])
            ref.neg_tokens = effective_counts(s[~y], edges, t[~y])
        return ref

    def two_bin(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(edges, pos, neg) collapsed to the two sides of the threshold."""
        side = np.searchsorted(self.edges, self.threshold, side="left")
        pos = np.array([self.pos[: side + 1].sum(), self.pos[side + 1:].sum()])
        neg = np.array([self.neg[: side + 1].sum(), self.neg[side + 1:].sum()])
        return np.array([self.threshold]), pos, neg

    def rates(self) -> tuple[float, float]:
        """(true-positive rate, false-positive rate) of the reference at its threshold."""
        _, pos, neg = self.two_bin()
        return float(pos[1] / max(pos.sum(), 1)), float(neg[1] / max(neg.sum(), 1))


# ----------------------------------------------------------------------------- estimates

def estimate_undeclared(scores, ref: ScoreReference, method: str = DEFAULT_METHOD,
                        weights=None, seed: int = 0) -> dict:
    """Share among the scored records (no declared records, no applicability): the raw estimator."""
    s = np.asarray(scores, np.float64)
    if method == "acc":
        # token-weighted two-bin rates are not stored separately: the record-count error rates
        # stand in for them
        edges, pos, neg = ref.two_bin()
    elif method == "hist":
        edges, pos, neg = ref.edges, ref.pos, ref.neg
        if weights is not None and ref.pos_tokens is not None and ref.neg_tokens is not None:
            pos, neg = ref.pos_tokens, ref.neg_tokens
    else:
        raise ValueError(f"unknown share estimator {method!r}; expected one of {METHODS}")
    counts = binned(s, edges) if weights is None else effective_counts(s, edges, weights)
    return mixture_posterior(counts, pos, neg, seed=seed)


def rate_bounds(flag_share_lo: float, flag_share_hi: float, folds: Sequence[dict]) -> tuple[float, float]:
    """Bounds on the share over every (tpr, fpr) pair measured on held-out folds.

    Used outside the validated domain: whichever fold the corpus resembles, the share lies in
    ``[(f_lo - fpr) / (tpr - fpr), (f_hi - fpr) / (tpr - fpr)]`` for that fold's rates.
    """
    lows, highs = [], []
    for f in folds:
        tpr, fpr = float(f["tpr"]), float(f["fpr"])
        d = tpr - fpr
        if d <= 0.05:
            return 0.0, 1.0
        lows.append((flag_share_lo - fpr) / d)
        highs.append((flag_share_hi - fpr) / d)
    if not lows:
        return 0.0, 1.0
    return float(np.clip(min(lows), 0, 1)), float(np.clip(max(highs), 0, 1))


def _flag_interval(k: float, n: float, level: float = LEVEL) -> tuple[float, float]:
    """Jeffreys interval of a flagged share ``k / n``."""
    a = (1 - level) / 2
    lo = 0.0 if k <= 0 else beta_ppf(a, k + 0.5, n - k + 0.5)
    hi = 1.0 if k >= n else beta_ppf(1 - a, k + 0.5, n - k + 0.5)
    return lo, hi


def assess_share(
    scores: Sequence[float],
    *,
    reference: ScoreReference | None,
    applicability: dict | None = None,
    n_total: int | None = None,
    n_declared_synthetic: int = 0,
    tokens: Sequence[float] | None = None,
    total_tokens: float | None = None,
    declared_tokens: float = 0.0,
    calibration: Any = None,
    method: str | None = None,
    seed: int = 0,
) -> ShareAssessment:
    """Estimated synthetic share of a corpus, by records and by tokens, with the applicability state.

    * ``scores`` - detector scores of the undeclared records that were scored (all, or a uniform
      sample of them);
    * ``reference`` - the detector's validated score histograms (``applicability.load_reference``
      gives the shipped one; ``ScoreReference.from_rates`` for a detector known only by tpr/fpr;
      None when the detector has no validation at all);
    * ``applicability`` - the block from ``applicability.assess`` (state validated/unvalidated);
      None means "not tested", which counts as unvalidated;
    * ``n_total`` / ``n_declared_synthetic`` - record counts of the whole corpus (declared synthetic
      records count in full); ``n_total`` defaults to ``len(scores) + n_declared_synthetic``;
    * ``tokens`` - token count of each scored record (same order as ``scores``), ``total_tokens``
      / ``declared_tokens`` the corpus totals: enables the token share;
    * ``calibration`` - a ``calibration.Calibration`` measured by the user on labelled in-domain
      records: replaces the shipped reference and makes the state ``calibrated``.
    """
    s = np.asarray(scores, np.float64)
    s = s[np.isfinite(s)]
    n_scored = int(s.size)
    n_decl = max(int(n_declared_synthetic), 0)
    n_total = int(n_total) if n_total is not None else n_scored + n_decl
    n_decl = min(n_decl, n_total)
    n_und = n_total - n_decl
    details: dict = {"n_total": n_total, "n_declared_synthetic": n_decl, "n_scored": n_scored}
    appl, reference, method = _applicability(applicability, calibration, reference, method or DEFAULT_METHOD)
    early = _share_without_estimate(n_total, n_decl, n_scored, reference, appl, details)
    if early is not None:
        return early
    assert reference is not None          # _share_without_estimate answered when it is None
    trusted = appl.get("state", "unvalidated") in ("validated", "calibrated")
    est_u, lo_u, hi_u, m_desc, note = _undeclared_share(s, reference, method, seed, trusted, appl, details)
    if n_scored < n_und:
        note = (note + "; " if note else "") + (
            f"detector scored a uniform sample of {n_scored} of {n_und} undeclared records")
    out = ShareAssessment(
        estimate=_corpus_share(est_u, n_decl, n_und, n_total), ci_low=_corpus_share(lo_u, n_decl, n_und, n_total),
        ci_high=_corpus_share(hi_u, n_decl, n_und, n_total), method=m_desc, validated=trusted,
        applicability=appl, note=note, details=details)
    if tokens is not None:
        t = np.asarray(tokens, np.float64)
        if t.size == np.asarray(scores).size:
            t = t[np.isfinite(np.asarray(scores, np.float64))]
            _add_token_share(out, s, t, reference, method, seed, trusted,
                             total_tokens=total_tokens, declared_tokens=declared_tokens)
    return out


def _corpus_share(p_und: float, decl: float, und: float, total: float) -> float:
    """The whole corpus's share from the share ``p_und`` among its undeclared part: declared
    synthetic records (or tokens) count in full, so the estimator only ever speaks about the rest."""
    return (decl + p_und * und) / total if total > 0 else 0.0


def _applicability(applicability: dict | None, calibration: Any, reference: ScoreReference | None,
                   method: str) -> tuple[dict, ScoreReference | None, str]:
    """(applicability block, reference, method) the estimate rests on: the block given (none means
    the corpus was not tested, which counts as unvalidated), then the user's calibration.

    A calibration replaces the shipped reference only for what it can vouch for: labelled
    in-domain records make the state ``calibrated``; a human-only sample bounds the false-positive
    side and no more (``fp-bounded``); records in another language than the corpus are refused,
    and the reason says so. A two-bin calibration (rates only) has no histogram to match, so the
    estimator becomes adjusted classify-and-count."""
    appl = dict(applicability or {"state": "unvalidated", "reason": "the corpus was not tested "
                                  "against the detector's validated domain", "tests": {},
                                  "calibration": None})
    appl.setdefault("calibration", None)
    refusal = calibration.domain_refusal(appl) if calibration is not None else None
    if refusal:                   # measured in another language: it cannot vouch for this corpus
        appl = {**appl, "reason": f"{appl.get('reason') or appl['state']}; calibration not used: {refusal}"}
        return appl, reference, method
    if calibration is not None and getattr(calibration, "kind", "labelled") == "human_reference":
        # a human-only sample measures false positives, never the detection rate on text the
        # detector cannot see: it bounds the false-positive side and vouches for nothing
        reference = calibration.reference(reference)
        appl = {**appl, "state": "fp-bounded",
                "reason": f"false-positive rate measured on the user's trusted human records "
                          f"({calibration.source}); a human reference cannot show what the detector misses, "
                          f"so the estimate stays unvalidated - calibrate on labelled in-domain records "
                          f"(human and synthetic) or add the language-model witness to settle it",
                "calibration": calibration.describe()}
    elif calibration is not None:
        reference = calibration.reference(reference)
        appl = {**appl, "state": "calibrated",
                "reason": f"error rates measured by the user on labelled in-domain records "
                          f"({calibration.source})",
                "calibration": calibration.describe()}
        if reference.pos.size == 2:
            method = "acc"
    return appl, reference, method


def _share_without_estimate(n_total: int, n_decl: int, n_scored: int, reference: ScoreReference | None,
                            appl: dict, details: dict) -> ShareAssessment | None:
    """The answer when the detector has nothing to estimate, else None.

    An empty corpus has no share; a corpus declared synthetic throughout is synthetic whatever the
    detector says; and with no scored record or no validated error rates, the undeclared share is
    anywhere in [0, 1] - said as such, never guessed."""
    n_und = n_total - n_decl
    if n_total == 0:
        return ShareAssessment(0.0, 0.0, 1.0, "none", False, appl, "empty corpus", details)
    if n_und == 0:
        appl = {**appl, "state": "validated", "reason": "every record is declared synthetic; "
                "the detector decided nothing"}
        return ShareAssessment(1.0, 1.0, 1.0, "declared", True, appl,
                               "every record is declared synthetic", details, 1.0, 1.0, 1.0)
    if n_scored == 0 or reference is None:
        why = ("no undeclared record was scored" if n_scored == 0 else
               "the detector has no validated error rates")
        lo, hi = _corpus_share(0, n_decl, n_und, n_total), _corpus_share(1, n_decl, n_und, n_total)
        appl = {**appl, "state": "unvalidated", "reason": why}
        return ShareAssessment((lo + hi) / 2, lo, hi, "unknown", False, appl,
                               f"{why}: the share among undeclared records is unknown", details)
    return None


def _joined_estimate(s: np.ndarray, reference: ScoreReference, method: str, seed: int,
                     weights: np.ndarray | None = None) -> tuple[dict, dict | None]:
    """The chosen estimator's result, its interval joined with the other estimator's, and that
    other result (None with a two-bin reference, where only ``acc`` applies).

    When the two disagree (scores sharper or blunter than on validation), that disagreement is
    uncertainty too, so the interval spans both."""
    r = estimate_undeclared(s, reference, method, weights=weights, seed=seed)
    if reference.pos.size <= 2:
        return r, None
    other = estimate_undeclared(s, reference, "acc" if method == "hist" else "hist", weights=weights, seed=seed)
    return {**r, "ci_low": min(r["ci_low"], other["ci_low"]), "ci_high": max(r["ci_high"], other["ci_high"])}, other


def _undeclared_share(s: np.ndarray, reference: ScoreReference, method: str, seed: int, trusted: bool,
                      appl: dict, details: dict) -> tuple[float, float, float, str, str]:
    """(estimate, low, high) of the share among the undeclared records, how it was obtained, and the
    note; records the raw figures in ``details``.

    Outside the validated domain the estimator's interval cannot be trusted alone: it is widened
    to the bounds over the error rates of the held-out folds, and the note says what would settle
    it."""
    r, other = _joined_estimate(s, reference, method, seed)
    if other is not None:
        details["other_estimator"] = {"estimate": other["estimate"],
                                      "ci": [other["ci_low"], other["ci_high"]]}
    n_scored = int(s.size)
    k = float((s >= reference.threshold).sum())
    details.update({"flagged_share": k / n_scored, "threshold": reference.threshold,
                    "raw_estimate": r["estimate"], "raw_ci": [r["ci_low"], r["ci_high"]],
                    "fit_kl": r["fit_kl"], "reference": reference.source})
    note = ""
    lo_u, hi_u = r["ci_low"], r["ci_high"]
    m_name = {"acc": "adjusted classify-and-count", "hist": "score-histogram distribution matching"}[method]
    m_desc = (f"{m_name}, Bayesian 95% interval (sampling + validation error-rate uncertainty"
              + (", joined with the other estimator's)" if "other_estimator" in details else ")"))
    if not trusted:
        f_lo, f_hi = _flag_interval(k, n_scored)
        b_lo, b_hi = rate_bounds(f_lo, f_hi, reference.folds)
        lo_u, hi_u = min(lo_u, b_lo), max(hi_u, b_hi)
        m_desc = (f"{m_name}, interval widened to the bounds over the error rates of "
                  f"{len(reference.folds)} held-out L2R folds (estimate unvalidated)")
        note = ("outside the detector's validated domain: " + appl.get("reason", "")
                + "; calibrate on labelled in-domain records (`collapse-audit detector calibrate`) "
                "or bring a stronger detector to settle it")
        details["widened_by_fold_rates"] = [b_lo, b_hi]
    return r["estimate"], lo_u, hi_u, m_desc, note


def _add_token_share(out: ShareAssessment, s: np.ndarray, t: np.ndarray, reference: ScoreReference,
                     method: str, seed: int, trusted: bool, *, total_tokens: float | None,
                     declared_tokens: float) -> None:
    """Fill the token share of ``out``: the same estimate weighted by each scored record's tokens
    (a corpus can be 5% synthetic by records and 20% by tokens when the synthetic texts are long).

    Outside the validated domain it is widened like the record share, with the flag interval of
    an effective sample size (Kish) so a few long records do not pass for many."""
    rt, _ = _joined_estimate(s, reference, method, seed, weights=t)
    und_tok = float(total_tokens) - float(declared_tokens) if total_tokens is not None else float(t.sum())
    dec_tok = float(declared_tokens)
    tot = und_tok + dec_tok
    tlo, thi = rt["ci_low"], rt["ci_high"]
    if not trusted:
        w = t / max(t.sum(), 1e-300)
        n_eff = 1.0 / max((w * w).sum(), 1e-300)
        kt = float(w[s >= reference.threshold].sum()) * n_eff
        b_lo, b_hi = rate_bounds(*_flag_interval(kt, n_eff), reference.folds)
        tlo, thi = min(tlo, b_lo), max(thi, b_hi)
    out.token_estimate = _corpus_share(rt["estimate"], dec_tok, und_tok, tot)
    out.token_ci_low = _corpus_share(tlo, dec_tok, und_tok, tot)
    out.token_ci_high = _corpus_share(thi, dec_tok, und_tok, tot)
