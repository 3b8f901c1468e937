"""Hostile output paths of a scan beyond -o/--annotations: the GitHub job summary and the Python API,
and an unreadable eval-set record (what --max-bad-records can and cannot tolerate)."""

from __future__ import annotations

import pytest
from helpers import run_cli, write_jsonl

from collapse_audit.errors import AuditError

from .refusals import assert_refused, corpus, sha


def test_a_job_summary_pointing_at_the_corpus_is_refused_and_the_corpus_kept(tmp_path):
    c = corpus(tmp_path / "c.jsonl")
    before = sha(c)
    assert_refused(run_cli("scan", c, "-q", env={"GITHUB_STEP_SUMMARY": str(c)}), "is the input file", str(c))
    assert sha(c) == before


def test_the_api_refuses_annotations_or_accept_output_onto_an_input(tmp_path):
    import collapse_audit

    c = corpus(tmp_path / "c.jsonl")
    before = sha(c)
    with pytest.raises(AuditError, match="is the input file"):
        collapse_audit.scan(str(c), annotations=str(c), workers=1)
    pol = tmp_path / "p.yaml"
    pol.write_text("rules:\n  - {id: CA301, max: 0.0}\n")
    with pytest.raises(AuditError, match="is the input file"):
        collapse_audit.scan(str(c), policy=str(pol), write_accept=str(pol), workers=1)
    assert sha(c) == before and pol.read_text().startswith("rules:")


def test_an_unreadable_eval_set_record_says_what_to_do(tmp_path):
    c = corpus(tmp_path / "c.jsonl")
    ev = write_jsonl(tmp_path / "eval.jsonl", [{"text": "fine"}, {"text": 5}])
    proc = run_cli("scan", c, "--eval-set", ev, "--max-bad-records", "5", "-q")
    assert_refused(proc, f"{ev}, line 2", "applies to the corpus only")
    assert "use --max-bad-records" not in proc.stderr


# ---- valid but odd --------------------------------------------------------------------------------

def test_a_job_summary_in_a_new_file_is_appended(tmp_path):
    c = corpus(tmp_path / "c.jsonl")
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    proc = run_cli("scan", c, "-q", "-f", "json", "-o", tmp_path / "r.json", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert proc.returncode in (0, 1), proc.stderr
    text = summary.read_text()
    assert text.startswith("earlier step\n") and len(text) > 100


def test_the_api_writes_annotations_beside_the_input(tmp_path):
    import collapse_audit

    c = corpus(tmp_path / "c.jsonl")
    result = collapse_audit.scan(str(c), annotations=str(tmp_path / "ann.parquet"), workers=1)
    assert (tmp_path / "ann.parquet").exists() and result.records["total"] == 40
