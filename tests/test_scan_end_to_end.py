"""The whole path on the bundled sample corpus and on a planted known-answer corpus."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from helpers import SAMPLE, run_cli, words, write_jsonl

from collapse_audit.result import ScanResult


def scan_json(*args):
    proc = run_cli("scan", *args, "-f", "json", "-q")
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


@pytest.fixture(scope="module")
def sample_scan(tmp_path_factory):
    ann = tmp_path_factory.mktemp("ann") / "a.parquet"
    code, result = scan_json(SAMPLE, "--annotations", ann, "--workers", "1")
    return code, result, pq.read_table(ann)


def test_sample_scan_fails_the_default_policy_for_visible_reasons(sample_scan):
    code, result, _ = sample_scan
    assert code == 1 and result["verdict"] == "fail"
    assert tuple(result) == tuple(ScanResult.from_dict(result).to_dict())
    status = {r["id"]: r["status"] for r in result["rules"]}
    assert status["CA101"] == "inconclusive"  # the 95% interval straddles the 30% cap
    assert status["CA301"] == "fail"      # 8 untagged records
    assert status["CA201"] == "fail"      # 18 planted duplicates of 329 > 5%
    m = result["metrics"]
    assert m["records.total"] == 329
    assert m["provenance.missing_count"] == 8
    assert m["duplicates.exact_count"] == 6
    assert m["duplicates.near_count"] >= 18
    assert abs(m["synthetic.declared_fraction"] - 80 / 329) < 1e-9
    assert m["synthetic.estimated_fraction_ci_low"] <= m["synthetic.estimated_fraction"] <= \
        m["synthetic.estimated_fraction_ci_high"]
    assert set(result["sources"]["groups"]) == {"web-crawl", "vendor-synth", "forum"}
    assert result["sources"]["groups"]["vendor-synth"]["records.total"] == 112


def test_annotations_one_row_per_record_in_input_order(sample_scan):
    _, result, table = sample_scan
    assert table.num_rows == result["records"]["total"]
    from collapse_audit.checks.registry import annotation_columns

    declared = [c.name for c in annotation_columns()]
    assert declared[:5] == ["exact_group", "near_cluster", "duplicate_of_row", "synthetic_score", "provenance"]
    assert table.column_names == ["file", "row", "id", *declared, "issues"]
    rows = table.to_pylist()
    crawl = [r for r in rows if r["file"].endswith("crawl.jsonl")]
    assert [r["row"] for r in crawl] == list(range(217))
    assert rows[217]["file"].endswith("vendor.parquet") and rows[217]["row"] == 0
    untagged = [r for r in rows if r["provenance"] is None]
    assert len(untagged) == 8 and all("CA301" in r["issues"] for r in untagged)
    dups = [r for r in rows if r["duplicate_of_row"] is not None]
    assert len(dups) == result["metrics"]["duplicates.near_count"]
    for r in dups:
        kept = rows[r["duplicate_of_row"]]
        assert kept["near_cluster"] == r["near_cluster"] and kept["duplicate_of_row"] is None
        assert "CA201" in r["issues"]
    scores = [r["synthetic_score"] for r in rows]
    assert all(s is not None and 0.0 <= s <= 1.0 for s in scores)


def test_same_input_gives_identical_json_apart_from_run(tmp_path):
    _, a = scan_json(SAMPLE, "--workers", "1")
    _, b = scan_json(SAMPLE, "--workers", "2", "--batch-size", "50")
    a.pop("run"), b.pop("run")
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_workers_give_identical_annotations(tmp_path):
    run_cli("scan", SAMPLE, "-q", "--workers", "1", "--annotations", tmp_path / "one.parquet")
    run_cli("scan", SAMPLE, "-q", "--workers", "2", "--batch-size", "37", "--annotations", tmp_path / "two.parquet")
    assert pq.read_table(tmp_path / "one.parquet").equals(pq.read_table(tmp_path / "two.parquet"))


def test_clean_corpus_passes_and_exits_zero(tmp_path):
    recs = [{"id": i, "text": words(i, 60), "provenance": "human", "source": "a"} for i in range(50)]
    path = write_jsonl(tmp_path / "clean.jsonl", recs)
    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\nrules:\n  - {id: CA201, max: 0.05}\n  - {id: CA301, max: 0.0}\n")
    proc = run_cli("scan", path, "-p", policy)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "VERDICT: PASS" in proc.stdout


def test_text_field_override_and_dotted_provenance(tmp_path):
    recs = [{"body": {"content": words(i)}, "meta": {"tag": "human"}} for i in range(10)]
    path = write_jsonl(tmp_path / "n.jsonl", recs)
    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\nfields: {provenance: meta.tag, id: null, source: null}\n"
                      "rules:\n  - {id: CA301, max: 0.0}\n")
    proc = run_cli("scan", path, "-p", policy, "--text-field", "body.content", "-f", "json", "-q")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["metrics"]["provenance.missing_count"] == 0


def test_policy_file_in_working_directory_is_picked_up(tmp_path, clean_corpus):
    (tmp_path / "collapse-audit.yaml").write_text("version: 1\nrules:\n  - {id: CA202, max: 0.0}\n")
    proc = run_cli("scan", clean_corpus, "-f", "json", "-q", cwd=tmp_path)
    result = json.loads(proc.stdout)
    assert [r["id"] for r in result["rules"]] == ["CA202"]
    assert result["policy"]["path"] == "collapse-audit.yaml"
    assert result["policy"]["source"] == "discovered"


def test_sample_bounds_the_detector(tmp_path):
    recs = [{"id": i, "text": words(i), "provenance": "human"} for i in range(300)]
    path = write_jsonl(tmp_path / "c.jsonl", recs)
    _, result = scan_json(path, "--sample", "40")
    assert result["metrics"]["synthetic.scored"] == 40
    assert result["detector"]["scored"] == 40
    _, again = scan_json(path, "--sample", "40", "--workers", "2", "--batch-size", "7")
    assert again["metrics"] == result["metrics"]
