"""CA101 end to end through `collapse-audit scan`: the verdict rests on the applicability state.

Corpora are untagged records from the L2R *test* split (never used to fit or threshold the
detector), shipped with the tests (``tests/fixtures/l2r-test``) so they run in any clone. A
human-only corpus of formal human text must pass or be inconclusive, never fail; a fully synthetic
one must never pass; no interval is zero-width; the result carries the
applicability block; a calibration (file or human reference) makes the state ``calibrated``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from tests.helpers import run_cli, write_jsonl

FORMAL = ("LegalDocument", "AcademicResearch", "GovernmentPublic", "MedicalText", "Finance")


def _records(l2r, human: bool, n: int, domains=None, seed: int = 0):
    te = (l2r.split == "test") & ((l2r.y == 0) if human else (l2r.y == 1))
    if domains is not None:
        te &= np.isin(l2r.domain, list(domains))
    idx = np.random.default_rng(seed).permutation(np.flatnonzero(te))[:n]
    return [{"id": f"r{i}", "text": l2r.texts[i]} for i in idx]


def _scan(tmp_path, records, *extra):
    corpus = write_jsonl(tmp_path / "corpus.jsonl", records)
    out = tmp_path / "result.json"
    p = run_cli("scan", corpus, "-f", "json", "-q", "-o", out, "--select", "CA101", *extra, cwd=tmp_path)
    assert p.returncode in (0, 1), p.stderr
    r = json.loads(out.read_text())
    ca101 = next(x for x in r["rules"] if x["id"] == "CA101")
    return r, ca101


def _interval(r):
    m = r["metrics"]
    return m["synthetic.estimated_fraction_ci_low"], m["synthetic.estimated_fraction_ci_high"]


def test_formal_human_text_never_fails_and_block_is_complete(l2r_test, tmp_path):
    recs = _records(l2r_test, human=True, n=200, domains=FORMAL)
    assert len(recs) >= 100
    r, ca101 = _scan(tmp_path, recs)
    assert ca101["status"] in ("pass", "inconclusive"), ca101["message"]
    lo, hi = _interval(r)
    assert hi - lo > 0 and lo <= 0.0 + 1e-9 < hi, (lo, hi)   # human-only: 0 inside a non-empty interval
    app = r["detector"]["applicability"]
    assert app["state"] in ("validated", "unvalidated") and app["reason"] and "calibration" in app
    assert {"score_fit", "feature_shift", "language"} <= set(app["tests"])
    assert r["metrics"]["synthetic.estimate_validated"] == (1.0 if app["state"] == "validated" else 0.0)
    tl, th = (r["metrics"]["synthetic.estimated_token_fraction_ci_low"],
              r["metrics"]["synthetic.estimated_token_fraction_ci_high"])
    assert th - tl > 0


def test_fully_synthetic_corpus_never_passes(l2r_test, tmp_path):
    r, ca101 = _scan(tmp_path, _records(l2r_test, human=False, n=300))
    assert ca101["status"] != "pass", ca101["message"]
    lo, hi = _interval(r)
    assert hi - lo > 0 and hi >= 1.0 - 1e-9


def test_calibration_file_round_trip_through_scan(l2r_test, tmp_path):
    labelled = ([{**x, "label": "human"} for x in _records(l2r_test, True, 60, seed=1)]
                + [{**x, "id": "s" + x["id"], "label": "synthetic"} for x in _records(l2r_test, False, 60, seed=1)])
    src = write_jsonl(tmp_path / "labelled.jsonl", labelled)
    cal = tmp_path / "calibration.yaml"
    p = run_cli("detector", "calibrate", src, "-o", cal, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    r, _ = _scan(tmp_path, _records(l2r_test, True, 100, seed=2), "--calibration", cal)
    app = r["detector"]["applicability"]
    assert app["state"] == "calibrated"
    assert app["calibration"]["source"] == "calibration.yaml"
    assert r["metrics"]["synthetic.estimate_validated"] == 1.0
    # the same file claimed for other weights: exit 2 naming the file, nothing scanned
    doc = yaml.safe_load(cal.read_text())
    doc["detector"]["weights_sha256"] = "0" * 64
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump(doc))
    write_jsonl(tmp_path / "c2.jsonl", _records(l2r_test, True, 40, seed=3))
    p = run_cli("scan", tmp_path / "c2.jsonl", "--calibration", other, "-q", cwd=tmp_path)
    assert p.returncode == 2 and "other.yaml" in p.stderr and "Traceback" not in p.stderr


def test_human_reference_marks_state_calibrated(l2r_test, tmp_path):
    ref = write_jsonl(tmp_path / "trusted.jsonl", _records(l2r_test, True, 80, domains=FORMAL, seed=4))
    r, ca101 = _scan(tmp_path, _records(l2r_test, True, 120, seed=5), "--human-reference", ref)
    app = r["detector"]["applicability"]
    assert app["state"] == "calibrated" and app["calibration"]["source"] == "trusted.jsonl"
    assert app["calibration"]["kind"] == "human_reference"
    assert ca101["status"] in ("pass", "inconclusive")


def test_calibration_and_human_reference_together_is_a_usage_error(tmp_path):
    write_jsonl(tmp_path / "c.jsonl", [{"text": "a few words here"}])
    (tmp_path / "cal.yaml").write_text("format: x\n")
    p = run_cli("scan", tmp_path / "c.jsonl", "--calibration", tmp_path / "cal.yaml",
                "--human-reference", tmp_path / "c.jsonl", "-q", cwd=tmp_path)
    assert p.returncode == 2 and "use one" in p.stderr


@pytest.mark.parametrize("n", [5, 60])
def test_small_corpora_have_non_zero_width_intervals(tmp_path, n):
    recs = [{"text": f"Record {i} says the weather was mild and the market opened late today."} for i in range(n)]
    r, ca101 = _scan(tmp_path, recs)
    lo, hi = _interval(r)
    assert hi > lo
    assert ca101["status"] != "pass" or r["detector"]["applicability"]["state"] == "validated"


@pytest.mark.parametrize("human,status", [(True, "pass"), (False, "fail")])
def test_a_validated_verdict_each_way_on_real_text(l2r_test, tmp_path, human, status):
    """Above the 300-record minimum, in the validated domain: human text passes, rewrites fail."""
    recs = _records(l2r_test, human=human, n=600, seed=6)
    assert len(recs) >= 600
    r, ca101 = _scan(tmp_path, recs)
    assert r["detector"]["applicability"]["state"] == "validated", r["detector"]["applicability"]["reason"]
    assert ca101["status"] == status, ca101["message"]
    lo, hi = _interval(r)
    assert (hi < 0.3) if human else (lo > 0.3)
