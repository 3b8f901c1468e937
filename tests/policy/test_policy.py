"""Policy loading: defaults, validation with line numbers, the catalogue and rule evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from collapse_audit.checks.registry import catalogue
from collapse_audit.errors import PolicyError
from collapse_audit.policy import default_policy_path, load_policy
from collapse_audit.policy.evaluate import evaluate_rules
from collapse_audit.policy.load import RuleSpec


def write(tmp_path, text: str):
    p = tmp_path / "policy.yaml"
    p.write_text(text)
    return str(p)


def test_packaged_default_policy_has_the_three_required_rules():
    policy = load_policy(default_policy_path())
    by_id = {r.id: r for r in policy.rules}
    assert by_id["CA101"].metric == "synthetic.estimated_fraction" and by_id["CA101"].threshold == 0.30
    assert by_id["CA201"].metric == "duplicates.near_fraction" and by_id["CA201"].threshold == 0.05
    assert by_id["CA301"].metric == "provenance.missing_fraction" and by_id["CA301"].threshold == 0.0
    assert all(r.severity == "error" for r in (by_id["CA101"], by_id["CA201"], by_id["CA301"]))
    near = policy.options["near_duplicates"]
    assert near.threshold == 0.8 and near.ngram == 5


def test_catalogued_rule_inherits_metric_and_name(tmp_path):
    policy = load_policy(write(tmp_path, "version: 1\nrules:\n  - {id: CA201, max: 0.1}\n"))
    assert policy.rules[0].metric == "duplicates.near_fraction"
    assert policy.rules[0].name == "near-duplicate-share"


def test_disabled_rule_is_dropped(tmp_path):
    policy = load_policy(write(tmp_path, "rules:\n  - {id: CA201, max: 0.1, enabled: false}\n"))
    assert policy.rules == []


@pytest.mark.parametrize("text, line, fragment", [
    ("rules:\n  - {id: CA201, metric: duplicates.exact_fraction}\n", 2, "exactly one of 'max' or 'min'"),
    ("rules:\n  - {id: CA201, max: 0.1, min: 0.0}\n", 2, "exactly one of"),
    ("rules:\n  - {id: CA201, max: lots}\n", 2, "must be a number"),
    ("rules:\n  - {id: CA201, max: 0.1, severity: fatal}\n", 2, "severity"),
    ("near_duplicates:\n  threshold: 2\n", 2, "between"),
    ("detector:\n  sample: -1\n", 2, "sample"),
    ("colour: red\n", 1, "unknown key 'colour'"),
    ("version: 3\n", 1, "unsupported policy version"),
    ("rules:\n  - {id: NEW1, max: 1}\n", 2, "needs a 'metric'"),
    ("rules:\n  - {id: CA201, max: 0.1, where: {vendor: x}}\n", 2, "where"),
    ("detector: {name: default, treshold: 0.7}\n", 1, "did you mean 'threshold'"),
    ("version: 1\ncontamination:\n  threshold: 2\n", 3, "'contamination.threshold' must be in (0, 1]"),
    ("contamination: {threshold: 0}\n", 1, "must be in (0, 1]"),
    ("diversity:\n  tail_cut: .nan\n", 2, "finite"),
    ("near_duplicates: {threshold: .inf}\n", 1, "finite"),
    ("diversity:\n  enabled: 1\n", 2, "true or false"),
    ("near_duplicates:\n  ngram: 2.5\n", 2, "an integer"),
    ("detector:\n  tpr: 0.9\n", 2, "give all four"),
    ("detector:\n  method: magic\n", 2, "one of fast-detectgpt, log-rank"),
])
def test_invalid_policies_name_the_line(tmp_path, text, line, fragment):
    path = write(tmp_path, text)
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert f"{path}:{line}" in str(err.value)
    assert fragment in str(err.value)


def test_catalogue_codes_are_unique_and_documented():
    docs = catalogue()
    assert {"CA101", "CA201", "CA301"} <= set(docs)
    for d in docs.values():
        assert d.code[:2] == "CA" and len(d.rationale) > 40 and d.example.startswith("{id:")


class FakeSources:
    def __init__(self, codes):
        self.codes = np.asarray(codes)
        self.names = {c: i for i, c in enumerate(dict.fromkeys(codes))}

    def mask(self, name):
        return self.codes == name if name in self.names else None


def rule(rid, metric, op, thr, severity="error", where=None):
    return RuleSpec(rid, rid.lower(), metric, op, thr, severity, where)


def test_rule_statuses_verdict_and_per_record_issues():
    metrics = {"duplicates.near_fraction": 0.2, "provenance.missing_fraction": 0.0,
               "synthetic.estimated_fraction": 0.31, "synthetic.estimated_fraction_ci_low": 0.25,
               "synthetic.estimated_fraction_ci_high": 0.37, "synthetic.estimate_validated": 1.0}
    flags = {"duplicates.near_fraction": np.array([True, False, False, True, False]),
             "provenance.missing_fraction": np.zeros(5, bool),
             "synthetic.estimated_fraction": np.array([False, True, False, True, False])}
    groups = {"a": {"duplicates.near_fraction": 0.5}, "b": {"duplicates.near_fraction": 0.0}}
    sources = FakeSources(["a", "b", "b", "a", "b"])
    rules = [rule("CA201", "duplicates.near_fraction", "max", 0.05),
             rule("CA301", "provenance.missing_fraction", "max", 0.0),
             rule("CA101", "synthetic.estimated_fraction", "max", 0.30, severity="warning"),
             rule("CA201", "duplicates.near_fraction", "max", 0.1, where={"source": "b"})]
    ev = evaluate_rules(rules, metrics, groups, flags, sources, 5)
    assert [r.status for r in ev.rules] == ["fail", "pass", "inconclusive", "pass"]
    assert ev.verdict == "fail"
    assert "straddles the maximum 30.0%" in ev.rules[2].message
    assert ev.rules[2].interval == [0.25, 0.37]
    assert ev.rules[0].records_flagged == 2 and ev.rules[3].records_flagged == 0
    assert ev.issues.to_pylist() == [["CA201"], ["CA101"], [], ["CA201", "CA101"], []]


def test_where_value_matching_no_record_is_not_applicable_naming_the_values_when_the_policy_opts_in():
    rules = [rule("CA201", "duplicates.near_fraction", "max", 0.1, where={"source": "typo"})]
    ev = evaluate_rules(rules, {"duplicates.near_fraction": 0.0}, {"a": {}}, {}, FakeSources(["a"]), 1,
                        where_missing="not_applicable")
    out = ev.rules[0]
    assert out.status == "not_applicable" and out.severity == "error"
    assert "'typo'" in out.message and "'a'" in out.message
    assert ev.verdict == "pass"
