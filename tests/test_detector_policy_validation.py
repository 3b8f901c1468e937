"""A user's measured tpr/fpr in the policy replace the detector's validation figures."""

from __future__ import annotations

import json

import pytest
from helpers import run_cli, words, write_jsonl

from collapse_audit.detectors.registry import load_detector
from collapse_audit.errors import AuditError


def test_policy_rates_override_validation():
    d = load_detector("default", {"tpr": 0.9, "fpr": 0.1, "n_pos": 500, "n_neg": 400})
    assert (d.validation["tpr"], d.validation["fpr"], d.validation["n_pos"], d.validation["n_neg"]) == \
        (0.9, 0.1, 500, 400)
    assert d.validation["split"] == "user-measured"


@pytest.mark.parametrize("opts", [{"tpr": 0.9}, {"tpr": 2, "fpr": 0.1, "n_pos": 1, "n_neg": 1},
                                  {"tpr": "x", "fpr": 0.1, "n_pos": 1, "n_neg": 1}])
def test_incomplete_or_invalid_rates_are_errors(opts):
    with pytest.raises(AuditError):
        load_detector("default", opts)


def test_scan_reports_the_policy_rates(tmp_path):
    path = write_jsonl(tmp_path / "c.jsonl", [{"text": words(i), "provenance": "human"} for i in range(30)])
    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\ndetector: {name: default, tpr: 0.8, fpr: 0.05, n_pos: 300, n_neg: 200}\n"
                      "rules:\n  - {id: CA101, max: 0.3}\n")
    proc = run_cli("scan", path, "-p", policy, "-f", "json", "-q")
    assert proc.returncode in (0, 1), proc.stderr
    v = json.loads(proc.stdout)["detector"]["validation"]
    assert (v["tpr"], v["fpr"], v["n_pos"], v["n_neg"]) == (0.8, 0.05, 300, 200)
