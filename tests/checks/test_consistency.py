"""Everything derived from the check declarations agrees with what the checks do (the sqlfluff
docs-test idea): every declared metric is produced by a real scan and nothing undeclared is, every
catalogued rule sits on its own check's metric, the packaged default policy is the catalogue's
enabled-by-default rules with their defaults, and malformed declarations fail at class creation."""

from __future__ import annotations

import dataclasses
import json

import pytest
import yaml
from helpers import run_cli, write_jsonl, zipf_texts

from collapse_audit.checks.base import Check, CheckResult, DeclarationError
from collapse_audit.checks.registry import (
    ALWAYS_METRICS,
    catalogue,
    check_for_metric,
    metric_spec,
    options_sections,
    register_check,
    registered,
)
from collapse_audit.checks.spec import Column, Metric, Rule
from collapse_audit.policy import default_policy_path, load_policy
from collapse_audit.policy.options import build_options
from collapse_audit.result.sections import Section


@pytest.fixture(scope="module")
def full_scan(tmp_path_factory):
    """A scan that runs every registered check: with a baseline profile (with scores), an eval set and an
    earlier snapshot's state (--against)."""
    tmp = tmp_path_factory.mktemp("consistency")
    human = zipf_texts(300, 3000, 40, seed=2)
    evals = zipf_texts(30, 3000, 40, seed=3)
    rows = [{"id": i, "text": t, "source": f"s{i % 2}", "provenance": "human", "license": "mit"}
            for i, t in enumerate(human[:150] + [evals[4], "write to a@b.org"] + human[150:])]
    corpus = write_jsonl(tmp / "train.jsonl", rows)
    base = write_jsonl(tmp / "base.jsonl", [{"text": t} for t in human[::2]])
    ev = write_jsonl(tmp / "eval.jsonl", [{"text": t} for t in evals])
    prof = tmp / "baseline.json"
    p = run_cli("profile", base, "-o", prof, "-q", "-w", "1")
    assert p.returncode == 0, p.stderr
    earlier = tmp / "earlier-state"
    p = run_cli("scan", base, "--partial", earlier, "-q", "-w", "1")
    assert p.returncode == 0, p.stderr
    p = run_cli("scan", corpus, "--baseline", prof, "--eval-set", ev, "--against", earlier, "-f", "json", "-q",
                "-w", "1")
    assert p.returncode in (0, 1), p.stderr
    return json.loads(p.stdout)


def test_every_declared_metric_is_produced_and_nothing_else(full_scan):
    produced = set(full_scan["metrics"])
    declared = {m.name for m in ALWAYS_METRICS}
    for check in registered():
        for m in check.metrics:
            declared |= {m.name, *m.companions()}
    assert declared - produced == set()
    assert produced - declared == set()
    assert {c.name for c in registered()} <= set(full_scan["details"])


def test_every_section_renders_from_saved_details_and_from_nothing(full_scan):
    for check in registered():
        details = full_scan["details"].get(check.name, {})
        section = check.section(details, full_scan["metrics"])
        assert isinstance(section, Section) and section.key == check.name and section.facts, check.name
        for table in section.tables:
            assert all(len(row) == len(table.columns) for row in table.rows), (check.name, table.title)
            assert all(isinstance(cell, str) for row in table.rows for cell in row)
        empty = check.section({}, {})
        assert empty is None or isinstance(empty, Section)


def test_each_rule_is_on_its_own_checks_metric():
    for check in registered():
        for rule in check.rules:
            assert check_for_metric(rule.metric) is check, rule.code
    codes = [r.code for c in registered() for r in c.rules]
    assert len(codes) == len(set(codes)) == len(catalogue())


def test_default_policy_is_the_catalogues_enabled_rules_with_their_defaults():
    doc = yaml.safe_load(open(default_policy_path(), encoding="utf-8"))
    listed = {r["id"]: r for r in doc["rules"]}
    cat = catalogue()
    assert set(listed) <= set(cat), "the default policy names an uncatalogued rule"
    assert set(listed) == {code for code, r in cat.items() if r.enabled_by_default}
    for rule in load_policy(default_policy_path()).rules:
        want = cat[rule.id]
        assert (rule.name, rule.metric, rule.op, rule.threshold, rule.severity) == \
            (want.name, want.metric, want.op, want.limit, want.severity), rule.id


def test_option_defaults_validate_and_every_option_is_documented():
    class Ctx:
        def fail(self, message, *at):
            raise AssertionError(message)

    for section, cls in options_sections().items():
        default = cls()
        assert build_options(cls, dataclasses.asdict(default), Ctx(), section) == default
        for f in dataclasses.fields(cls):
            assert f.metadata.get("doc"), f"{section}.{f.name} has no doc"
    assert load_policy(default_policy_path()).options.keys() == options_sections().keys()


def test_metric_spec_is_exact():
    assert metric_spec("synthetic.estimated_fraction").kind == "interval"
    assert metric_spec("synthetic.estimated_fraction_ci_low").kind == "fraction"
    assert metric_spec("duplicates.near_fraction").kind == "fraction"
    assert metric_spec("diversity.nonsense") is None and metric_spec("drift.delta") is None


def _rule(code="CA999", metric="x.count"):
    return Rule(code, "n", metric, "max", 0, "error", "r" * 40, f"{{id: {code}}}")


@pytest.mark.parametrize("attrs, fragment", [
    ({"rules": (_rule(metric="x.other"),)}, "does not declare"),
    ({"rules": (_rule(), _rule())}, "declared twice"),
    ({"columns": (Column("c", "decimal", "d"),)}, "unknown type"),
    ({"needs": ("",)}, "resource names"),
    ({"metrics": (Metric("x.count", "count", "d", record_level="some"),)}, "record_level"),
    ({"metrics": (Metric("x.count", "count", "d", record_level="representative"),)}, "no 'copies'"),
    ({"key_tables": 1}, "Partitioned methods"),
    ({"metrics": (Metric("x.count", "count", "d"), Metric("x.count", "count", "d"))}, "declared twice"),
    ({"options_key": "x"}, "go together"),
])
def test_malformed_declarations_fail_at_class_creation(attrs, fragment):
    body = {"name": "x", "title": "X", "metrics": (Metric("x.count", "count", "d"),),
            "observe": lambda self, b, p: None, "finish": lambda self: CheckResult(), **attrs}
    with pytest.raises(DeclarationError, match=fragment):
        type("Bad", (Check,), body)


def test_registering_a_clashing_check_fails():
    body = {"name": "other", "title": "Other", "metrics": (Metric("duplicates.near_count", "count", "d"),),
            "observe": lambda self, b, p: None, "finish": lambda self: CheckResult()}
    with pytest.raises(TypeError, match="redeclares metric"):
        register_check(type("Clash", (Check,), body))
    assert "other" not in [c.name for c in registered()]
