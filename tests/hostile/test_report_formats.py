"""Report formats under hostile data: every data value stays inert in every format.

A corpus value can reach a CI log (``::error::``, ``##[group]`` at a line start starts a workflow
command), an XML parser (XML 1.0-illegal characters, ``]]>``), a Markdown or HTML renderer. Every
format must show such a value as the characters it is, decode back to it where the format is data
(JSON, SARIF), stay valid (SARIF 2.1.0 schema, JUnit XML) - and ``report`` must render only valid
result files.
"""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from helpers import run_cli, write_jsonl

from collapse_audit.reports.formats import FORMATS, render_result
from collapse_audit.reports.workflow_commands import escape_data
from collapse_audit.text.inert import log_inert

REPORTS = Path(__file__).resolve().parent.parent / "reports"
FIXTURE = REPORTS / "fixtures" / "result.json"
SARIF_SCHEMA = REPORTS / "data" / "sarif-schema-2.1.0.json"

CI = "::error file=x.py,line=1::pwned"
CI_LINES = "ok\n::warning::second line\r\n##[group]folded\n##vso[task.setvariable variable=x]1"
XML_BAD = "id]]><x>\x01\x0b\ufffe&amp;"
MARKUP = "<b>bold</b> **star** [link](javascript:x) | cell |"
#: valid-but-odd values that must come through unchanged where the format carries data
ODD = "naïve ☃ 𝔘 a:b c#d (x) 50%"


def _load() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def hostile_result() -> dict:
    r = _load()
    r["details"]["synthetic"]["top"][0]["excerpt"] = CI_LINES
    r["details"]["synthetic"]["top"][1]["provenance"] = CI
    r["details"]["synthetic"]["top"][2]["file"] = CI + ".jsonl"
    r["details"]["synthetic"]["top"][0]["id"] = XML_BAD
    r["details"]["provenance"]["values"][MARKUP] = 2
    r["details"]["provenance"]["values"][ODD] = 1
    r["inputs"][0]["path"] = "data/" + CI_LINES + ".jsonl"
    r["skipped_inputs"] = [{"path": "##[error]hidden", "reason": "hidden file"}]
    r["records"]["skipped_examples"][0]["file"] = XML_BAD
    groups = r["sources"]["groups"]
    groups[CI_LINES] = groups.pop("web-crawl")
    r["rules"][0]["message"] = "value in " + CI_LINES
    r["rules"][3]["where"] = {"source": CI}
    return r


def _commands(text: str) -> list[str]:
    """Lines a CI runner would read as a command: ``::`` at the (trimmed) line start, or ``##[`` /
    ``##vso[`` anywhere in a line."""
    return [ln for ln in re.split(r"\r\n|\r|\n", text) if ln.lstrip().startswith("::") or re.search(r"##(vso)?\[", ln)]


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "github"])
def test_no_data_value_becomes_a_ci_log_command(fmt):
    text = render_result(hostile_result(), fmt)
    assert _commands(text) == [], fmt


def test_github_annotations_carry_exactly_one_command_per_line():
    res = hostile_result()
    text = render_result(res, "github")
    lines = text.splitlines()
    assert _commands(text) == lines                      # every line is one of ours...
    not_passed = [r for r in res["rules"] if r["status"] != "pass"]
    assert len(lines) == len(not_passed) + 1             # ...one per rule that did not pass, and the verdict
    assert all(re.match(r"^::(error|warning|notice)( [^:]*)?::", ln) for ln in lines)
    assert all("##[" not in ln and "##vso[" not in ln for ln in lines)


def test_github_message_escaping():
    assert escape_data("a\nb%") == "a%0Ab%25"
    assert "\r" not in escape_data("a\rb")
    assert "##" not in escape_data("##[group]x")


@pytest.mark.parametrize("fmt", ["json", "sarif", "summary-json"])
def test_json_formats_decode_back_to_the_exact_values(fmt):
    text = render_result(hostile_result(), fmt)
    assert "##" not in text
    decoded = json.dumps(json.loads(text), ensure_ascii=False)
    if fmt == "json":
        again = json.loads(text)
        assert again["inputs"][0]["path"] == "data/" + CI_LINES + ".jsonl"
        assert again["skipped_inputs"][0]["path"] == "##[error]hidden"
        assert again["details"]["provenance"]["values"][ODD] == 1
    else:
        assert "##[error]hidden" in decoded or fmt == "summary-json" or "hidden" not in decoded


def test_sarif_is_valid_against_the_2_1_0_schema_with_hostile_data():
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    for res in (_load(), hostile_result()):
        doc = json.loads(render_result(res, "sarif"))
        jsonschema.Draft7Validator(schema).validate(doc)
        assert doc["version"] == "2.1.0"


def test_junit_is_well_formed_xml_with_illegal_characters_and_cdata_ends_in_ids():
    text = render_result(hostile_result(), "junit")
    root = ET.fromstring(text.encode("utf-8"))            # raises on any XML 1.0-illegal character
    everything = "".join(root.itertext()) + "".join(
        v for el in root.iter() for v in el.attrib.values())
    assert "]]>" in everything.replace("\u200b", "")    # the id's text survives as text
    assert "\x01" not in text and "\x0b" not in text and "\ufffe" not in text


