"""Fields in practice: chat turns chosen by role, and a policy field that no input has."""

from __future__ import annotations

import json

from helpers import run_cli, write_jsonl

RECORDS = [
    {"id": i, "provenance": "human",
     "messages": [{"role": "user", "content": f"question number {i} about the weather in town {i}"},
                  {"role": "assistant", "content": f"answer {i}: it rains"}]}
    for i in range(6)
]


def _tokens(tmp_path, policy: str) -> float:
    corpus = write_jsonl(tmp_path / "chat.jsonl", RECORDS)
    pol = tmp_path / "p.yaml"
    pol.write_text(policy)
    out = tmp_path / "r.json"
    proc = run_cli("scan", corpus, "-p", pol, "-q", "-f", "json", "-o", out, "-w", "1")
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text())["metrics"]["diversity.tokens"]


RULES = "rules: [{id: CA401, min: 0, severity: warning}]\n"   # a policy needs one active rule


def test_text_roles_keep_only_the_named_turns(tmp_path):
    every_turn = _tokens(tmp_path, "version: 1\nfields: {text: messages}\n" + RULES)
    assistant = _tokens(tmp_path, "version: 1\nfields: {text: messages, text_roles: [assistant]}\n" + RULES)
    assert assistant == 6 * 4            # "answer N: it rains" is four tokens
    assert every_turn == assistant + 6 * 9   # plus the user turns, nine tokens each


def test_text_roles_must_be_a_list_of_strings(tmp_path):
    corpus = write_jsonl(tmp_path / "chat.jsonl", RECORDS)
    pol = tmp_path / "p.yaml"
    pol.write_text("version: 1\nfields: {text: messages, text_roles: {assistant: 1}}\n")
    proc = run_cli("scan", corpus, "-p", pol, "-q")
    assert proc.returncode == 2 and f"{pol}:2" in proc.stderr and "text_roles" in proc.stderr


def test_a_policy_field_no_input_has_is_named_with_the_columns_found(tmp_path):
    corpus = write_jsonl(tmp_path / "c.jsonl", [{"id": i, "text": f"record {i} has words", "meta": {"src": "x"}}
                                                for i in range(4)])
    out = tmp_path / "r.json"
    proc = run_cli("scan", corpus, "-q", "-f", "json", "-o", out, "-w", "1")
    assert proc.returncode == 1, proc.stderr
    ca301 = next(r for r in json.loads(out.read_text())["rules"] if r["id"] == "CA301")
    assert ca301["status"] == "fail"
    assert "fields.provenance 'provenance' exists in none of the inputs" in ca301["message"]
    assert "columns found: id, text, meta.src" in ca301["message"] and "--provenance-field" in ca301["message"]
