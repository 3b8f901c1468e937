"""Every string that came from the dataset is escaped: a record containing markup shows as text."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest
from report_fixtures import XSS_PAYLOADS, parse_html

from collapse_audit.reports import html, junit, markdown, summary

#: the only elements the HTML report ever emits
ALLOWED_TAGS = {
    "dl",
    "dt",
    "dd",
    "details",
    "summary",
    "html",
    "head",
    "meta",
    "title",
    "link",
    "style",
    "body",
    "header",
    "main",
    "section",
    "footer",
    "div",
    "h1",
    "h2",
    "h3",
    "p",
    "span",
    "b",
    "code",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "figure",
    "figcaption",
    "svg",
    "desc",
    "line",
    "rect",
    "text",
}


def test_html_payloads_are_text_not_markup(hostile):
    page = html.render(hostile)
    doc = parse_html(page)
    assert {t for t, _ in doc.tags} <= ALLOWED_TAGS
    for tag, attrs in doc.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert "javascript:" not in " ".join(str(v) for v in attrs.values()), (tag, attrs)
    text = " ".join(" ".join(doc.text).split())
    for payload in XSS_PAYLOADS[:5]:
        assert " ".join(payload.split())[:60] in text, payload  # visible, verbatim, as text
    assert "<script>window.__xss" not in page
    assert "&lt;script&gt;window.__xss" in page


def test_html_escapes_quotes_and_ampersands(result):
    page = html.render(result)
    assert "&quot;today&quot;" in page and "&amp; get 10% off" in page
    assert "vendor-synth &lt;b&gt;&amp;co&lt;/b&gt;" in page  # a source name is data too
    assert "<b>&co</b>" not in page


def test_html_attribute_breakout_is_escaped(hostile):
    page = html.render(hostile)
    # the payload that tries to close an attribute ("><svg onload=...) never leaves its text node
    assert '"><svg onload' not in page
    assert "&quot;&gt;&lt;svg onload" in page


def test_control_and_bidi_characters_are_neutralised(result):
    result["details"]["synthetic"]["top"][0]["excerpt"] = "evil\u202egnp.exe \x00\x1b[31m red"
    for out in (html.render(result), markdown.render(result), junit.render(result)):
        assert "\u202e" not in out and "\x00" not in out and "\x1b" not in out


def test_markdown_payloads_cannot_inject_html_or_links(hostile):
    md = markdown.render(hostile)
    for needle in ("<script", "<img", "<svg", "<iframe"):
        assert needle not in md, needle
    assert not re.search(r"(?<!\\)\]\(", md), "an unescaped ]( would make a Markdown link"
    assert "\\[click\\](javascript:" in md
    assert "&lt;script&gt;window.\\_\\_xss" in md
    # table rows stay intact: a pipe inside an excerpt is escaped
    for line in md.splitlines():
        if line.startswith("| ") and "pipe" in line:
            assert "\\| pipe \\|" in line


def test_junit_payloads_are_xml_text(hostile):
    xml = junit.render(hostile)
    root = ET.fromstring(xml.encode("utf-8"))
    assert root.find(".//script") is None and root.find(".//img") is None
    failure = root.find(".//testcase/failure")
    assert failure is not None and "<script>window.__xss" in failure.get("message")  # as a plain string


def test_summary_payloads_are_escaped(hostile):
    md = summary.render_markdown(hostile)
    assert "<svg" not in md and "<script" not in md
    data = json.loads(summary.render_json(hostile))
    assert any(s["name"].startswith('"><svg') for s in data["data_sources"]["sources"])  # JSON keeps raw values


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_each_payload_in_each_excerpt_slot(result, payload):
    result["details"]["synthetic"]["top"][0]["excerpt"] = payload
    result["details"]["near_duplicates"]["largest"][0]["members"][0]["file"] = payload
    page = html.render(result)
    assert {t for t, _ in parse_html(page).tags} <= ALLOWED_TAGS
