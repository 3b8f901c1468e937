"""`--format sarif` (validated against the SARIF 2.1.0 schema) and `--format github` (workflow commands)."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest
from report_fixtures import HERE

from collapse_audit.reports import sarif, workflow_commands
from collapse_audit.reports.formats import render_result

SARIF_SCHEMA = json.loads((HERE / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
FULL = HERE / "fixtures" / "full_result.json"


def _validate(doc: dict) -> None:
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(doc)


@pytest.mark.parametrize("path", [HERE / "fixtures" / "result.json", FULL])
def test_sarif_is_valid_2_1_0(path):
    doc = json.loads(sarif.render(json.loads(path.read_text(encoding="utf-8"))))
    _validate(doc)
    assert doc["version"] == "2.1.0"


def test_sarif_one_result_per_rule_that_did_not_pass(result):
    r = copy.deepcopy(result)
    r["rules"][4]["status"] = "inconclusive"
    r["rules"][5]["status"] = "not_applicable"
    doc = json.loads(sarif.render(r))
    _validate(doc)
    run = doc["runs"][0]
    expected = [x["id"] for x in r["rules"] if x["status"] in ("fail", "warn", "inconclusive")]
    assert [res["ruleId"] for res in run["results"]] == expected
    by_id = {res["ruleId"]: res for res in run["results"]}
    assert by_id[r["rules"][4]["id"]]["properties"]["status"] == "inconclusive"
    # descriptors come from the catalogue, with the rationale as help
    descriptors = {d["id"]: d for d in run["tool"]["driver"]["rules"]}
    assert "CA101" in descriptors and "model collapse" in descriptors["CA101"]["help"]["text"]
    for res in run["results"]:
        assert run["tool"]["driver"]["rules"][res["ruleIndex"]]["id"] == res["ruleId"]


def test_sarif_points_at_flagged_records_with_lines_and_at_inputs():
    full = json.loads(FULL.read_text(encoding="utf-8"))
    full["rules"].append({"id": "CA501", "name": "eval-contamination", "metric": "contamination.eval_fraction",
                          "op": "max", "threshold": 0.0, "value": 1.0, "status": "fail", "severity": "error",
                          "message": "contaminated"})
    doc = json.loads(sarif.render(full))
    _validate(doc)
    res = next(x for x in doc["runs"][0]["results"] if x["ruleId"] == "CA501")
    first = res["locations"][0]["physicalLocation"]
    entry = full["details"]["contamination"]["contaminated"][0]
    # the training record that holds the eval text, as file:line
    assert first["artifactLocation"]["uri"] == entry["train_file"]
    assert first["region"]["startLine"] == entry["train_line"]
    artifacts = doc["runs"][0]["artifacts"]
    assert [a["location"]["uri"] for a in artifacts] == [i["path"] for i in full["inputs"]]


def test_sarif_artifacts_carry_size_and_sha256(result):
    doc = json.loads(sarif.render(result))
    a = doc["runs"][0]["artifacts"][0]
    assert a["length"] == result["inputs"][0]["size"]
    assert a["hashes"]["sha-256"] == result["inputs"][0]["fingerprint"]["value"]


def test_github_commands_escape_per_the_runner_rules():
    data = workflow_commands.escape_data("50% a\r\nb")
    assert data.startswith("50%25 a") and "\r" not in data and "\n" not in data
    assert workflow_commands.escape_property("50%: a, b") == "50%25%3A a%2C b"
    line = workflow_commands.command("error", "x%y", "CA101: a, b", "dir/a:b,c.jsonl", 12)
    assert line == "::error file=dir/a%3Ab%2Cc.jsonl,line=12,title=CA101%3A a%2C b::x%25y"


def test_github_one_annotation_per_rule_not_passing(result):
    out = render_result(result, "github").splitlines()
    failing = [r for r in result["rules"] if r["status"] != "pass"]
    assert len(out) == len(failing) + 1                    # + the verdict notice
    assert out[0].startswith("::error ") and "CA101" in out[0]
    assert any(line.startswith("::warning ") for line in out)
    assert out[-1].startswith("::notice ") and "FAIL" in out[-1]
    for line in out:                                       # one command per line, nothing can start another
        assert line.count("::") == 2


def test_github_data_cannot_inject_a_command(result):
    r = copy.deepcopy(result)
    r["rules"][0]["message"] = "x\n::set-env name=A::b"
    out = render_result(r, "github").splitlines()
    assert not any(line.startswith("::set-env") for line in out)
