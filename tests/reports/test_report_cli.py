"""`collapse-audit report` (re-render a saved result) and `collapse-audit init` (starter files)."""

from __future__ import annotations

import json

import pytest
import typer
import yaml
from report_fixtures import FIXTURE, run_cli, sample_paths

from collapse_audit.cli.init import init
from collapse_audit.cli.report import report
from collapse_audit.reports.formats import RENDERERS as FILE_RENDERERS
from collapse_audit.result import ScanResult
from collapse_audit.result import load_result as load_saved


def load_dict(path: str) -> dict:
    """A saved JSON result as the plain dict the renderers also accept."""
    return load_saved(path).to_dict()


def _report(path, fmt=None, output=None):
    return report(result_file=str(path), fmt=fmt, output=None if output is None else str(output), redact=None)


def _init(directory, data="data", skip_existing=False):
    return init(directory=str(directory), data=data, skip_existing=skip_existing, install=None)


def _exit_code(excinfo) -> int:
    return excinfo.value.exit_code


# ------------------------------------------------------------------------------------------ report


@pytest.mark.parametrize("fmt", sorted(FILE_RENDERERS))
def test_report_writes_exactly_the_renderer_output(tmp_path, fmt):
    out = tmp_path / f"out.{fmt}"
    _report(FIXTURE, fmt, out)
    expected = FILE_RENDERERS[fmt](load_dict(str(FIXTURE)))
    assert out.read_bytes() == expected.encode("utf-8")
    again = tmp_path / f"again.{fmt}"
    _report(FIXTURE, fmt, again)
    assert again.read_bytes() == out.read_bytes()


def test_report_json_round_trips(tmp_path):
    out = tmp_path / "copy.json"
    _report(FIXTURE, "json", out)
    expected = ScanResult.from_dict(json.loads(FIXTURE.read_text(encoding="utf-8"))).to_dict()
    assert json.loads(out.read_text(encoding="utf-8")) == expected


