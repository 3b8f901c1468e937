"""A check that flags records, written outside the package (``url_share.py``: one file, one
``@register_check``), appears everywhere a built-in check does with no other edit: the rule catalogue,
every report format, the annotations, the policy's JSON Schema, the sharded and Ray engines' results,
and ``filter`` removes the records it flags."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from helpers import REPO, words, write_jsonl

PLUGINS = Path(__file__).resolve().parent
LINKED = {3, 8, 21}


def run_plugged(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The real command line, with the plugin imported first (as an installed plugin would be)."""
    code = "import url_share; from collapse_audit.cli import main; main()"
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    env["PYTHONPATH"] = os.pathsep.join([str(PLUGINS), str(REPO), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=600)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    recs = [{"id": f"r{i}", "text": words(i, 40) + (f" see https://example.org/p{i}" if i in LINKED else ""),
             "provenance": "human"} for i in range(40)]
    write_jsonl(tmp_path / "data.jsonl", recs)
    (tmp_path / "policy.yaml").write_text(
        "fields: {text: text, id: id, provenance: provenance}\nlinks: {max_examples: 2}\n"
        "rules:\n  - {id: CA901, metric: links.url_share, max: 0.0, severity: error}\n", encoding="utf-8")
    return tmp_path


def test_the_rule_is_catalogued_and_its_options_are_in_the_schema(tmp_path):
    listed = run_plugged("rules", "list", cwd=tmp_path)
    assert listed.returncode == 0 and "CA901" in listed.stdout and "url-share" in listed.stdout
    schema = json.loads(run_plugged("schema", "policy", cwd=tmp_path).stdout)
    assert schema["properties"]["links"]["properties"]["max_examples"]["maximum"] == 50


def test_every_report_format_shows_it(corpus):
    done = run_plugged("scan", "data.jsonl", "-p", "policy.yaml", "-w", "1", "-q", "--format", "json",
                       "-o", "result.json", "--annotations", "ann.parquet", cwd=corpus)
    assert done.returncode == 1, done.stderr          # CA901 fails: three records hold a link
    result = json.loads((corpus / "result.json").read_text(encoding="utf-8"))
    assert result["metrics"]["links.url_count"] == 3
    assert [r["status"] for r in result["rules"] if r["id"] == "CA901"] == ["fail"]
    assert len(result["details"]["url_share"]["examples"]) == 2
    from collapse_audit.reports.formats import FORMATS

    for fmt in FORMATS:
        out = run_plugged("report", "result.json", "--format", fmt, cwd=corpus)
        assert out.returncode in (0, 1), (fmt, out.stderr)
        assert "CA901" in out.stdout or "Links" in out.stdout, fmt
    table = pq.read_table(corpus / "ann.parquet")
    assert [i for i, v in enumerate(table.column("has_url").to_pylist()) if v] == sorted(LINKED)
    assert [i for i, v in enumerate(table.column("issues").to_pylist()) if "CA901" in v] == sorted(LINKED)


def test_the_sharded_engine_runs_it(corpus):
    done = run_plugged("scan", "data.jsonl", "-p", "policy.yaml", "-w", "2", "--batch-size", "7", "-q",
                       "--format", "json", "-o", "result.json", cwd=corpus)
    assert done.returncode == 1, done.stderr
    assert json.loads((corpus / "result.json").read_text(encoding="utf-8"))["metrics"]["links.url_count"] == 3


def test_filter_removes_the_records_it_flags(corpus):
    done = run_plugged("filter", "data.jsonl", "-p", "policy.yaml", "-w", "1", "-q", "-o", "out", cwd=corpus)
    assert done.returncode == 0, done.stderr
    kept = [json.loads(line)["id"] for line in (corpus / "out" / "data.jsonl").read_text().splitlines()]
    assert kept == [f"r{i}" for i in range(40) if i not in LINKED]


def test_the_ray_engine_runs_it(corpus):
    pytest.importorskip("ray")
    done = run_plugged("scan", "data.jsonl", "-p", "policy.yaml", "--engine", "ray", "-w", "1", "-q",
                       "--format", "json", "-o", "result.json", cwd=corpus)
    assert done.returncode == 1, done.stderr
    result = json.loads((corpus / "result.json").read_text(encoding="utf-8"))
    assert result["run"]["engine"] == "ray" and result["metrics"]["links.url_count"] == 3
