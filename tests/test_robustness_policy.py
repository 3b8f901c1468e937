"""A policy that cannot mean what it says is an error naming the file and line; the documented
defaults, the packaged policy and the code's defaults agree."""

from __future__ import annotations

import re

import pytest
import yaml
from helpers import REPO, run_cli, words, write_jsonl

from collapse_audit.checks.near_duplicates import NearDuplicateOptions
from collapse_audit.config import FieldMap
from collapse_audit.documents import MAX_ALIAS_NODES, parse
from collapse_audit.errors import PolicyError
from collapse_audit.policy import default_policy_path, load_policy

BOMB = ("a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
        "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n")


def write(tmp_path, text: str) -> str:
    p = tmp_path / "policy.yaml"
    p.write_text(text)
    return str(p)


@pytest.mark.parametrize("text, line, fragment", [
    ("rules:\n  - {id: CA101, max: .nan}\n", 2, "must be a finite number, not nan"),
    ("rules:\n  - {id: CA101, max: .inf}\n", 2, "finite"),
    ("rules:\n  - {id: CA101, max: 1.0e+400}\n", 2, "finite"),
    ("rules:\n  - {id: CA101, min: -.inf}\n", 2, "finite"),
    ("rules:\n  - {id: CA101, max: 1" + "0" * 400 + "}\n", 2, "finite"),
    ("near_duplicates:\n  threshold: .nan\n", 2, "finite"),
    ("rules: []\nversion: 1\nrules:\n  - {id: CA101, max: 0.9}\n", 3, "duplicate key 'rules' (first on line 1)"),
    ("rules:\n  - id: CA101\n    max: 0.1\n    max: 0.9\n", 4, "duplicate key 'max' (first on line 3)"),
    ("fields:\n  text: body\n  text: text\n", 3, "duplicate key 'text'"),
    ("? [a, b]\n: 1\n", 1, "complex key"),
    ("? {a: 1}\n: 1\n", 1, "complex key"),
    ("rules: &r [*r]\n", 1, "recursive alias"),
    ("fields: &f {text: *f}\n", 1, "recursive alias"),
    (BOMB, 4, "alias bomb"),  # d: already expands to 11,110 values
])
def test_policies_that_cannot_mean_what_they_say_name_the_line(tmp_path, text, line, fragment):
    path = write(tmp_path, text)
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert f"{path}:{line}" in str(err.value), str(err.value)
    assert fragment in str(err.value)


@pytest.mark.parametrize("text", ["", "   \n\n\t\n"])
def test_an_empty_policy_file_is_an_error_naming_it(tmp_path, text):
    path = write(tmp_path, text)
    with pytest.raises(PolicyError, match=f"Policy file {re.escape(path)} is empty"):
        load_policy(path)


def test_deep_nesting_is_refused_not_a_crash(tmp_path):
    for text in ("[" * 100_000 + "]" * 100_000, "a:\n" + "".join("  " * i + "b:\n" for i in range(1, 200))):
        with pytest.raises(PolicyError, match="nested too deeply|not valid YAML"):
            load_policy(write(tmp_path, text))


def test_reasonable_aliases_and_merges_still_work(tmp_path):
    doc = parse("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\nlist: &l [1, 2]\nagain: *l\n")
    assert doc.value == {"base": {"x": 1, "y": 2}, "other": {"y": 3, "x": 1}, "list": [1, 2], "again": [1, 2]}
    # an alias expanding to exactly the limit is fine
    assert MAX_ALIAS_NODES >= 1000
    many = "a: &a [" + ", ".join(["x"] * 99) + "]\nb: [" + ", ".join(["*a"] * 10) + "]\n"
    assert len(parse(many).value["b"]) == 10
    policy = load_policy(write(tmp_path, "x-rule: &r {id: CA201, max: 0.1}\n".replace("x-rule: ", "rules:\n  - ")))
    assert policy.rules[0].threshold == 0.1


def test_cli_exit_codes_for_policy_and_seed_problems(tmp_path):
    corpus = write_jsonl(tmp_path / "c.jsonl", [{"id": i, "text": words(i)} for i in range(5)])
    pol = tmp_path / "p.yaml"
    pol.write_text("rules:\n  - {id: CA201, max: .nan}\n")
    proc = run_cli("scan", corpus, "-p", pol, "-q")
    assert proc.returncode == 2 and f"{pol}:2" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli("scan", corpus, "--seed", "-1", "-q")
    assert proc.returncode == 2 and "--seed" in proc.stderr and "Traceback" not in proc.stderr


def _readme_policy() -> dict:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## The policy file"):]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block, "README's policy section has a yaml block"
    return yaml.safe_load(block.group(1))


def test_documented_packaged_and_code_defaults_agree():
    readme = _readme_policy()
    packaged = load_policy(default_policy_path())
    code = FieldMap()
    for name in ("text", "id", "provenance", "source", "license", "synthetic_values", "human_values", "required"):
        documented = readme["fields"][name]
        documented = tuple(documented) if isinstance(documented, list) else documented
        assert getattr(code, name) == documented, name
        assert getattr(packaged.fields, name) == documented, name
    assert set(code.synthetic_values) >= {"llm", "ai-generated"}
    near = NearDuplicateOptions()
    for name, value in readme["near_duplicates"].items():
        assert getattr(near, name) == value == getattr(packaged.options["near_duplicates"], name)
    assert packaged.options["detector"].name == readme["detector"]["name"]
    assert packaged.options["detector"].sample == readme["detector"]["sample"]


def test_a_policy_without_fields_uses_the_documented_provenance_values(tmp_path):
    policy = load_policy(write(tmp_path, "rules: []\n"))
    assert "llm" in policy.fields.synthetic_values and "ai-generated" in policy.fields.synthetic_values
    assert policy.fields.human_values == ("human", "human-written")
