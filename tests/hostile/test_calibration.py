"""Calibrations that cannot vouch for an estimate: inverted labels, non-finite or negative counts,
records in another language than the corpus. Each is refused (or not used) with a sentence naming
the file; a sound calibration on the corpus's language still calibrates (valid-but-odd cases)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from helpers import run_cli

from collapse_audit.detectors import calibration as C
from collapse_audit.detectors.quantify import ScoreReference, assess_share
from collapse_audit.errors import AuditError


class FakeDetector:
    name, version, threshold = "fake", "fake-1", 0.5
    weights_sha256 = "ab" * 32


def _scores(rng, inverted=False):
    s = np.concatenate([rng.beta(6, 2, 200), rng.beta(2, 6, 300)])
    y = np.r_[np.ones(200), np.zeros(300)].astype(bool)
    return s, (~y if inverted else y)


def test_inverted_labels_are_refused_when_measured():
    s, y = _scores(np.random.default_rng(0), inverted=True)
    with pytest.raises(AuditError, match=r"labelled.jsonl: the detector flags .*% of the synthetic .* inverted"):
        C.measure(FakeDetector(), s, y, edges=[0.25, 0.5, 0.75], source="labelled.jsonl")


@pytest.mark.parametrize("tpr, fpr", [(0.0, 1.0), (0.3, 0.3), (0.1, 0.4)])
def test_policy_rates_that_do_not_separate_are_refused(tpr, fpr):
    with pytest.raises(AuditError, match="does not exceed its false-positive rate"):
        C.from_rates(FakeDetector(), tpr=tpr, fpr=fpr, n_pos=100, n_neg=100)


def test_a_weak_but_real_separation_is_accepted():
    """Valid but odd: TPR barely above FPR is a (wide-interval) calibration, not a refusal."""
    cal = C.from_rates(FakeDetector(), tpr=0.35, fpr=0.30, n_pos=400, n_neg=400)
    assert cal.rates()["tpr"] > cal.rates()["fpr"]


def _write(tmp_path, **change):
    cal = C.measure(FakeDetector(), *_scores(np.random.default_rng(1)), edges=[0.25, 0.5, 0.75], source="x")
    d = {**cal.to_dict(), **change}
    p = tmp_path / "cal.yaml"
    p.write_text(yaml.safe_dump(d))
    return p


def test_an_inverted_calibration_file_is_refused(tmp_path):
    good = C.measure(FakeDetector(), *_scores(np.random.default_rng(1)), edges=[0.25, 0.5, 0.75], source="x")
    p = _write(tmp_path, human_counts=good.pos, synthetic_counts=good.neg)     # the classes swapped
    with pytest.raises(AuditError, match=r"cal.yaml: the detector flags"):
        C.load(str(p), FakeDetector())


@pytest.mark.parametrize("bad", [float("nan"), -5.0, float("inf")])
def test_non_finite_or_negative_counts_are_refused(tmp_path, bad):
    good = C.measure(FakeDetector(), *_scores(np.random.default_rng(1)), edges=[0.25, 0.5, 0.75], source="x")
    p = _write(tmp_path, human_counts=[bad, *good.neg[1:]])
    with pytest.raises(AuditError, match=r"cal.yaml.*finite"):
        C.load(str(p), FakeDetector())


ENGLISH = ("The committee met on Tuesday and agreed that the budget for the new library would be "
           "reviewed again in the spring, because the costs of the building had risen over the year.")
CHINESE = ("委员会周二开会，同意在春季再次审查新图书馆的预算，因为建筑成本在这一年中有所上升。"
           "大家认为这是一个重要的决定，需要更多的时间来讨论具体的细节和可能的替代方案。")


def test_language_profile():
    assert C.language_profile([ENGLISH] * 3)["english_share"] == 1.0
    assert C.language_profile([CHINESE] * 3)["english_share"] == 0.0
    assert C.language_profile([ENGLISH, CHINESE]) == {"records": 2, "english_share": 0.5}


def _reference(rng, texts):
    s = rng.beta(2, 6, 300)
    cal = C.measure(FakeDetector(), s, np.zeros(300, bool), edges=[0.25, 0.5, 0.75], source="trusted.jsonl",
                    kind="human_reference")
    cal.extra["language"] = C.language_profile(texts)
    return cal


def _shipped(rng):
    return ScoreReference(edges=np.array([0.25, 0.5, 0.75]), pos=np.array([5.0, 40, 200, 255]),
                          neg=np.array([255.0, 200, 40, 5]), threshold=0.5, folds=[], source="shipped")


ENGLISH_CORPUS = {"state": "unvalidated", "reason": "shifted",
                  "tests": {"language": {"non_english_share": 0.01, "code_share": 0.0, "max_share": 0.1,
                                         "passed": True}}}


def test_a_chinese_human_reference_does_not_calibrate_an_english_corpus():
    rng = np.random.default_rng(2)
    hr = _reference(rng, [CHINESE] * 300)
    a = assess_share(rng.beta(2, 6, 1000), reference=_shipped(rng), calibration=hr, applicability=ENGLISH_CORPUS)
    assert a.applicability["state"] == "unvalidated" and not a.validated
    assert "calibration not used" in a.applicability["reason"] and "trusted.jsonl" in a.applicability["reason"]
    assert a.applicability["calibration"] is None


def test_an_english_human_reference_is_used_on_an_english_corpus():
    rng = np.random.default_rng(2)
    hr = _reference(rng, [ENGLISH] * 300)
    a = assess_share(rng.beta(2, 6, 1000), reference=_shipped(rng), calibration=hr, applicability=ENGLISH_CORPUS)
    # used (not refused on language), and a human-only reference bounds false positives only
    assert a.applicability["state"] == "fp-bounded" and a.applicability["calibration"]["source"]


def test_a_calibration_without_a_language_signature_is_used_as_before():
    """Older calibration files carry no signature: nothing to compare, nothing refused."""
    rng = np.random.default_rng(2)
    hr = _reference(rng, [])
    hr.extra.clear()
    a = assess_share(rng.beta(2, 6, 1000), reference=_shipped(rng), calibration=hr, applicability=ENGLISH_CORPUS)
    assert a.applicability["state"] == "fp-bounded" and "calibration not used" not in a.applicability["reason"]


def test_detector_calibrate_refuses_inverted_labels_on_the_command_line(tmp_path):
    rows = [{"text": f"I wrote note {i} by hand on the train, quite badly, sorry.", "label": "synthetic"}
            for i in range(25)]
    rows += [{"text": f"Furthermore, it is essential to recognize item {i}'s pivotal role.", "label": "human"}
             for i in range(25)]
    f = tmp_path / "lab.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "cal.yaml"
    proc = run_cli("detector", "calibrate", f, "-o", out)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "lab.jsonl" in lines[0] and "0.00% of the synthetic" in lines[0], proc.stderr
    assert "100.00% of the human" in lines[0] and "inverted" in lines[0]
    assert not out.exists()
