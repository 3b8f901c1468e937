"""Linter-grade configuration end to end: selection, --exit-zero, accepted findings, field overrides,
derived provenance, policy discovery from a subdirectory, not-applicable rules."""

from __future__ import annotations

import json

import pytest
import yaml
from helpers import run_cli, words, write_jsonl


def scan(*args, cwd=None):
    proc = run_cli("scan", *map(str, args), "-f", "json", "-q", "-w", "1", "--sample", "0", cwd=cwd)
    result = json.loads(proc.stdout) if proc.stdout.strip() else None
    return proc, result


@pytest.fixture
def dup_corpus(tmp_path):
    recs = [{"id": f"r{i}", "text": words(i, 50), "provenance": "human"} for i in range(20)]
    recs.append({"id": "copy", "text": recs[3]["text"], "provenance": "human"})
    recs.append({"text": recs[4]["text"], "provenance": "human"})        # no id: accepted by file+row
    return write_jsonl(tmp_path / "c.jsonl", recs)


@pytest.fixture
def policy(tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text("version: 1\nrules:\n  - {id: CA202, max: 0.0}\n  - {id: CA301, max: 0.0}\n")
    return p


def test_ignore_select_and_exit_zero(dup_corpus, policy):
    proc, result = scan(dup_corpus, "-p", policy)
    assert proc.returncode == 1 and result["verdict"] == "fail"
    proc, result = scan(dup_corpus, "-p", policy, "--ignore", "CA2")
    assert proc.returncode == 0 and [r["id"] for r in result["rules"]] == ["CA301"]
    assert result["policy"]["selection"]["ignore"] == ["CA2"]
    proc, result = scan(dup_corpus, "-p", policy, "--select", "CA202,CA201")
    assert [r["id"] for r in result["rules"]] == ["CA202", "CA201"]
    proc, result = scan(dup_corpus, "-p", policy, "--exit-zero")
    assert proc.returncode == 0 and result["verdict"] == "fail"


def test_unknown_code_is_a_usage_error(dup_corpus, policy):
    proc, _ = scan(dup_corpus, "-p", policy, "--select", "CA9")
    assert proc.returncode == 2 and "--select CA9 matches no rule" in proc.stderr


def test_write_accept_then_accept_fails_only_on_new_problems(tmp_path, dup_corpus, policy):
    accepted = tmp_path / "accepted.yaml"
    proc, _ = scan(dup_corpus, "-p", policy, "--write-accept", accepted)
    assert proc.returncode == 1
    doc = yaml.safe_load(accepted.read_text())
    entries = doc["accepted"]["CA202"]
    assert [{k: v for k, v in e.items() if k != "fingerprint"} for e in entries] == \
        [{"id": "copy"}, {"file": "c.jsonl", "row": 21}]
    assert all(len(e["fingerprint"]) == 32 for e in entries)

    proc, result = scan(dup_corpus, "-p", policy, "--accept", accepted)
    assert proc.returncode == 0, proc.stderr
    ca202 = next(r for r in result["rules"] if r["id"] == "CA202")
    assert ca202["status"] == "pass" and ca202["suppressed"] == 2 and ca202["value"] == 0
    assert result["metrics"]["duplicates.exact_count"] == 2      # the raw metric stays

    # a new duplicate is not covered by the accepted findings
    lines = dup_corpus.read_text().splitlines()
    dup_corpus.write_text("\n".join(lines + [json.dumps({"id": "new", "text": words(7, 50),
                                                          "provenance": "human"})]) + "\n")
    proc, result = scan(dup_corpus, "-p", policy, "--accept", accepted)
    assert proc.returncode == 1
    assert next(r for r in result["rules"] if r["id"] == "CA202")["records_flagged"] == 1


def test_policy_accept_key(tmp_path, dup_corpus, policy):
    scan(dup_corpus, "-p", policy, "--write-accept", tmp_path / "acc.json")
    policy.write_text(policy.read_text() + "accept: acc.json\n")
    proc, result = scan(dup_corpus, "-p", policy)
    assert proc.returncode == 0 and result["policy"]["accept"] == "acc.json"


def test_field_overrides(tmp_path):
    recs = [{"uid": i, "body": words(i), "origin": "human", "src": "s1" if i % 2 else "s2"} for i in range(12)]
    path = write_jsonl(tmp_path / "o.jsonl", recs)
    proc, result = scan(path, "--text-field", "body", "--id-field", "uid", "--provenance-field", "origin",
                        "--source-field", "src", "--select", "CA301")
    assert proc.returncode == 0, proc.stderr
    assert result["metrics"]["provenance.missing_count"] == 0
    assert set(result["sources"]["groups"]) == {"s1", "s2"}
    assert result["policy"]["fields"]["id"] == "uid"


def test_provenance_derived_from_a_field_and_value_map(tmp_path):
    recs = [{"text": words(i), **({"generator": "gpt4"} if i < 4 else {})} for i in range(10)]
    path = write_jsonl(tmp_path / "g.jsonl", recs)
    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\nfields:\n  provenance_from: {field: generator, present: synthetic, absent: human}\n"
                      "rules:\n  - {id: CA102, max: 0.5}\n  - {id: CA301, max: 0.0}\n")
    proc, result = scan(path, "-p", policy)
    assert proc.returncode == 0, proc.stderr
    assert result["metrics"]["synthetic.declared_count"] == 4
    assert result["metrics"]["provenance.missing_count"] == 0

    mapped = [{"text": words(i), "provenance": "gpt4" if i < 3 else "human"} for i in range(10)]
    path = write_jsonl(tmp_path / "m.jsonl", mapped)
    policy.write_text("version: 1\nfields:\n  provenance_map: {gpt4: synthetic}\nrules:\n  - {id: CA102, max: 0.5}\n")
    _, result = scan(path, "-p", policy)
    assert result["metrics"]["synthetic.declared_count"] == 3


def test_untagged_corpus_makes_tag_rules_not_applicable(tmp_path):
    path = write_jsonl(tmp_path / "u.jsonl", [{"text": words(i)} for i in range(15)])
    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\nrules:\n  - {id: CA102}\n  - {id: CA103, severity: error}\n")
    proc, result = scan(path, "-p", policy)
    assert proc.returncode == 0, proc.stderr
    assert [r["status"] for r in result["rules"]] == ["not_applicable", "not_applicable"]
    assert "no record carries a provenance tag" in result["rules"][1]["message"]


def test_policy_discovered_from_a_subdirectory_via_pyproject(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text('[tool.collapse-audit]\nversion = 1\n\n'
                                             '[[tool.collapse-audit.rules]]\nid = "CA202"\nmax = 0.0\n')
    sub = tmp_path / "data"
    sub.mkdir()
    path = write_jsonl(sub / "c.jsonl", [{"text": words(i), "provenance": "human"} for i in range(10)])
    proc, result = scan(path, cwd=sub)
    assert proc.returncode == 0, proc.stderr
    assert result["policy"]["source"] == "pyproject" and result["policy"]["path"] == "../pyproject.toml"
    assert [r["id"] for r in result["rules"]] == ["CA202"]
