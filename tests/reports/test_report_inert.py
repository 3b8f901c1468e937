"""Data values and file names are inert in every output: no markup, no escape sequence, no crash."""

from __future__ import annotations

import copy
import json

import pytest

from collapse_audit.reports.formats import FORMATS, render_result

HOSTILE = "[/] [bold]x \x1b[2J \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\ \u202eevil \ud800 | *b* <i>"


def hostile(result: dict) -> dict:
    r = copy.deepcopy(result)
    r["details"]["synthetic"]["top"][0]["excerpt"] = HOSTILE
    r["details"]["synthetic"]["top"][1]["file"] = "data/" + HOSTILE + ".jsonl"
    r["details"]["synthetic"]["top"][2]["provenance"] = HOSTILE
    groups = r["sources"]["groups"]
    groups[HOSTILE] = groups.pop("web-crawl")
    r["inputs"][0]["path"] = "data/" + HOSTILE + ".jsonl"
    r["skipped_inputs"] = [{"path": HOSTILE, "reason": "hidden file"}]
    r["records"]["skipped_examples"][0]["file"] = HOSTILE
    r["details"]["provenance"]["values"][HOSTILE] = 3
    r["rules"][0]["where"] = {"source": HOSTILE}
    r["rules"][0]["message"] = "value in " + HOSTILE
    return r


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_raw_escape_sequence_and_no_crash(result, fmt):
    out = render_result(hostile(result), fmt)
    out.encode("utf-8")                                  # no lone surrogate left
    assert "\x1b" not in out and "\u202e" not in out and "\x07" not in out
    assert "]8;;" not in out or "\x1b]8;;" not in out


@pytest.mark.parametrize("fmt", ("markdown", "summary"))
def test_markdown_escapes_table_and_markup(result, fmt):
    out = render_result(hostile(result), fmt)
    assert "<i>" not in out and "&lt;i&gt;" in out
    assert "\\| \\*b\\*" in out                                # a data pipe cannot split a table cell


def test_console_shows_rich_markup_literally(result):
    out = render_result(hostile(result), "table")
    assert "[/] [bold]x" in out                                # printed as characters, not parsed


def test_html_shows_control_characters_visibly(result):
    out = render_result(hostile(result), "html")
    assert "\\x1b[2J" in out and "\\u202e" in out


@pytest.mark.parametrize("fmt", ("json", "summary-json", "sarif"))
def test_json_formats_stay_valid_json(result, fmt):
    json.loads(render_result(hostile(result), fmt))
