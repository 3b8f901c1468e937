"""Linter-grade configuration: discovery, pyproject, id-only rules, selection, accepted findings."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from collapse_audit.checks.registry import catalogue
from collapse_audit.errors import AuditError, PolicyError
from collapse_audit.policy import find_policy, load_policy
from collapse_audit.policy.accept import accepted_document, accepted_masks, dump_accepted, load_accepted
from collapse_audit.policy.discovery import default_policy_path
from collapse_audit.policy.load import RuleSpec
from collapse_audit.policy.provenance import ProvenanceDerivation
from collapse_audit.policy.selection import parse_codes, select_rules

PYPROJECT = """[project]
name = "x"

[tool.collapse-audit]
version = 1
on_inconclusive = "warn"

[[tool.collapse-audit.rules]]
id = "CA202"
max = 0.0
"""


@pytest.fixture
def repo(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "data" / "deep").mkdir(parents=True)
    return tmp_path


def test_discovery_walks_up_to_the_repository_root(repo):
    (repo / "collapse-audit.yaml").write_text("version: 1\n")
    found = find_policy(None, str(repo / "data" / "deep"))
    assert found.source == "discovered"
    assert os.path.realpath(os.path.join(repo / "data" / "deep", found.path)) == str(repo / "collapse-audit.yaml")


def test_nearest_file_wins_and_dot_file_is_found(repo):
    (repo / "collapse-audit.yaml").write_text("version: 1\n")
    (repo / "data" / ".collapse-audit.yaml").write_text("version: 1\n")
    assert find_policy(None, str(repo / "data" / "deep")).path == os.path.join("..", ".collapse-audit.yaml")


def test_pyproject_table_is_discovered_and_loaded(repo):
    (repo / "pyproject.toml").write_text(PYPROJECT)
    found = find_policy(None, str(repo / "data"))
    assert found.source == "pyproject"
    policy = load_policy(str(repo / "pyproject.toml"), found.source)
    assert policy.source == "pyproject" and policy.on_inconclusive == "warn"
    assert [(r.id, r.metric, r.threshold) for r in policy.rules] == [("CA202", "duplicates.exact_fraction", 0.0)]


def test_pyproject_without_the_table_is_skipped(repo):
    (repo / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert find_policy(None, str(repo)).source == "packaged default"


def test_discovery_does_not_leave_the_repository(tmp_path):
    (tmp_path / "collapse-audit.yaml").write_text("version: 1\n")
    inner = tmp_path / "project"
    (inner / ".git").mkdir(parents=True)
    assert find_policy(None, str(inner)).path == default_policy_path()


def test_explicit_policy_wins(repo):
    (repo / "collapse-audit.yaml").write_text("version: 1\n")
    assert find_policy("other.yaml", str(repo)).source == "--policy"


def test_pyproject_errors_name_the_table(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text("[tool.collapse-audit]\ncolour = 'red'\n")
    with pytest.raises(PolicyError, match=r"pyproject.toml \[tool.collapse-audit\].*unknown key 'colour'"):
        load_policy(str(path))


def write(tmp_path, text):
    p = tmp_path / "p.yaml"
    p.write_text(text)
    return str(p)


def test_catalogued_id_alone_takes_the_catalogue_defaults(tmp_path):
    policy = load_policy(write(tmp_path, "rules:\n  - {id: CA410}\n  - {id: CA401}\n"))
    drift, entropy = policy.rules
    assert (drift.metric, drift.op) == ("drift.token_js", "max")
    assert drift.threshold == catalogue()["CA410"].limit
    assert entropy.op == "min" and entropy.threshold == 7.5


@pytest.mark.parametrize("text, fragment", [
    ("on_inconclusive: pass\n", "'on_inconclusive' must be 'fail' or 'warn'"),
    ("accept: 3\n", "'accept' must be the path"),
    ("fields:\n  provenance_from: {field: gen}\n", "present"),
    ("fields:\n  provenance_from: {field: gen, present: synthetic, colour: 1}\n", "unknown key 'colour'"),
    ("fields:\n  provenance_map: [a, b]\n", "provenance_map"),
])
def test_new_top_level_keys_are_validated_with_the_line(tmp_path, text, fragment):
    path = write(tmp_path, text)
    with pytest.raises(PolicyError, match=fragment) as err:
        load_policy(path)
    assert f"{path}:" in str(err.value)


def test_on_inconclusive_defaults_to_fail_and_accept_resolves_next_to_the_policy(tmp_path):
    assert load_policy(write(tmp_path, "version: 1\n")).on_inconclusive == "fail"
    policy = load_policy(write(tmp_path, "accept: accepted.yaml\n"))
    assert policy.accept == str(tmp_path / "accepted.yaml")


def test_provenance_derivation():
    rule = ProvenanceDerivation(field="generator", present="synthetic", absent="human",
                                mapping={"human": "human-written"})
    assert [rule.tag(v) for v in ("gpt-4", None, "  ")] == ["synthetic", "human-written", "human-written"]
    mapped = ProvenanceDerivation(mapping={"gpt4": "synthetic"})
    assert [mapped.tag(v) for v in ("gpt4", "human", None)] == ["synthetic", "human", None]


def rules(*ids):
    return [RuleSpec(i, i.lower(), "duplicates.near_fraction", "max", 0.1, "error") for i in ids]


def test_parse_codes_splits_commas_and_repeats():
    assert parse_codes(["ca2, CA301", "CA2"]) == ["CA2", "CA301"]


def test_select_ignore_extend_select():
    base = rules("CA101", "CA201", "CA301")
    assert [r.id for r in select_rules(base, select=["CA2", "CA3"])] == ["CA201", "CA301"]
    assert [r.id for r in select_rules(base, ignore=["CA1"])] == ["CA201", "CA301"]
    # a full catalogued code the policy lacks is added with its catalogue defaults
    added = select_rules(base, select=["CA202"])
    assert [(r.id, r.metric) for r in added] == [("CA202", "duplicates.exact_fraction")]
    # a prefix adds only rules whose inputs this scan has; a full code is always added
    no_inputs = select_rules(base, extend_select=["CA4"], available=lambda m: not m.startswith("drift."))
    assert "CA401" in [r.id for r in no_inputs] and "CA410" not in [r.id for r in no_inputs]
    assert "CA410" in [r.id for r in select_rules(base, extend_select=["CA410"], available=lambda m: False)]


def test_a_code_matching_nothing_is_an_error():
    with pytest.raises(AuditError, match="--ignore CA999 matches no rule"):
        select_rules(rules("CA101"), ignore=["CA999"])


def test_accept_file_round_trip(tmp_path):
    files = [str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")]
    file_index = np.array([0, 0, 1, 1])
    rows = np.array([0, 1, 0, 1])
    ids = ["x", None, None, "y"]
    fps = np.array([[1, 2], [3, 2**64 - 1], [5, 6], [7, 8]], dtype=np.uint64)
    findings = {"CA201": np.array([True, True, False, False]), "CA301": np.array([False, False, True, True])}
    for name in ("accepted.yaml", "accepted.json"):
        path = str(tmp_path / name)
        doc = accepted_document(path, findings, files, file_index, rows, ids, fps)
        assert doc["accepted"]["CA201"] == [{"fingerprint": "0" * 15 + "1" + "0" * 15 + "2", "id": "x"},
                                            {"fingerprint": "0" * 15 + "3" + "f" * 16, "file": "a.jsonl", "row": 1}]
        with open(path, "w") as fh:
            fh.write(dump_accepted(path, doc))
        masks = accepted_masks(load_accepted(path), files, file_index, rows, ids, fps)
        assert {k: v.tolist() for k, v in masks.items()} == {k: v.tolist() for k, v in findings.items()}
        # other content under an accepted id, or shifted into an accepted row, is not accepted
        moved = np.array([[9, 9], [9, 9], [5, 6], [7, 8]], dtype=np.uint64)
        masks = accepted_masks(load_accepted(path), files, file_index, rows, ids, moved)
        assert masks["CA201"].tolist() == [False, False, False, False]


@pytest.mark.parametrize("text", ["[1, 2]\n", "version: 2\naccepted: {CA201: {ids: x}}\n",
                                  "version: 2\naccepted: {CA201: [{file: a, row: 1}]}\n",
                                  "version: 2\naccepted: {CA201: [{fingerprint: abc, id: a}]}\n",
                                  "version: 1\naccepted: {CA201: {ids: [a]}}\n"])
def test_malformed_accept_files_are_errors_naming_the_file(tmp_path, text):
    path = tmp_path / "acc.yaml"
    path.write_text(text)
    with pytest.raises(AuditError, match="acc.yaml"):
        load_accepted(str(path))


def test_accept_json_needs_version(tmp_path):
    path = tmp_path / "acc.json"
    path.write_text(json.dumps({"accepted": {}}))
    with pytest.raises(AuditError, match="version: 2"):
        load_accepted(str(path))
