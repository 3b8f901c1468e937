"""Calibration files: measured, written, read back; refused for another detector; the CLI end to end."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from collapse_audit.detectors import calibration as C
from collapse_audit.detectors.quantify import ScoreReference, assess_share
from collapse_audit.errors import AuditError


class FakeDetector:
    name, version, threshold = "fake", "fake-1", 0.5
    weights_sha256 = "ab" * 32


def _cal(rng, kind="labelled"):
    s = np.concatenate([rng.beta(6, 2, 200), rng.beta(2, 6, 300)])
    y = np.r_[np.ones(200), np.zeros(300)].astype(bool)
    if kind == "human_reference":
        s, y = s[~y], y[~y]
    return C.measure(FakeDetector(), s, y, edges=[0.25, 0.5, 0.75], source="mine.jsonl", kind=kind)


def test_round_trip(tmp_path):
    cal = _cal(np.random.default_rng(0))
    p = tmp_path / "cal.yaml"
    C.save(cal, str(p))
    back = C.load(str(p), FakeDetector())
    assert back.neg == cal.neg and back.pos == cal.pos and back.edges == cal.edges
    assert back.rates() == pytest.approx(cal.rates())
    assert back.source == "cal.yaml"
    assert 0.85 < cal.rates()["tpr"] <= 1 and 0 <= cal.rates()["fpr"] < 0.1


def test_mismatch_is_an_error_naming_the_file(tmp_path):
    p = tmp_path / "cal.yaml"
    C.save(_cal(np.random.default_rng(0)), str(p))
    other = FakeDetector()
    other.version = "fake-2"
    with pytest.raises(AuditError, match="cal.yaml.*fake-1"):
        C.load(str(p), other)
    other = FakeDetector()
    other.weights_sha256 = "cd" * 32
    with pytest.raises(AuditError, match="cal.yaml"):
        C.load(str(p), other)


@pytest.mark.parametrize("content", ["not: [valid", "format: other\n", "format: collapse-audit-calibration/1\n"])
def test_bad_files_are_user_errors(tmp_path, content):
    p = tmp_path / "bad.yaml"
    p.write_text(content)
    with pytest.raises(AuditError, match="bad.yaml"):
        C.load(str(p), FakeDetector())


def test_too_few_records_refused():
    with pytest.raises(AuditError, match="at least"):
        C.measure(FakeDetector(), [0.1] * 5, [False] * 5, edges=[0.5], source="x.jsonl")


def test_a_human_reference_bounds_false_positives_and_vouches_for_nothing():
    rng = np.random.default_rng(1)
    shipped = ScoreReference.from_scores(np.r_[rng.beta(6, 2, 500), rng.beta(2, 6, 500)],
                                         np.r_[np.ones(500), np.zeros(500)].astype(bool), 0.5)
    shipped.edges = np.array([0.25, 0.5, 0.75])
    shipped.pos = np.array([5.0, 40, 200, 255])
    hr = _cal(rng, "human_reference")
    corpus = rng.beta(2, 6, 1000)                          # human-only, like the user's reference
    a = assess_share(corpus, reference=shipped, calibration=hr,
                     applicability={"state": "unvalidated", "reason": "shifted", "tests": {}})
    # a human-only sample measures false positives, never what the detector misses: fp-bounded, unvalidated
    assert a.applicability["state"] == "fp-bounded" and not a.validated
    assert a.applicability["calibration"]["source"] == "mine.jsonl"
    assert "cannot show what the detector misses" in a.applicability["reason"]
    assert a.estimate < 0.03 and a.ci_low == 0.0 and a.ci_high > a.estimate


def test_cli_calibrate_writes_a_file_the_default_detector_accepts(tmp_path):
    from collapse_audit.cli.detector import app
    from collapse_audit.detectors import load_detector

    rows = [{"text": f"I wrote note {i} by hand on the train, quite badly, sorry.", "label": "human"}
            for i in range(25)]
    rows += [{"text": f"Furthermore, it is essential to recognize item {i}'s pivotal role.", "label": "synthetic"}
             for i in range(25)]
    f = tmp_path / "lab.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "cal.yaml"
    r = CliRunner().invoke(app, ["calibrate", str(f), "-o", str(out)])
    assert r.exit_code == 0, r.output
    cal = C.load(str(out), load_detector("default"))
    assert cal.n_pos == 25 and cal.n_neg == 25 and cal.kind == "labelled"
    r = CliRunner().invoke(app, ["calibrate", str(f), "-o", str(out), "--label-field", "nope"])
    assert r.exit_code == 2 and "nope" in r.output


def test_cli_human_only_reference_and_output_guard(tmp_path):
    from collapse_audit.cli.detector import app

    f = tmp_path / "trusted.jsonl"
    f.write_text("".join(json.dumps({"text": f"Minutes of meeting {i}: the board approved the budget."}) + "\n"
                         for i in range(30)))
    out = tmp_path / "hr.yaml"
    r = CliRunner().invoke(app, ["calibrate", str(f), "-o", str(out), "--human-only"])
    assert r.exit_code == 0, r.output
    from collapse_audit.detectors import load_detector
    cal = C.load(str(out), load_detector("default"))
    assert cal.kind == "human_reference" and cal.pos is None and cal.n_neg == 30
    r = CliRunner().invoke(app, ["calibrate", str(f), "-o", str(f), "--human-only"])
    assert r.exit_code == 2 and "is the input" in r.output


def test_policy_rates_become_a_two_bin_calibration():
    cal = C.from_rates(FakeDetector(), tpr=0.8, fpr=0.1, n_pos=500, n_neg=500)
    assert cal.rates() == pytest.approx({"tpr": 0.8, "fpr": 0.1, "n_pos": 500, "n_neg": 500})
    flagged = np.r_[np.ones(int(1000 * (0.3 * 0.8 + 0.7 * 0.1))), np.zeros(1000 - int(1000 * 0.31))]
    a = assess_share(np.where(flagged == 1, 0.9, 0.1), reference=None, calibration=cal)
    assert a.applicability["state"] == "calibrated" and a.ci_low <= 0.3 <= a.ci_high


def test_a_labelled_calibration_makes_the_estimate_calibrated():
    rng = np.random.default_rng(2)
    shipped = ScoreReference.from_scores(np.r_[rng.beta(6, 2, 500), rng.beta(2, 6, 500)],
                                         np.r_[np.ones(500), np.zeros(500)].astype(bool), 0.5)
    corpus = np.r_[rng.beta(6, 2, 200), rng.beta(2, 6, 800)]     # 20% synthetic
    a = assess_share(corpus, reference=shipped, calibration=_cal(rng),
                     applicability={"state": "unvalidated", "reason": "one witness only", "tests": {}})
    assert a.applicability["state"] == "calibrated" and a.validated
    assert a.ci_low <= 0.2 <= a.ci_high
