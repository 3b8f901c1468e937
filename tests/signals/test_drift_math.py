"""Divergence and PSI formulas against hand-computed values."""

from __future__ import annotations

import math

import numpy as np

from collapse_audit.signals.drift import (
    grouped_psi,
    js_divergence,
    kl_divergence,
    psi,
    quantile_groups,
    score_edges,
    score_histogram,
    score_psi,
)


def test_js_known_values():
    assert js_divergence([1, 1], [1, 1]) == 0.0
    assert math.isclose(js_divergence([1, 0], [0, 1]), 1.0)
    # P = (1/2, 1/2), Q = (1, 0): JS = 1 - 0.75 * log2(4/3) ... computed directly
    p, q = np.array([0.5, 0.5]), np.array([1.0, 0.0])
    m = (p + q) / 2
    want = 0.5 * (0.5 * math.log2(0.5 / 0.75) + 0.5 * math.log2(0.5 / 0.25)) + 0.5 * (1.0 * math.log2(1 / 0.75))
    assert math.isclose(js_divergence([5, 5], [10, 0]), want, rel_tol=1e-12)
    assert m.sum() == 1


def test_kl_is_skewed_and_finite():
    assert kl_divergence([1, 1], [1, 1]) == 0.0
    v = kl_divergence([0, 1], [1, 0])
    assert math.isfinite(v) and math.isclose(v, math.log2(1 / 0.01))
    p, q = np.array([0.7, 0.3]), np.array([0.4, 0.6])
    qs = 0.99 * q + 0.01 * p
    assert math.isclose(kl_divergence(p * 10, q * 10), float((p * np.log2(p / qs)).sum()))


def test_psi_known_value_and_symmetry_in_form():
    e, a = np.array([0.5, 0.5]), np.array([0.25, 0.75])
    want = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)
    assert math.isclose(psi(e * 100, a * 40), want)
    assert psi([1, 2, 3], [1, 2, 3]) == 0.0


def test_quantile_groups_balance_mass():
    e = np.ones(100)
    gid = quantile_groups(e, 10)
    assert gid.max() == 9
    assert np.all(np.bincount(gid) == 10)
    # a single heavy bin cannot be split; groups stay contiguous and labelled 0..k-1
    e2 = np.array([0, 0, 50, 1, 1, 1, 47, 0])
    g2 = quantile_groups(e2, 10)
    assert np.all(np.diff(g2) >= 0) and g2[0] == 0
    assert grouped_psi(e2, e2) == 0.0


def test_score_histogram_and_psi():
    s = np.array([0.0, 0.04, 0.5, 0.99, 1.0, np.nan])
    h = score_histogram(s)
    assert h.sum() == 5 and len(h) == len(score_edges()) - 1 and h[0] == 2 and h[-1] == 2
    base = {"edges": list(score_edges()), "counts": [int(x) for x in h]}
    assert score_psi(base, scores=s) == 0.0
    assert score_psi(base, scores=np.full(10, 0.97)) > 1.0
    assert math.isnan(score_psi(None, scores=s))
