"""The two-witness share: known-answer mixtures of synthetic families with planted truth.

The families are built so that each witness alone is blind to one of them, as the real ones are:
the trained axis cannot tell base-model text from human, the language-model axis places chat text
between human and base. Only the joint fit can recover the share.
"""

from __future__ import annotations

import numpy as np
import pytest

from collapse_audit.detectors import joint as J
from collapse_audit.detectors import witnesses as W


def draw(rng: np.random.Generator, family: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    if family == "human":
        return rng.beta(2, 6, n), rng.normal(-1.0, 1.0, n)
    if family == "chat":
        return rng.beta(6, 2, n), rng.normal(0.3, 1.0, n)
    if family == "base":
        return rng.beta(2, 6, n), rng.normal(2.5, 1.0, n)
    return rng.beta(6, 2, n), rng.normal(-3.5, 0.3, n)   # "alien": seen by neither reference family


@pytest.fixture(scope="module")
def model() -> W.JointModel:
    rng = np.random.default_rng(1)
    t, lm, fam, gen = [], [], [], []
    for f in J.FAMILIES:
        for g in ("g1", "g2", "g3"):
            a, b = draw(rng, f, 200)
            t.append(a)
            lm.append(b)
            fam += [f] * 200
            gen += [g] * 200
    return W.build_joint_model(np.concatenate(t), np.concatenate(lm), np.array(fam), np.array(gen), "curvature")


def corpus(mix: dict[str, float], n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    parts = [draw(rng, f, int(round(p * n))) for f, p in mix.items() if p]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


@pytest.mark.parametrize("mix,truth", [
    ({"human": 1.0}, 0.0),
    ({"human": 0.5, "base": 0.5}, 0.5),       # the trained witness alone would call this human
    ({"human": 0.65, "chat": 0.35}, 0.35),
    ({"human": 0.5, "chat": 0.25, "base": 0.25}, 0.5),
    ({"chat": 0.5, "base": 0.5}, 1.0),
])
def test_joint_estimate_recovers_the_planted_share(model, mix, truth):
    t, lm = corpus(mix, 600, seed=3)
    est = W.witness_estimates(model, t, lm, seed=0)
    j = est["joint"]
    assert j["ci_low"] <= truth <= j["ci_high"], (j["ci_low"], j["ci_high"])
    assert abs(j["estimate"] - truth) < 0.08
    assert j["ci_high"] - j["ci_low"] > 0             # never zero-width
    assert j["ci_high"] - j["ci_low"] < 0.2           # and informative at 600 records
    assert est["fit"]["p_value"] >= W.FIT_P_MIN
    assert est["agree"]


def test_a_witness_alone_is_honest_about_what_it_cannot_separate(model):
    t, lm = corpus({"human": 0.5, "base": 0.5}, 600, seed=4)
    own = W.witness_estimates(model, t, lm, seed=0)["own"]
    # the trained axis cannot tell base-model text from human: its own interval spans the whole stretch
    assert own["trained"]["ci_low"] <= 0.05 and own["trained"]["ci_high"] >= 0.5
    assert own["lm"]["ci_low"] <= 0.5 <= own["lm"]["ci_high"]


def test_text_no_validated_family_explains_fails_the_fit_test(model):
    t, lm = corpus({"human": 0.6, "alien": 0.4}, 600, seed=5)
    est = W.witness_estimates(model, t, lm, seed=0)
    state, reason, _ = W.joint_state(est, True, "")
    assert est["fit"]["p_value"] < W.FIT_P_MIN
    assert state == "unvalidated" and "fit no mixture" in reason


def test_too_few_records_or_foreign_text_never_validate(model):
    t, lm = corpus({"human": 1.0}, 120, seed=6)
    est = W.witness_estimates(model, t, lm, seed=0)
    state, reason, _ = W.joint_state(est, True, "")
    assert state == "unvalidated" and f"needs {W.MIN_RECORDS}" in reason
    t, lm = corpus({"human": 1.0}, 600, seed=6)
    state, reason, _ = W.joint_state(W.witness_estimates(model, t, lm, seed=0), False, "12% of its records are code")
    assert state == "unvalidated" and "code" in reason


def test_unvalidated_interval_covers_every_witness_and_cannot_pass(model):
    t, lm = corpus({"human": 0.6, "alien": 0.4}, 600, seed=7)
    appl = {"state": "validated", "tests": {"language": {"passed": True}}}
    res = W.assess_two(model, t, lm, np.ones(len(t), bool), appl, 0, np.full(len(t), 50.0), 0.0, seed=0)
    assert not res.validated and res.applicability["state"] == "unvalidated"
    own = res.details["witnesses"]
    assert res.ci_low <= min(w["ci_low"] for w in own) and res.ci_high >= max(w["ci_high"] for w in own)


def test_declared_records_count_in_full_and_the_result_is_seed_deterministic(model):
    t, lm = corpus({"human": 1.0}, 500, seed=8)
    t = np.concatenate([t, np.full(100, np.nan)])
    lm = np.concatenate([lm, np.full(100, np.nan)])
    use = np.isfinite(t)
    appl = {"state": "validated", "tests": {"language": {"passed": True}}}
    args = (model, t, lm, use, appl, 100, np.full(len(t), 50.0), 5000.0)
    a, b = W.assess_two(*args, seed=3), W.assess_two(*args, seed=3)
    assert (a.estimate, a.ci_low, a.ci_high) == (b.estimate, b.ci_low, b.ci_high)
    assert a.ci_low >= 100 / 600 - 1e-9 and a.estimate == pytest.approx(100 / 600, abs=0.03)
    assert a.validated


def test_the_model_round_trips_through_its_file(model, tmp_path):
    path = tmp_path / "joint.npz"
    W.save_joint_model(path, model)
    back = W.load_joint_model(path)
    assert back.lm_feature == "curvature" and back.binning.shape == model.binning.shape
    for f in J.FAMILIES:
        assert np.array_equal(back.ref.counts[f], model.ref.counts[f])
    W.save_joint_model(tmp_path / "again.npz", back)
    assert (tmp_path / "again.npz").read_bytes() == path.read_bytes()


def test_leaving_a_generator_out_drops_only_its_counts(model):
    less = model.ref.without("base", "g2")
    assert less.generators["base"] == ["g1", "g3"] and less.counts["base"].shape[0] == 2
    assert less.counts["chat"] is model.ref.counts["chat"]
