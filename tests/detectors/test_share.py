import numpy as np
import pytest

from collapse_audit.detectors.share import estimate_share

BASE = dict(tpr=0.85, fpr=0.07, n_val_pos=2400, n_val_neg=650)


def test_corrects_raw_share_and_interval_contains_estimate():
    # true share p=0.35 among 10k undeclared -> expected flagged share 0.35*0.85+0.65*0.07
    f = 0.35 * 0.85 + 0.65 * 0.07
    e = estimate_share(n_total=10000, n_declared_synthetic=0, n_scored=10000,
                       n_flagged=round(f * 10000), **BASE)
    assert abs(e["estimate"] - 0.35) < 0.005
    assert e["ci_low"] <= e["estimate"] <= e["ci_high"]
    assert e["ci_low"] < 0.35 < e["ci_high"]
    assert "classify-and-count" in e["method"]


def test_declared_records_count_as_synthetic():
    e = estimate_share(n_total=1000, n_declared_synthetic=500, n_scored=500, n_flagged=round(500 * 0.07),
                       **BASE)
    # no synthetic among undeclared -> share = 0.5 (declared)
    assert abs(e["estimate"] - 0.5) < 0.01
    assert e["ci_low"] >= 0.5 - 1e-9


def test_clipped_and_deterministic():
    e1 = estimate_share(n_total=100, n_declared_synthetic=0, n_scored=100, n_flagged=0, **BASE, seed=3)
    e2 = estimate_share(n_total=100, n_declared_synthetic=0, n_scored=100, n_flagged=0, **BASE, seed=3)
    assert e1 == e2
    assert e1["estimate"] == 0.0 and e1["ci_low"] == 0.0
    e = estimate_share(n_total=100, n_declared_synthetic=0, n_scored=100, n_flagged=100, **BASE)
    assert e["estimate"] == 1.0 and e["ci_high"] == 1.0


def test_interval_widens_with_fewer_validation_records():
    kw = dict(n_total=10000, n_declared_synthetic=0, n_scored=2000, n_flagged=700, tpr=0.85, fpr=0.07)
    wide = estimate_share(**kw, n_val_pos=40, n_val_neg=20)
    narrow = estimate_share(**kw, n_val_pos=4000, n_val_neg=2000)
    assert (wide["ci_high"] - wide["ci_low"]) > (narrow["ci_high"] - narrow["ci_low"])


@pytest.mark.parametrize("kw", [
    dict(tpr=0.3, fpr=0.3, n_val_pos=100, n_val_neg=100),      # uninformative
    dict(tpr=0.2, fpr=0.6, n_val_pos=100, n_val_neg=100),      # worse than chance
    dict(tpr=1.0, fpr=0.0, n_val_pos=0, n_val_neg=0),          # not validated
    dict(tpr=float("nan"), fpr=None, n_val_pos=10, n_val_neg=10),
])
def test_degenerate_rates_do_not_crash(kw):
    e = estimate_share(n_total=1000, n_declared_synthetic=100, n_scored=300, n_flagged=120, **kw)
    assert 0.0 <= e["ci_low"] <= e["estimate"] <= e["ci_high"] <= 1.0
    assert e["note"]


def test_nothing_scored_or_empty():
    e = estimate_share(n_total=1000, n_declared_synthetic=100, n_scored=0, n_flagged=0, **BASE)
    assert e["ci_low"] == pytest.approx(0.1) and e["ci_high"] == pytest.approx(1.0)
    assert "no undeclared" in e["note"]
    e = estimate_share(n_total=0, n_declared_synthetic=0, n_scored=0, n_flagged=0, **BASE)
    assert e["estimate"] == 0.0
    e = estimate_share(n_total=10, n_declared_synthetic=10, n_scored=0, n_flagged=0, **BASE)
    assert e["estimate"] == 1.0 and e["ci_low"] == 1.0


def test_sampled_scoring():
    e = estimate_share(n_total=1_000_000, n_declared_synthetic=0, n_scored=20000,
                       n_flagged=round(20000 * (0.2 * 0.85 + 0.8 * 0.07)), **BASE)
    assert abs(e["estimate"] - 0.2) < 0.01
    assert "sample" in e["note"]


def test_l2r_corpus_with_known_35_percent_share(l2r, default_detector):
    """20k corpus (35% synthetic) resampled from the L2R test split, never used for training
    or for choosing the threshold: the corrected estimate is within 0.05 and the truth is inside
    the interval; with and without declared records."""
    det = default_detector
    v = det.validation
    idx = np.flatnonzero(l2r.split == "test")
    s = det.score([l2r.texts[i] for i in idx])
    flag = s >= det.threshold
    y = l2r.y[idx] == 1
    rng = np.random.default_rng(0)
    hum = rng.choice(np.flatnonzero(~y), 13000, replace=True)
    syn = rng.choice(np.flatnonzero(y), 7000, replace=True)
    for declared in (0, 2000):
        und = np.concatenate([flag[hum], flag[syn[declared:]]])
        e = estimate_share(n_total=20000, n_declared_synthetic=declared, n_scored=len(und),
                           n_flagged=int(und.sum()), tpr=v["tpr"], fpr=v["fpr"],
                           n_val_pos=v["n_pos"], n_val_neg=v["n_neg"])
        assert abs(e["estimate"] - 0.35) <= 0.05, e
        assert e["ci_low"] <= 0.35 <= e["ci_high"], e


def test_cap_message_says_when_interval_straddles():
    from collapse_audit.detectors.share import cap_message
    assert "straddles" in cap_message({"estimate": 0.31, "ci_low": 0.25, "ci_high": 0.36}, 0.30)
    assert "exceeds" in cap_message({"estimate": 0.5, "ci_low": 0.45, "ci_high": 0.55}, 0.30)
    assert "below" in cap_message({"estimate": 0.1, "ci_low": 0.05, "ci_high": 0.15}, 0.30)
