"""Known-answer tests of the share estimators on synthetic scores drawn from Beta distributions."""

import numpy as np
import pytest

from collapse_audit.detectors.quantify import (
    METHODS,
    ScoreReference,
    assess_share,
    mixture_posterior,
    rate_bounds,
)

VALIDATED = {"state": "validated", "reason": "test", "tests": {}, "calibration": None}
FOLDS = [{"fold": "a", "tpr": 0.85, "fpr": 0.05}, {"fold": "b", "tpr": 0.6, "fpr": 0.3}]


def _scores(rng, n, share):
    k = round(n * share)
    return np.concatenate([rng.beta(5, 2, k), rng.beta(2, 5, n - k)])


@pytest.fixture(scope="module")
def ref():
    rng = np.random.default_rng(7)
    s = np.concatenate([rng.beta(5, 2, 2400), rng.beta(2, 5, 600)])
    y = np.r_[np.ones(2400), np.zeros(600)].astype(bool)
    return ScoreReference.from_scores(s, y, 0.5, tokens=np.full(3000, 100.0), folds=FOLDS)


@pytest.mark.parametrize("method", METHODS)
def test_interval_covers_truth_in_distribution(ref, method):
    rng = np.random.default_rng(1)
    hits = 0
    for rep in range(20):
        truth = [0.05, 0.35, 0.6, 0.9][rep % 4]
        a = assess_share(_scores(rng, 2000, truth), reference=ref, applicability=VALIDATED,
                         method=method, seed=rep)
        assert a.validated
        assert abs(a.estimate - truth) < 0.06
        hits += a.ci_low <= truth <= a.ci_high
    assert hits >= 17  # nominal 95% of 20, with room for sampling


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("truth", [0.0, 1.0])
def test_clipped_estimate_keeps_a_nonzero_interval(ref, method, truth):
    a = assess_share(_scores(np.random.default_rng(2), 20000, truth), reference=ref,
                     applicability=VALIDATED, method=method)
    assert a.estimate == pytest.approx(truth, abs=0.01)
    assert a.ci_high - a.ci_low > 0.0
    assert a.ci_low <= truth <= a.ci_high
    if truth == 0.0:
        assert a.ci_low == 0.0 and 0.0 < a.ci_high < 0.05   # "0.0% (95% interval 0.0%-x%)"
    else:
        assert a.ci_high == 1.0 and 0.95 < a.ci_low < 1.0


def test_width_shrinks_with_corpus_size(ref):
    rng = np.random.default_rng(3)
    w = [assess_share(_scores(rng, n, 0.3), reference=ref, applicability=VALIDATED).ci_high
         - assess_share(_scores(rng, n, 0.3), reference=ref, applicability=VALIDATED).ci_low
         for n in (200, 20000)]
    assert w[1] < w[0] / 2


def test_unvalidated_interval_is_widened_to_fold_rate_bounds(ref):
    s = _scores(np.random.default_rng(4), 2000, 0.0)
    v = assess_share(s, reference=ref, applicability=VALIDATED)
    u = assess_share(s, reference=ref, applicability={"state": "unvalidated", "reason": "shifted",
                                                      "tests": {}, "calibration": None})
    assert not u.validated and v.validated
    assert u.ci_low <= v.ci_low and u.ci_high >= v.ci_high
    assert "unvalidated" in u.method and "calibrate" in u.note
    # no applicability block at all counts as unvalidated, never as validated
    assert not assess_share(s, reference=ref).validated


def test_rate_bounds_known_answer():
    lo, hi = rate_bounds(0.30, 0.40, FOLDS)
    assert lo == pytest.approx(0.0)                       # fold b: (0.30 - 0.3) / 0.3
    assert hi == pytest.approx((0.40 - 0.05) / 0.80)      # fold a
    assert rate_bounds(0.2, 0.3, [{"tpr": 0.5, "fpr": 0.48}]) == (0.0, 1.0)


def test_declared_records_count_in_full(ref):
    s = _scores(np.random.default_rng(5), 1000, 0.0)
    a = assess_share(s, reference=ref, applicability=VALIDATED, n_total=2000, n_declared_synthetic=1000)
    assert a.estimate == pytest.approx(0.5, abs=0.01)
    assert a.ci_low >= 0.5 - 1e-9
    all_decl = assess_share([], reference=ref, n_total=10, n_declared_synthetic=10)
    assert (all_decl.estimate, all_decl.ci_low, all_decl.ci_high) == (1.0, 1.0, 1.0)


def test_token_share_weights_by_tokens(ref):
    rng = np.random.default_rng(6)
    s = _scores(rng, 4000, 0.25)
    tokens = np.r_[np.full(1000, 300.0), np.full(3000, 100.0)]   # synthetic records 3x longer
    a = assess_share(s, reference=ref, applicability=VALIDATED, tokens=tokens)
    truth = 300_000 / (300_000 + 300_000)
    assert a.estimate == pytest.approx(0.25, abs=0.04)
    assert a.token_estimate == pytest.approx(truth, abs=0.06)
    assert a.token_ci_low <= truth <= a.token_ci_high


def test_no_reference_means_unknown_share():
    a = assess_share([0.1, 0.9], reference=None, applicability=VALIDATED)
    assert (a.ci_low, a.ci_high) == (0.0, 1.0) and not a.validated


def test_posterior_interval_contains_estimate_and_is_ordered():
    r = mixture_posterior([30, 70], [10, 90], [80, 20])
    assert 0.0 <= r["ci_low"] <= r["estimate"] <= r["ci_high"] <= 1.0
    assert r["estimate"] == pytest.approx((0.7 - 0.2) / (0.9 - 0.2), abs=0.02)


def test_metrics_names_follow_the_result_contract(ref):
    a = assess_share(_scores(np.random.default_rng(8), 500, 0.5), reference=ref, applicability=VALIDATED,
                     tokens=np.ones(500))
    m = a.as_metrics()
    assert m["synthetic.estimate_validated"] == 1.0
    assert m["synthetic.estimated_fraction_ci_low"] <= m["synthetic.estimated_fraction"] \
        <= m["synthetic.estimated_fraction_ci_high"]
    assert m["synthetic.estimated_token_fraction"] is not None


def test_l2r_test_split_corpus_with_known_35_percent_share(l2r_test, default_detector):
    """In-distribution: the shipped reference on the held-out test split - definite, truth inside."""
    from collapse_audit.detectors import applicability as A

    ref = A.load_reference("default")
    te = np.flatnonzero(l2r_test.split == "test")
    s = default_detector.score([l2r_test.texts[i] for i in te])
    y = l2r_test.y[te] == 1
    rng = np.random.default_rng(0)
    idx = np.r_[rng.choice(np.flatnonzero(y), 7000), rng.choice(np.flatnonzero(~y), 13000)]
    a = assess_share(s[idx], reference=ref.score, applicability=VALIDATED)
    assert abs(a.estimate - 0.35) < 0.03
    assert a.ci_low <= 0.35 <= a.ci_high and a.ci_high - a.ci_low < 0.1
