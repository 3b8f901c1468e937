"""Divergence and stability math for drift against a baseline profile.

All functions take *counts* on a shared partition (same bins, same order) and are pure numpy.

* ``js_divergence`` — Jensen–Shannon divergence in bits, in [0, 1].
* ``pooled_vector`` — the partition drift is measured on: the baseline's frequent tokens (at least
  ``min_count`` occurrences, among its top-K) one by one, all rarer tokens pooled into 256 hash
  buckets. Token-level JS between two finite samples is dominated by which rare words each happens
  to contain (two disjoint halves of one human corpus differ by ~0.09 at 250k tokens); pooling
  removes that noise and leaves the shift in how common words are used.
* ``kl_divergence`` — KL(actual ‖ expected) in bits, with the expected side smoothed as
  ``(1 - λ)·Q + λ·P`` (the skew divergence, Lee 2001; λ = 0.01) so that a token the baseline never
  saw gives a large but finite value (at most log2(1/λ) ≈ 6.6 bits).
* ``psi`` — population stability index, ``Σ (a_i − e_i) · ln(a_i / e_i)`` over bin shares, shares
  floored at 1e-4. Rules of thumb: < 0.1 stable, 0.1–0.25 moderate shift, > 0.25 major shift.
* ``quantile_groups`` — merge fine histogram bins into ~10 groups of equal *baseline* mass, the
  usual binning for PSI.

Synthetic-score PSI: the synthetic check owns the scores, so the engine computes
``drift.score_psi = score_psi(profile.scores, scores)`` (or ``psi(expected, actual)`` on two
``score_histogram`` outputs) — both sides use ``score_edges()``.
"""

from __future__ import annotations

import functools

from ..lazy import np

KL_SKEW = 0.01
PSI_FLOOR = 1e-4


@functools.cache
def score_edges() -> np.ndarray:
    """The synthetic-score histogram's 20 equal-width bins on [0, 1] (built on first use: importing
    this module does not import numpy)."""
    edges = np.linspace(0.0, 1.0, 21)
    edges.flags.writeable = False
    return edges


def _shares(counts) -> np.ndarray:
    c = np.asarray(counts, dtype=np.float64)
    s = c.sum()
    return c / s if s > 0 else c


def js_divergence(p_counts, q_counts) -> float:
    """Jensen-Shannon divergence in bits between two count vectors (0 when either is empty)."""
    p, q = _shares(p_counts), _shares(q_counts)
    if p.sum() == 0 or q.sum() == 0:
        return float("nan")
    m = 0.5 * (p + q)
    out = 0.0
    for x in (p, q):
        nz = x > 0
        out += 0.5 * float((x[nz] * np.log2(x[nz] / m[nz])).sum())
    return min(max(out, 0.0), 1.0)


def kl_divergence(actual_counts, expected_counts, skew: float = KL_SKEW) -> float:
    """KL divergence in bits of actual from expected, expected mixed with ``skew`` of actual to stay finite."""
    p, q = _shares(actual_counts), _shares(expected_counts)
    if p.sum() == 0 or q.sum() == 0:
        return float("nan")
    qs = (1.0 - skew) * q + skew * p
    nz = p > 0
    return max(float((p[nz] * np.log2(p[nz] / qs[nz])).sum()), 0.0)


def psi(expected_counts, actual_counts, floor: float = PSI_FLOOR) -> float:
    """Population stability index between two count vectors, shares floored to stay finite."""
    e, a = _shares(expected_counts), _shares(actual_counts)
    if e.sum() == 0 or a.sum() == 0:
        return float("nan")
    e = np.maximum(e, floor)
    a = np.maximum(a, floor)
    return float(((a - e) * np.log(a / e)).sum())


def quantile_groups(expected_counts, groups: int = 10) -> np.ndarray:
    """Group id per fine bin so that each group holds about 1/groups of the expected mass."""
    e = np.asarray(expected_counts, dtype=np.float64)
    total = e.sum()
    if total == 0:
        return np.zeros(len(e), dtype=np.int64)
    cum = np.cumsum(e) / total
    # a bin belongs to the group in which its cumulative mass *ends*
    gid = np.minimum(np.ceil(cum * groups - 1e-9).astype(np.int64) - 1, groups - 1)
    gid = np.maximum(gid, 0)
    _, gid = np.unique(gid, return_inverse=True)
    return gid