def test_report_infers_format_from_suffix(tmp_path):
    _report(FIXTURE, None, tmp_path / "r.html")
    _report(FIXTURE, None, tmp_path / "r.xml")
    _report(FIXTURE, None, tmp_path / "r.md")
    assert (tmp_path / "r.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert (tmp_path / "r.xml").read_text(encoding="utf-8").startswith("<?xml")
    assert (tmp_path / "r.md").read_text(encoding="utf-8").startswith("# collapse-audit")


def test_report_to_stdout(capsys):
    _report(FIXTURE, "markdown")
    assert capsys.readouterr().out == FILE_RENDERERS["markdown"](load_dict(str(FIXTURE)))


@pytest.mark.parametrize(
    "content,needle",
    [
        ({"schema_version": 99, "verdict": "pass"}, "has schema_version 99; this collapse-audit reads version 1"),
        ({"verdict": "pass"}, "no schema_version"),
        ("not json at all", "is not a readable collapse-audit JSON result"),
    ],
)
def test_report_rejects_unreadable_results(tmp_path, capsys, content, needle):
    bad = tmp_path / "bad.json"
    bad.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    with pytest.raises(typer.Exit) as exc:
        _report(bad, "html", tmp_path / "out.html")
    assert _exit_code(exc) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err
    assert not (tmp_path / "out.html").exists()


def test_report_missing_file_and_bad_format(tmp_path, capsys):
    with pytest.raises(typer.Exit) as exc:
        _report(tmp_path / "nope.json", "html", tmp_path / "o.html")
    assert _exit_code(exc) == 2 and "not found" in capsys.readouterr().err
    with pytest.raises(typer.Exit) as exc:
        _report(FIXTURE, "pdf", tmp_path / "o.pdf")
    assert _exit_code(exc) == 2 and "Unknown format 'pdf'" in capsys.readouterr().err
    with pytest.raises(typer.Exit) as exc:
        _report(FIXTURE, None, tmp_path / "o.weird")
    assert _exit_code(exc) == 2 and "--format" in capsys.readouterr().err


def test_report_command_line(tmp_path):
    out = tmp_path / "r.html"
    proc = run_cli("report", FIXTURE, "--format", "html", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert out.read_text(encoding="utf-8") == FILE_RENDERERS["html"](load_dict(str(FIXTURE)))
    bad = tmp_path / "v2.json"
    bad.write_text(json.dumps({"schema_version": 2}), encoding="utf-8")
    proc = run_cli("report", bad, "-f", "html", "-o", tmp_path / "x.html")
    assert proc.returncode == 2
    assert "schema_version 2" in proc.stderr and "Traceback" not in proc.stderr


def test_scan_and_report_render_the_same_bytes(tmp_path):
    """What `scan -f FMT` writes (rendered from the in-memory result) equals what `report` renders from
    the JSON `scan -f json` wrote for that same result: the JSON round trip loses nothing a report shows."""
    from collapse_audit.cli.render import render_result
    from collapse_audit.engine import ScanOptions, run_scan

    result = run_scan(ScanOptions(paths=sample_paths(), progress=False))
    saved = tmp_path / "result.json"
    saved.write_text(result.to_json(), encoding="utf-8")
    for fmt in ("html", "markdown", "junit", "summary", "summary-json"):
        direct = render_result(result, fmt)
        out = tmp_path / f"report.{fmt}"
        _report(saved, fmt, out)
        assert out.read_bytes() == direct.encode("utf-8"), fmt


def test_report_reproduces_html_and_markdown_from_scan_json(sample_scan_json, tmp_path):
    """The user-level flow: scan writes JSON once; report re-renders it, byte-identical every time."""
    result = load_dict(str(sample_scan_json))
    for fmt in ("html", "markdown"):
        a, b = tmp_path / f"a.{fmt}", tmp_path / f"b.{fmt}"
        for out in (a, b):
            proc = run_cli("report", sample_scan_json, "-f", fmt, "-o", out)
            assert proc.returncode == 0, proc.stderr
        assert a.read_bytes() == b.read_bytes() == FILE_RENDERERS[fmt](result).encode("utf-8")


# -------------------------------------------------------------------------------------------- init

INIT_FILES = ("collapse-audit.yaml", ".github/workflows/collapse-audit.yml", ".pre-commit-config.yaml")


def test_init_writes_three_files(tmp_path, capsys):
    _init(tmp_path, data="corpus/train")
    for rel in INIT_FILES:
        assert (tmp_path / rel).is_file(), rel
    out = capsys.readouterr().out
    assert "wrote collapse-audit.yaml" in out

    wf = yaml.safe_load((tmp_path / INIT_FILES[1]).read_text(encoding="utf-8"))
    steps = wf["jobs"]["audit"]["steps"]
    runs = "\n".join(s.get("run", "") for s in steps)
    assert "collapse-audit scan corpus/train --policy collapse-audit.yaml --format json" in runs
    assert "--format html --output collapse-audit.html" in runs
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    assert "collapse-audit.html" in upload["with"]["path"]

    hooks = yaml.safe_load((tmp_path / INIT_FILES[2]).read_text(encoding="utf-8"))["repos"][0]["hooks"]
    assert hooks[0]["id"] == "collapse-audit" and hooks[0]["args"][0] == "corpus/train"

    policy_text = (tmp_path / INIT_FILES[0]).read_text(encoding="utf-8")
    assert policy_text.count("\n#") >= 5  # commented
    policy = yaml.safe_load(policy_text)
    assert policy["version"] == 1 and {r["id"] for r in policy["rules"]} >= {"CA101", "CA201", "CA301"}


def test_starter_policy_loads_with_the_policy_loader(tmp_path):
    from collapse_audit.policy.load import load_policy

    _init(tmp_path)
    policy = load_policy(str(tmp_path / "collapse-audit.yaml"))
    assert [r.id for r in policy.rules][:3] == ["CA101", "CA103", "CA201"]


def test_init_refuses_to_overwrite(tmp_path, capsys):
    (tmp_path / "collapse-audit.yaml").write_text("mine\n", encoding="utf-8")
    with pytest.raises(typer.Exit) as exc:
        _init(tmp_path)
    assert _exit_code(exc) == 2
    err = capsys.readouterr().err
    assert "Refusing to overwrite collapse-audit.yaml" in err and "Traceback" not in err
    assert (tmp_path / "collapse-audit.yaml").read_text(encoding="utf-8") == "mine\n"
    assert not (tmp_path / ".github").exists() and not (tmp_path / ".pre-commit-config.yaml").exists()

    _init(tmp_path, skip_existing=True)
    assert (tmp_path / "collapse-audit.yaml").read_text(encoding="utf-8") == "mine\n"
    assert (tmp_path / ".pre-commit-config.yaml").is_file()
    assert "kept  collapse-audit.yaml" in capsys.readouterr().out

    with pytest.raises(typer.Exit):
        _init(tmp_path)  # everything exists now: still refuses


def test_init_quotes_odd_data_paths(tmp_path):
    _init(tmp_path, data="my data/*.jsonl")
    wf = yaml.safe_load((tmp_path / INIT_FILES[1]).read_text(encoding="utf-8"))
    assert "scan 'my data/*.jsonl' --policy" in "\n".join(s.get("run", "") for s in wf["jobs"]["audit"]["steps"])
    hooks = yaml.safe_load((tmp_path / INIT_FILES[2]).read_text(encoding="utf-8"))["repos"][0]["hooks"]
    assert hooks[0]["args"][0] == "my data/*.jsonl"


def test_init_command_line(tmp_path):
    proc = run_cli("init", tmp_path)
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("init", tmp_path)
    assert proc.returncode == 2 and "Refusing to overwrite" in proc.stderr


def test_scan_appends_markdown_to_github_step_summary(tmp_path):
    summary = tmp_path / "step_summary.md"
    out = tmp_path / "r.json"
    proc = run_cli(
        "scan", *sample_paths(), "-f", "json", "-o", out, "--quiet", env={"GITHUB_STEP_SUMMARY": str(summary)}
    )
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("# collapse-audit: ") and "## Rules" in text
    assert text == FILE_RENDERERS["markdown"](load_dict(str(out))) + "\n"
