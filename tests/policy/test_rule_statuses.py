"""Rule statuses from data-driven cases: metrics + rule -> status, verdict and message."""

from __future__ import annotations

import numpy as np
import pytest

from collapse_audit.errors import AuditError, PolicyError
from collapse_audit.policy.evaluate import evaluate_rules, fails_verdict
from collapse_audit.policy.load import RuleSpec

EST = "synthetic.estimated_fraction"


class Sources:
    """A source index over explicit per-record source names."""

    def __init__(self, codes=()):
        self.codes = np.asarray(codes, dtype=object)
        self.names = {c: i for i, c in enumerate(dict.fromkeys(codes))}

    def mask(self, name):
        return self.codes == name if name in self.names else None


def estimate(point, lo, hi, validated=1.0):
    m = {EST: point, f"{EST}_ci_low": lo, f"{EST}_ci_high": hi}
    if validated is not None:
        m["synthetic.estimate_validated"] = validated
    return m


def run(rule, metrics, groups=None, flags=None, sources=None, total=1, **kw):
    return evaluate_rules([rule], metrics, groups or {}, flags or {}, sources or Sources(), total, **kw)


CAP = RuleSpec("CA101", "synthetic-share-cap", EST, "max", 0.30, "error")
FLOOR = RuleSpec("X1", "share-floor", EST, "min", 0.10, "error")


@pytest.mark.parametrize("rule, metrics, status, fragment", [
    # the whole interval above the cap: fail, validated or not (the lower bound alone decides)
    (CAP, estimate(0.45, 0.40, 0.50), "fail", "whole interval is above the maximum 30.0%"),
    (CAP, estimate(0.45, 0.40, 0.50, validated=0.0), "fail", "whole interval is above"),
    # validated and the whole interval under the cap: pass
    (CAP, estimate(0.10, 0.05, 0.15), "pass", "whole interval is within the maximum"),
    # under the cap but not validated: inconclusive, never a pass
    (CAP, estimate(0.10, 0.05, 0.15, validated=0.0), "inconclusive", "not validated on this corpus"),
    (CAP, estimate(0.10, 0.05, 0.15, validated=None), "inconclusive", "does not establish"),
    # the interval straddles the cap, even with the point estimate below it
    (CAP, estimate(0.28, 0.20, 0.36), "inconclusive", "straddles the maximum 30.0%"),
    # a floor: the whole interval below it fails, above it passes
    (FLOOR, estimate(0.04, 0.01, 0.08), "fail", "whole interval is below the minimum 10.0%"),
    (FLOOR, estimate(0.30, 0.20, 0.40), "pass", "within the minimum"),
])
def test_interval_rules_decide_from_the_interval(rule, metrics, status, fragment):
    out = run(rule, metrics).rules[0]
    assert out.status == status
    assert fragment in out.message
    assert out.interval == [metrics[f"{EST}_ci_low"], metrics[f"{EST}_ci_high"]]


def test_inconclusive_message_says_what_would_settle_it():
    msg = run(CAP, estimate(0.28, 0.20, 0.36)).rules[0].message
    assert "collapse-audit detector calibrate" in msg and "--sample" in msg and "stronger detector" in msg


def test_non_synthetic_interval_metrics_need_no_validation_flag():
    rule = RuleSpec("X2", "other", "diversity.share", "max", 0.5, "error")
    metrics = {"diversity.share": 0.1, "diversity.share_ci_low": 0.05, "diversity.share_ci_high": 0.2}
    assert run(rule, metrics).rules[0].status == "pass"


@pytest.mark.parametrize("severity, on_inconclusive, verdict", [
    ("error", "fail", "fail"),
    ("error", "warn", "pass"),
    ("warning", "fail", "pass"),
])
def test_on_inconclusive_decides_the_verdict(severity, on_inconclusive, verdict):
    rule = RuleSpec("CA101", "cap", EST, "max", 0.30, severity)
    ev = run(rule, estimate(0.28, 0.20, 0.36), on_inconclusive=on_inconclusive)
    assert ev.rules[0].status == "inconclusive"
    assert ev.verdict == verdict
    assert fails_verdict(ev.rules[0], on_inconclusive) == (verdict == "fail")


def test_warning_rule_over_the_limit_warns_and_passes_the_verdict():
    rule = RuleSpec("CA201", "near", "duplicates.near_fraction", "max", 0.05, "warning")
    ev = run(rule, {"duplicates.near_fraction": 0.2})
    assert ev.rules[0].status == "warn" and ev.verdict == "pass"


@pytest.mark.parametrize("rule_id, metric", [
    ("CA102", "synthetic.declared_fraction"),
    ("CA103", "provenance.undeclared_synthetic_count"),
    ("CA304", "provenance.unknown_value_fraction"),
])
def test_tag_rules_are_not_applicable_when_no_record_is_tagged(rule_id, metric):
    rule = RuleSpec(rule_id, "r", metric, "max", 0.0, "error")
    untagged = {metric: 0.0, "provenance.missing_count": 7, "records.total": 7}
    ev = run(rule, untagged)
    assert ev.rules[0].status == "not_applicable" and ev.verdict == "pass"
    assert "no record carries a provenance tag" in ev.rules[0].message
    tagged = {**untagged, "provenance.missing_count": 6}
    assert run(rule, tagged).rules[0].status == "pass"


