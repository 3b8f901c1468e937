"""Hostile policies and selections: nothing may turn a gate off silently, and odd-but-valid policies work.

A huge-integer threshold, a `where:` source no record has, an empty `[tool.collapse-audit]` table, a
policy or a selection with no active rule: each is exit 2 naming the file (and line), never a pass.
"""

from __future__ import annotations

import pytest
from helpers import run_cli

from .refusals import assert_refused, corpus, scan_json


@pytest.fixture
def data(tmp_path):
    a = corpus(tmp_path / "a.jsonl", 20, source="web")
    b = corpus(tmp_path / "b.jsonl", 20, start=50, source="forum")
    return [a, b]


def policy(tmp_path, text, name="p.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


# ---- refused --------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, line", [
    ("version: 1\nrules:\n  - {id: CA201, max: 1" + "0" * 400 + "}\n", 3),
    ("version: 1\nnear_duplicates:\n  threshold: 1" + "0" * 400 + "\nrules:\n  - {id: CA201, max: 0.1}\n", 3),
])
def test_a_huge_integer_threshold_is_a_policy_error_naming_the_line(tmp_path, data, text, line):
    p = policy(tmp_path, text)
    assert_refused(run_cli("scan", *data, "-p", p, "-q"), f"{p}:{line}", "401 digits")


def test_a_where_source_no_record_has_is_a_policy_error_naming_line_and_sources(tmp_path, data):
    p = policy(tmp_path, "version: 1\nfields: {source: source}\nrules:\n  - {id: CA301, max: 0.0}\n"
                         "  - {id: CA201, max: 0.0, where: {source: wbe}}\n")
    assert_refused(run_cli("scan", *data, "-p", p, "-q"), f"{p}:5", "'wbe'", "'forum', 'web'", "where_missing")


def test_an_empty_pyproject_table_is_refused_like_an_empty_yaml(tmp_path, data):
    p = policy(tmp_path, "[project]\nname = 'x'\n\n[tool.collapse-audit]\n", "pyproject.toml")
    assert_refused(run_cli("scan", *data, "-p", p, "-q"), str(p), "empty")
    assert_refused(run_cli("scan", *data, "-q", cwd=tmp_path), "pyproject.toml", "empty")   # discovered too
    assert_refused(run_cli("scan", *data, "-p", policy(tmp_path, "\n\n"), "-q"), "empty")


@pytest.mark.parametrize("args, fragment", [
    (("--ignore", "CA"), "selection"),
    (("--select", "CA201", "--ignore", "CA201"), "selection"),
    (("--select", "CA2", "--ignore", "CA20"), "selection"),
])
def test_a_selection_that_leaves_no_rule_is_refused(data, args, fragment):
    assert_refused(run_cli("scan", *data, *args, "-q"), fragment, "no rule")


def test_a_policy_whose_rules_are_all_disabled_or_absent_is_refused(tmp_path, data):
    p = policy(tmp_path, "version: 1\nrules:\n  - {id: CA201, enabled: false}\n")
    assert_refused(run_cli("scan", *data, "-p", p, "-q"), str(p), "no active rule")
    p = policy(tmp_path, "version: 1\nrules: []\n")
    assert_refused(run_cli("scan", *data, "-p", p, "-q"), str(p), "no active rule")


def test_a_bad_where_missing_value_names_the_line(tmp_path, data):
    p = policy(tmp_path, "version: 1\nwhere_missing: ignore\nrules:\n  - {id: CA201, max: 0.1}\n")
    assert_refused(run_cli("scan", *data, "-p", p, "-q"), f"{p}:2", "where_missing")


def test_a_policy_alias_bomb_and_an_oversized_policy_are_refused(tmp_path, data):
    from .test_calibration_accept import BOMB

    assert_refused(run_cli("scan", *data, "-p", policy(tmp_path, BOMB), "-q"), "alias bomb")
    big = policy(tmp_path, "# " + "x" * (17 * 1024 * 1024) + "\nrules: []\n", "big.yaml")
    assert_refused(run_cli("scan", *data, "-p", big, "-q"), str(big), "larger than")


# ---- valid but odd --------------------------------------------------------------------------------

def test_where_missing_not_applicable_lets_a_shared_policy_skip_an_absent_source(tmp_path, data):
    p = policy(tmp_path, "version: 1\nwhere_missing: not_applicable\nrules:\n  - {id: CA301, max: 0.0}\n"
                         "  - {id: CA201, max: 0.0, where: {source: vendor}}\n")
    proc, result = scan_json(*data, "-p", p)
    assert proc.returncode == 0, proc.stderr
    status = {r["id"]: r["status"] for r in result["rules"]}
    assert status == {"CA301": "pass", "CA201": "not_applicable"}


def test_a_where_source_that_exists_is_judged_on_that_source_only(tmp_path, data):
    a, b = data
    corpus(b, 20, start=0, source="forum")                  # forum now repeats web's texts
    p = policy(tmp_path, "version: 1\nrules:\n  - {id: CA202, max: 0.0, where: {source: web}}\n"
                         "  - {id: CA202, max: 0.0, where: {source: forum}}\n")
    proc, result = scan_json(a, b, "-p", p)
    assert proc.returncode == 0, proc.stderr                # within each source nothing repeats
    assert [r["status"] for r in result["rules"]] == ["pass", "pass"]


def test_a_large_but_finite_integer_threshold_is_a_number(tmp_path, data):
    p = policy(tmp_path, "version: 1\nrules:\n  - {id: CA103, max: 1" + "0" * 300 + "}\n"
                         "  - {id: CA301, max: 0.0}\n")
    proc, result = scan_json(*data, "-p", p)
    assert proc.returncode == 0, proc.stderr
    assert result["rules"][0]["threshold"] == 1e300


def test_a_pyproject_table_with_one_rule_and_a_selection_keeping_one_rule_work(tmp_path, data):
    p = policy(tmp_path, "[tool.collapse-audit]\nrules = [{id = 'CA301', max = 0.0}]\n", "pyproject.toml")
    proc, result = scan_json(*data, "-p", p)
    assert proc.returncode == 0 and [r["id"] for r in result["rules"]] == ["CA301"], proc.stderr
    proc, result = scan_json(*data, "--select", "CA2", "--ignore", "CA202")
    assert proc.returncode in (0, 1) and [r["id"] for r in result["rules"]] == ["CA201"], proc.stderr