def test_markdown_and_html_show_markup_as_text():
    md = render_result(hostile_result(), "markdown")
    assert "<b>bold" not in md and "**star**" not in md and "[link](javascript:" not in md
    assert r"&lt;b&gt;bold&lt;/b&gt; \*\*star\*\* \[link\](javascript:x) \| cell \|" in md
    html = render_result(hostile_result(), "html")
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html


def test_odd_but_valid_values_are_shown_as_they_are():
    r = _load()
    r["details"]["provenance"]["values"][ODD] = 1
    for fmt in ("table", "markdown", "html"):
        text = render_result(r, fmt)
        shown = text.replace("\u200b", "").replace("&#35;", "#").replace("&#58;", ":").replace("\\#", "#")
        assert "naïve ☃ 𝔘 a:b c#d" in shown, fmt


def test_log_inert_keeps_the_text_readable():
    assert log_inert("::error::x").replace("\u200b", "") == "::error::x"
    assert log_inert("a\nb") == "a\\nb"
    assert log_inert("plain: text # 1") == "plain: text # 1"


def test_console_table_of_a_real_scan_starts_no_command(tmp_path):
    recs = [{"id": f"::error::id{i}", "text": f"record {i} " + " ".join(f"w{i}_{k}" for k in range(30)),
             "provenance": "human", "source": CI_LINES if i % 2 else "##[group]s"} for i in range(60)]
    corpus = write_jsonl(tmp_path / "c.jsonl", recs)
    proc = run_cli("scan", corpus, "-q", "-w", "1", "--exit-zero")
    assert proc.returncode == 0, proc.stderr
    assert _commands(proc.stdout) == []
    assert _commands(proc.stderr) == []
    assert "group" in proc.stdout                        # the value is still shown


# ---- report renders only valid results ------------------------------------------------------------

def _write(tmp_path, name, doc) -> Path:
    p = tmp_path / name
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return p


def _one_error_line(proc, *names):
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("collapse-audit: error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for n in names:
        assert n in lines[0], lines[0]
    return lines[0]


def test_report_refuses_nan(tmp_path):
    text = FIXTURE.read_text(encoding="utf-8").replace('"total": 2000', '"total": NaN', 1)
    assert "NaN" in text
    bad = _write(tmp_path, "nan.json", text)
    _one_error_line(run_cli("report", bad, "-f", "html", "-o", tmp_path / "r.html"), str(bad), "NaN")
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize("mutate, key", [
    (lambda d: d["rules"][0].update(status="maybe"), "rules.0.status"),
    (lambda d: d.pop("verdict"), "verdict"),
    (lambda d: d.update(inputs=[1]), "inputs.0"),
    (lambda d: d["metrics"].update({"records.total": "many"}), "metrics"),
])
def test_report_refuses_a_result_the_schema_rejects(tmp_path, mutate, key):
    doc = _load()
    mutate(doc)
    bad = _write(tmp_path, "bad.json", doc)
    line = _one_error_line(run_cli("report", bad, "-f", "markdown"), str(bad), "schema result")
    assert key in line


def test_report_renders_a_valid_result_with_odd_values(tmp_path):
    doc = _load()
    doc["details"]["provenance"]["values"][ODD] = 1
    good = _write(tmp_path, "good.json", doc)
    proc = run_cli("report", good, "-f", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["details"]["provenance"]["values"][ODD] == 1


def test_report_of_a_hostile_but_valid_result_is_inert(tmp_path):
    good = _write(tmp_path, "hostile.json", hostile_result())
    proc = run_cli("report", good)
    assert proc.returncode == 0, proc.stderr
    assert _commands(proc.stdout) == []


# ---- help text ----------------------------------------------------------------------------------

def _commands_of(app):
    import typer.main

    root = typer.main.get_command(app)
    stack = [root]
    while stack:
        cmd = stack.pop()
        yield cmd
        if hasattr(cmd, "list_commands"):
            ctx = cmd.context_class(cmd)
            stack += [cmd.get_command(ctx, n) for n in cmd.list_commands(ctx)]


def test_no_help_text_is_eaten_as_rich_markup():
    """Typer renders help as Rich markup: a literal ``[tool.collapse-audit]`` must be escaped."""
    from rich.text import Text

    from collapse_audit.cli import app

    eaten = []
    for cmd in _commands_of(app):
        for text in [cmd.help or ""] + [getattr(p, "help", None) or "" for p in cmd.params]:
            if Text.from_markup(text).plain != text.replace("\\[", "["):
                eaten.append((cmd.name, text[:60]))
    assert eaten == []


def test_policy_help_keeps_the_pyproject_table_name():
    proc = run_cli("scan", "--help")
    assert proc.returncode == 0
    assert "[tool.collapse-audit]" in " ".join(proc.stdout.split())


def test_hostile_fixture_is_not_the_shared_one():
    assert hostile_result() != _load() and copy.deepcopy(_load()) == _load()
