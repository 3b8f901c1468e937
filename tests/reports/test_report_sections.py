"""Every check's findings reach every human format through the generic sections; statuses and
numbers render the same way everywhere."""

from __future__ import annotations

import copy
import json
from html import escape as html_escape

import pytest
from report_fixtures import HERE

from collapse_audit.reports import console, html, junit, markdown
from collapse_audit.reports.formats import render_result
from collapse_audit.reports.view import check_sections, value_text

FULL = HERE / "fixtures" / "full_result.json"   # a real scan with --baseline and --eval-set
HUMAN = ("table", "markdown", "html", "junit")


@pytest.fixture
def full() -> dict:
    return json.loads(FULL.read_text(encoding="utf-8"))


def _shown(fmt: str, text: str) -> str:
    """How a plain string appears in a format."""
    if fmt == "markdown":
        return markdown.md(text)
    if fmt == "html":
        return html_escape(text)
    return text


@pytest.mark.parametrize("fmt", ("table", "markdown", "html", "junit"))
def test_every_check_section_reaches_the_format(full, fmt):
    """Each check's section (title, facts, first row of each table) is drawn, contamination and drift included."""
    out = render_result(full, fmt)
    sections = check_sections(full["details"], full["metrics"])
    assert {"contamination", "drift", "diversity"} <= {s.key for s in sections}
    for s in sections:
        assert _shown(fmt, s.title) in out, (fmt, s.key)
        for label, value in s.facts:
            assert _shown(fmt, value) in out, (fmt, s.key, label)
        for t in s.tables:
            for cell in t.rows[0] if t.rows else []:
                if len(cell) <= 24:        # long cells wrap in the console
                    assert _shown(fmt, cell) in out, (fmt, s.key, cell)


@pytest.mark.parametrize("fmt", ("table", "markdown", "html"))
def test_contamination_lists_each_eval_record_and_its_training_record(full, fmt):
    out = render_result(full, fmt)
    for entry in full["details"]["contamination"]["contaminated"]:
        assert _shown(fmt, entry["eval_file"]) in out and _shown(fmt, entry["train_file"]) in out
        assert _shown(fmt, f":{entry['train_row']}") in out or _shown(fmt, f":{entry['train_line']}") in out


def _with_statuses(result: dict) -> dict:
    r = copy.deepcopy(result)
    r["rules"][0].update(status="inconclusive", message="interval straddles the cap; calibrate to settle it")
    r["rules"][1].update(status="not_applicable", message="no record is tagged, nothing to judge")
    return r


@pytest.mark.parametrize("fmt", HUMAN + ("summary",))
def test_inconclusive_and_not_applicable_never_read_as_pass(result, fmt):
    out = render_result(_with_statuses(result), fmt)
    if fmt != "summary":
        assert "INCONCLUSIVE" in out or "inconclusive" in out
        assert "N/A" in out or "not applicable" in out


def test_status_words_in_each_format(result):
    r = _with_statuses(result)
    md = markdown.render(r)
    row0 = next(line for line in md.splitlines() if line.startswith("|") and f"**{r['rules'][0]['id']}**" in line)
    assert "INCONCLUSIVE" in row0 and "PASS" not in row0
    page = html.render(r)
    assert '<span class="pill inconclusive">INCONCLUSIVE</span>' in page
    assert '<span class="pill not_applicable">N/A</span>' in page
    text = console.render_text(r)
    assert "INCONCLUSIVE" in text and "N/A" in text
    assert "1 inconclusive" in md and "1 not applicable" in md


def test_junit_inconclusive_follows_the_policy(result):
    import xml.etree.ElementTree as ET

    r = _with_statuses(result)
    r["rules"][0]["severity"] = "error"
    cases = ET.fromstring(junit.render(r)).iter("testcase")
    first, second = next(cases), next(cases)
    assert first.find("failure").get("type") == "inconclusive"        # default on_inconclusive: fail
    assert second.find("skipped").get("message").startswith("not applicable")
    r["policy"]["on_inconclusive"] = "warn"
    first = next(ET.fromstring(junit.render(r)).iter("testcase"))
    assert first.find("failure") is None and first.find("skipped") is not None


@pytest.mark.parametrize("fmt", HUMAN)
def test_an_undeclared_metric_is_formatted_the_same_everywhere(result, fmt):
    """No kind guessed from the name: `pii.email_share` reads the same in every format."""
    r = copy.deepcopy(result)
    r["rules"][0].update(metric="pii.email_share", value=0.034, threshold=0.01)
    r["metrics"]["pii.email_share"] = 0.034
    expected = value_text("pii.email_share", 0.034)
    assert expected in render_result(r, fmt)
    assert ("3.4%" in render_result(r, fmt)) == (expected == "3.4%")


@pytest.mark.parametrize("fmt", HUMAN + ("summary",))
def test_audit_trail_on_the_page(result, fmt):
    out = render_result(result, fmt)
    inp = result["inputs"][0]
    value = inp["fingerprint"]["value"]
    assert (value[:40] if fmt == "table" else value) in out     # the console folds long cells
    assert "README" in out and "unsupported suffix" in out          # a file the scan did not read
    if fmt != "summary":
        assert result["policy"]["sha256"] in out
        assert "in the current directory" in out                      # where the policy was found
        assert "validated" in out and "score distribution fits" in out   # applicability state + reason
        assert "non-English text" in out and "Wikipedia" in out         # weak spots, validated domains
