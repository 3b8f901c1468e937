"""Every bad-input path exits 2 with one sentence naming the file and line/row, never a traceback."""

from __future__ import annotations

import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import run_cli, words, write_jsonl


def assert_user_error(proc, *fragments: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("collapse-audit: error: ")
    for frag in fragments:
        assert frag in lines[0], (frag, lines[0])
    assert proc.stdout == ""


def good(i: int) -> dict:
    return {"id": i, "text": words(i), "provenance": "human"}


@pytest.mark.parametrize("bad_line, reason", [
    ('{"id": 1, "text": "unterminated', "invalid JSON"),
    ('{"id": 1, "body": "no text field"}', "text field 'text' is missing"),
    ('{"id": 1, "text": 42}', "text field 'text' is int, not a string"),
    ('["not", "an", "object"]', "expected a JSON object"),
])
def test_bad_jsonl_line_names_file_and_line(tmp_path, bad_line, reason):
    path = write_jsonl(tmp_path / "c.jsonl", [good(0), good(1), bad_line, good(3)])
    assert_user_error(run_cli("scan", path), f"{path}, line 3", reason, "--max-bad-records")


def test_non_utf8_bytes(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_bytes(json.dumps(good(0)).encode() + b"\n" + b'{"text": "caf\xe9"}\n')
    assert_user_error(run_cli("scan", path), f"{path}, line 2", "not valid UTF-8")


def test_truncated_gzip(tmp_path):
    path = tmp_path / "c.jsonl.gz"
    data = gzip.compress("".join(json.dumps(good(i)) + "\n" for i in range(200)).encode())
    path.write_bytes(data[: len(data) // 2])
    assert_user_error(run_cli("scan", path), str(path), "truncated or corrupt")


def test_corrupt_parquet(tmp_path):
    path = tmp_path / "c.parquet"
    pq.write_table(pa.table({"text": [words(i) for i in range(50)]}), path)
    raw = path.read_bytes()
    path.write_bytes(raw[:-20])  # destroy the footer
    assert_user_error(run_cli("scan", path), str(path), "not a readable Parquet file")


def test_parquet_null_text_names_row(tmp_path):
    path = tmp_path / "c.parquet"
    texts = [words(i) for i in range(10)]
    texts[7] = None
    pq.write_table(pa.table({"text": texts, "provenance": ["human"] * 10}), path)
    assert_user_error(run_cli("scan", path), f"{path}, row 7", "is null")


def test_parquet_text_column_wrong_type(tmp_path):
    path = tmp_path / "c.parquet"
    pq.write_table(pa.table({"text": list(range(10))}), path)
    assert_user_error(run_cli("scan", path), str(path), "not a string")


def test_parquet_missing_text_column(tmp_path):
    path = tmp_path / "c.parquet"
    pq.write_table(pa.table({"body": ["x"] * 3}), path)
    assert_user_error(run_cli("scan", path), str(path), "no column 'text'")


def test_missing_path(tmp_path):
    assert_user_error(run_cli("scan", tmp_path / "nope.jsonl"), "not found", "nope.jsonl")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    assert_user_error(run_cli("scan", path), "No records found", str(path))


def test_directory_without_inputs(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    assert_user_error(run_cli("scan", tmp_path), "No data files found", str(tmp_path))


def test_unsupported_file_type(tmp_path):
    path = tmp_path / "data.txt"
    path.write_text("text\nhello\n")
    assert_user_error(run_cli("scan", path), str(path), "not a supported input")


def test_policy_yaml_error_names_line(tmp_path, clean_corpus):
    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\nrules:\n  - {id: CA101, max: 0.3\n  - oops: [\n")
    assert_user_error(run_cli("scan", clean_corpus, "-p", policy), f"{policy}:", "not valid YAML")


def test_policy_unknown_metric_names_line(tmp_path, clean_corpus):
    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\nrules:\n  - {id: CA101, max: 0.3}\n"
                      "  - {id: X1, metric: synthetic.estimated_fractoin, max: 0.3}\n")
    assert_user_error(run_cli("scan", clean_corpus, "-p", policy), f"{policy}:4",
                      "unknown metric 'synthetic.estimated_fractoin'")


def test_policy_unknown_field_key_names_line(tmp_path, clean_corpus):
    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\nfields:\n  text: text\n  provenence: tag\n")
    assert_user_error(run_cli("scan", clean_corpus, "-p", policy), f"{policy}:4", "unknown key 'provenence'")


def test_policy_missing_file(tmp_path, clean_corpus):
    assert_user_error(run_cli("scan", clean_corpus, "-p", tmp_path / "none.yaml"), "Policy file not found")


def test_max_bad_records_tolerates_and_reports(tmp_path):
    path = write_jsonl(tmp_path / "c.jsonl", [good(0), "{broken", good(2), '{"text": null}', good(4)])
    proc = run_cli("scan", path, "-f", "json", "--max-bad-records", "2", "-q")
    assert proc.returncode in (0, 1), proc.stderr
    result = json.loads(proc.stdout)
    assert result["records"]["total"] == 3
    assert result["metrics"]["records.total"] == 3
    assert result["records"]["skipped"] == 2
    where = [(e["location"], e["reason"]) for e in result["records"]["skipped_examples"]]
    assert where[0][0] == "line 2" and "invalid JSON" in where[0][1]
    assert where[1][0] == "line 4" and "missing" in where[1][1]
    assert result["inputs"][0]["skipped"] == 2


def test_max_bad_records_exceeded(tmp_path):
    path = write_jsonl(tmp_path / "c.jsonl", [good(0), "{broken", "{broken", good(3)])
    assert_user_error(run_cli("scan", path, "--max-bad-records", "1"), "More than 1 unreadable", "line 3")


def test_unknown_detector(clean_corpus):
    proc = run_cli("scan", clean_corpus, "--detector", "nonsense")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "nonsense" in proc.stderr


def test_unknown_format(clean_corpus):
    assert_user_error(run_cli("scan", clean_corpus, "-f", "pdf"), "Unknown format 'pdf'")


def test_inputs_are_never_modified(tmp_path, clean_corpus):
    before = clean_corpus.read_bytes()
    run_cli("scan", clean_corpus, "--annotations", tmp_path / "a.parquet")
    assert clean_corpus.read_bytes() == before
