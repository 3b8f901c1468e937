import numpy as np
import pytest

from collapse_audit.detectors import evaluate as E


def test_auroc_matches_sklearn():
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 500)
    s = np.round(rng.normal(y * 0.7, 1), 1)  # ties
    assert E.auroc(y, s) == pytest.approx(sk.roc_auc_score(y, s))
    assert E.auroc([1, 1], [0.1, 0.2]) is None


def test_tpr_at_fpr_and_rates():
    y = np.array([0] * 100 + [1] * 100)
    s = np.concatenate([np.linspace(0, 0.5, 100), np.linspace(0.4, 1, 100)])
    assert E.tpr_at_fpr(y, s, 0.01) > 0.8
    tpr, fpr = E.rates_at(y, s, 0.45)
    assert 0 < fpr < 0.2 and tpr > 0.9


def test_grouped_and_calibration():
    y = np.array([0, 1, 0, 1])
    s = np.array([0.1, 0.9, 0.2, 0.8])
    r = E.grouped(y, s, ["a", "a", "b", "b"], 0.5)
    assert r["overall"]["auroc"] == 1.0 and set(r["groups"]) == {"a", "b"}
    assert E.calibration_error(y, s) == pytest.approx(0.15)