def test_where_rule_on_a_source_with_no_tags_is_not_applicable_there_only():
    rule = RuleSpec("CA103", "r", "provenance.undeclared_synthetic_count", "max", 0, "error", {"source": "b"})
    groups = {"a": {"provenance.undeclared_synthetic_count": 0, "provenance.missing_count": 0, "records.total": 1},
              "b": {"provenance.undeclared_synthetic_count": 0, "provenance.missing_count": 1, "records.total": 1}}
    ev = run(rule, {"provenance.undeclared_synthetic_count": 0}, groups, sources=Sources(["a", "b"]), total=2)
    assert ev.rules[0].status == "not_applicable" and "source 'b'" in ev.rules[0].message


def test_error_rule_with_unknown_where_value_is_a_policy_error_naming_the_line_and_the_sources():
    rule = RuleSpec("CA201", "near", "duplicates.near_fraction", "max", 0.05, "error", {"source": "wbe"}, line=7)
    with pytest.raises(PolicyError, match=r"Policy p\.yaml:7: rule CA201 applies to source 'wbe'.*'forum', 'web'"):
        run(rule, {"duplicates.near_fraction": 0.5}, {"web": {}}, sources=Sources(["web", "forum"]), total=2,
            policy_path="p.yaml")


def test_error_rule_with_unknown_where_value_is_not_downgraded_to_a_warning_when_not_applicable_is_chosen():
    rule = RuleSpec("CA201", "near", "duplicates.near_fraction", "max", 0.05, "error", {"source": "wbe"})
    ev = run(rule, {"duplicates.near_fraction": 0.5}, {"web": {}}, sources=Sources(["web", "forum"]), total=2,
             where_missing="not_applicable")
    out = ev.rules[0]
    assert out.status == "not_applicable" and out.status != "warn"
    assert "'wbe'" in out.message and "'web'" in out.message and "'forum'" in out.message


def test_missing_drift_metric_names_the_flag():
    rule = RuleSpec("CA410", "drift", "drift.token_js", "max", 0.02, "error")
    with pytest.raises(AuditError, match="--baseline"):
        run(rule, {"records.total": 3})


def test_accepted_records_leave_the_numerator_and_are_counted():
    flags = {"duplicates.near_fraction": np.array([True, True, True, False]),
             "duplicates.near_count": np.array([True, True, True, False])}
    metrics = {"duplicates.near_fraction": 0.75, "duplicates.near_count": 3}
    rules = [RuleSpec("CA201", "near", "duplicates.near_fraction", "max", 0.30, "error"),
             RuleSpec("X9", "count", "duplicates.near_count", "max", 1, "error")]
    accepted = {"CA201": np.array([True, True, False, False]), "X9": np.array([False, True, True, False])}
    ev = evaluate_rules(rules, metrics, {}, flags, Sources(), 4, accepted=accepted)
    frac, count = ev.rules
    assert frac.value == pytest.approx(0.25) and frac.status == "pass" and frac.suppressed == 2
    assert frac.records_flagged == 1 and "2 accepted records left out" in frac.message
    assert count.value == 1 and count.status == "pass" and count.suppressed == 2
    assert ev.issues.to_pylist() == [["X9"], [], ["CA201"], []]
    # findings keep every flagged record (what --write-accept writes), accepted or not
    assert ev.findings["CA201"].tolist() == [True, True, True, False]


def test_records_cannot_be_accepted_out_of_an_estimate():
    flags = {EST: np.array([True])}
    with pytest.raises(AuditError, match="decides from an estimate"):
        run(CAP, estimate(0.5, 0.4, 0.6), flags=flags, accepted={"CA101": np.array([True])})


def test_rules_on_detector_decisions_are_inconclusive_when_the_detector_is_not_validated():
    rule = RuleSpec("CA103", "undeclared", "provenance.undeclared_synthetic_count", "max", 0, "error")
    flags = {"provenance.undeclared_synthetic_count": np.array([True, False])}
    base = {"provenance.undeclared_synthetic_count": 1, "provenance.missing_count": 0, "records.total": 2}
    ev = run(rule, {**base, "synthetic.estimate_validated": 0.0}, flags=flags, total=2)
    assert ev.rules[0].status == "inconclusive" and "not validated on this corpus" in ev.rules[0].message
    # the message reads right for its status: an unvalidated count neither "exceeds" nor "is within"
    assert "exceeds" not in ev.rules[0].message and "(limit: at most 0)" in ev.rules[0].message
    assert ev.issues.to_pylist() == [[], []] and ev.verdict == "fail"
    ev = run(rule, {**base, "synthetic.estimate_validated": 1.0}, flags=flags, total=2)
    assert ev.rules[0].status == "fail" and ev.issues.to_pylist() == [["CA103"], []]
