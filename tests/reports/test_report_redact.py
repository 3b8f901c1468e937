"""`--redact`: a pure transform applied before every renderer, JSON included."""

from __future__ import annotations

import json

import pytest

from collapse_audit.errors import AuditError
from collapse_audit.reports.formats import FORMATS, render_result
from collapse_audit.reports.redact import redact, short_hash
from collapse_audit.result import ScanResult


def _excerpts(result: dict) -> list[str]:
    out = []

    def walk(n):
        if isinstance(n, dict):
            out.extend(v for k, v in n.items() if k == "excerpt" and isinstance(v, str) and v)
            for v in n.values():
                walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)

    walk(result["details"])
    return out


@pytest.mark.parametrize("fmt", FORMATS)
def test_excerpts_never_reach_any_format(result, fmt):
    texts = [t for t in _excerpts(result) if len(t) > 20]
    assert texts
    out = render_result(result, fmt, "excerpts")
    for t in texts:
        assert t[:20] not in out, fmt


def test_ids_mode_hashes_example_files_and_keeps_the_audit_trail(result):
    res = redact(ScanResult.from_dict(result), "ids")
    top = res.details["synthetic"]["top"][0]
    assert top["file"] == short_hash(result["details"]["synthetic"]["top"][0]["file"])
    assert "excerpt" not in top
    assert res.inputs[0].path == result["inputs"][0]["path"]          # what was audited stays provable
    assert res.run["redact"] == "ids"
    md = render_result(result, "markdown", "ids")
    assert "redacted" in md and short_hash("sample_data/web.jsonl") in md


def test_redact_is_pure(result):
    before = json.dumps(result, sort_keys=True)
    res = ScanResult.from_dict(result)
    redact(res, "ids")
    assert json.dumps(res.to_dict(), sort_keys=True) == json.dumps(ScanResult.from_dict(result).to_dict(),
                                                                  sort_keys=True)
    assert json.dumps(result, sort_keys=True) == before


def test_unknown_mode_is_a_user_error(result):
    with pytest.raises(AuditError, match="--redact"):
        render_result(result, "html", "everything")


def test_cli_report_redacts(tmp_path):
    from report_fixtures import FIXTURE, run_cli

    out = tmp_path / "r.json"
    proc = run_cli("report", FIXTURE, "-f", "json", "--redact", "excerpts", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert not _excerpts(json.loads(out.read_text(encoding="utf-8")))
    bad = run_cli("report", FIXTURE, "--redact", "nope")
    assert bad.returncode == 2 and "--redact" in bad.stderr


@pytest.mark.parametrize("fmt", ("sarif", "github"))
def test_ids_mode_points_annotations_at_no_hashed_file(result, fmt):
    out = render_result(result, fmt, "ids")
    assert "h:" not in out and "h%3A" not in out