def grouped_psi(expected_fine, actual_fine, groups: int = 10) -> float:
    """PSI on ~``groups`` quantile bins of the expected (baseline) histogram."""
    gid = quantile_groups(expected_fine, groups)
    k = int(gid.max()) + 1 if len(gid) else 0
    e = np.bincount(gid, weights=np.asarray(expected_fine, np.float64), minlength=k)
    a = np.bincount(gid, weights=np.asarray(actual_fine, np.float64), minlength=k)
    return psi(e, a)


def score_histogram(scores) -> np.ndarray:
    """Counts of synthetic scores in ``score_edges()`` bins (NaN = not scored, ignored)."""
    s = np.asarray(scores, dtype=np.float64)
    s = s[~np.isnan(s)]
    return np.histogram(np.clip(s, 0.0, 1.0), bins=score_edges())[0].astype(np.int64)


def score_psi(baseline_scores: dict | None, scores=None, counts=None) -> float:
    """``drift.score_psi``: PSI of the scan's synthetic scores against the profile's histogram.

    ``baseline_scores`` is ``profile.scores`` ({"edges", "counts"}); pass either raw ``scores`` or
    ``counts`` binned with ``score_edges()``. NaN when the profile has no score histogram.
    """
    if not baseline_scores or not baseline_scores.get("counts"):
        return float("nan")
    actual = score_histogram(scores) if counts is None else np.asarray(counts)
    return psi(np.asarray(baseline_scores["counts"]), actual)


class PartitionCounter:
    """Token counts of a scanned corpus on a baseline profile's partition.

    The partition is: each of the profile's K heavy tokens on its own, plus the rest of the
    vocabulary split into 2**bits hash buckets. Counting is exact on the scan side.
    """

    def __init__(self, heavy_keys: np.ndarray, residual_bits: int):
        self.heavy = np.asarray(heavy_keys, dtype=np.uint64)   # sorted
        self.bits = residual_bits
        self.heavy_counts = np.zeros(len(self.heavy), dtype=np.int64)
        self.residual = np.zeros(1 << residual_bits, dtype=np.int64)

    def update(self, keys: np.ndarray, counts: np.ndarray) -> None:
        """Add token counts: known heavy keys to their slot, the rest to a hashed residual bucket."""
        if len(keys) == 0:
            return
        pos = np.searchsorted(self.heavy, keys)
        hit = pos < len(self.heavy)
        hit[hit] = self.heavy[pos[hit]] == keys[hit]
        np.add.at(self.heavy_counts, pos[hit], counts[hit])
        miss = ~hit
        mask = np.uint64((1 << self.bits) - 1)
        self.residual += np.bincount((keys[miss] & mask).astype(np.intp), weights=counts[miss],
                                     minlength=len(self.residual)).astype(np.int64)

    def vector(self) -> np.ndarray:
        """Heavy-key counts followed by residual buckets, comparable with the baseline's vector."""
        return np.concatenate([self.heavy_counts, self.residual])


DEFAULT_MIN_COUNT = 10
DEFAULT_POOL_BITS = 8


def pooled_vector(heavy_keys: np.ndarray, heavy_counts: np.ndarray, residual: np.ndarray,
                  atoms: np.ndarray, bits: int = DEFAULT_POOL_BITS) -> np.ndarray:
    """Counts on the *pooled* partition: the heavy tokens selected by ``atoms`` on their own, every
    other token folded into ``2**bits`` hash buckets (its hash's low bits, so 2**16 residual buckets
    fold exactly). Pooling rare tokens keeps their sampling noise out of the divergence."""
    mask = (1 << bits) - 1
    pooled = np.bincount(np.arange(len(residual)) & mask, weights=residual, minlength=1 << bits)
    rest = ~atoms
    pooled += np.bincount((heavy_keys[rest] & np.uint64(mask)).astype(np.intp), weights=heavy_counts[rest],
                          minlength=1 << bits)
    return np.concatenate([heavy_counts[atoms].astype(np.float64), pooled])
