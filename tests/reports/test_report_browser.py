"""The HTML report in a real headless browser (Debian's chromium via chromedriver).

Fails, saying what to install, when /usr/bin/chromium or chromedriver is absent (a browser test that
skipped silently in CI would prove nothing); `scripts/install-test-deps.sh` (run as root) installs them.
Contributors without a browser set COLLAPSE_AUDIT_SKIP_BROWSER=1 to skip it; CI never does. Set
COLLAPSE_AUDIT_SCREENSHOT=PATH to keep the screenshot of the sample scan's report (that is how
docs/report-screenshot.png is made).
"""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path

import pytest
from report_browser import SKIP_ENV, Browser, find_browser
from report_fixtures import XSS_PAYLOADS

from collapse_audit.reports import html

CHROMIUM, DRIVER, MISSING = find_browser()
SKIPPED = os.environ.get(SKIP_ENV) == "1"
pytestmark = pytest.mark.skipif(SKIPPED, reason=f"{SKIP_ENV}=1: the browser test is skipped")

PROBE = """
const q = s => document.querySelectorAll(s);
const boxes = Array.from(q('#charts svg')).map(e => e.getBoundingClientRect().height);
return {
  xss: window.__xss === undefined ? null : String(window.__xss),
  title: document.title,
  active: q('script, iframe, img, object, embed, a[href], form, base').length,
  badge: (document.querySelector('header.verdict .badge') || {}).innerText || null,
  badgeTop: document.querySelector('header.verdict').getBoundingClientRect().top,
  charts: boxes,
  rules: q('#rules tbody tr').length,
  text: document.body.innerText,
};
"""


@pytest.fixture(scope="module")
def browser():
    if MISSING:
        pytest.fail(MISSING, pytrace=False)
    b = Browser(CHROMIUM, DRIVER, width=1280, height=1100)
    try:
        yield b
    finally:
        b.close()


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", png[16:24])


def _open(browser: Browser, page: str, path: Path) -> dict:
    path.write_text(page, encoding="utf-8")
    browser.console()  # drop entries from earlier pages
    browser.open(path)
    return browser.execute(PROBE)


def _errors(browser: Browser) -> list[dict]:
    return [e for e in browser.console() if e.get("level") in ("SEVERE", "ERROR", "WARNING")]


def _screenshot(browser: Browser, out: Path) -> bytes:
    """Screenshot sized to hold the verdict, the rules and all the charts."""
    bottom, chrome = browser.execute(
        "return [(document.querySelector('#charts') || document.querySelector('#rules'))"
        ".getBoundingClientRect().bottom,"
        " window.outerHeight - window.innerHeight];"
    )
    browser.resize(1280, int(bottom) + 24 + int(chrome))
    png = browser.screenshot(out)
    width, height = _png_size(png)
    assert width >= 1000 and height >= bottom, (width, height, bottom)
    return png


def test_report_renders_without_console_errors(browser, result, tmp_path):
    info = _open(browser, html.render(result), tmp_path / "report.html")
    assert _errors(browser) == []
    assert browser.alert_text() is None
    assert info["badge"] == "FAIL" and info["badgeTop"] <= 1  # verdict first, at the top
    assert info["rules"] == len(result["rules"])
    assert len(info["charts"]) == 3 and all(h > 80 for h in info["charts"]), info["charts"]
    assert "<script>alert(1)</script> As an AI language model" in info["text"]  # the fixture's record, as text
    assert info["xss"] is None and info["active"] == 0

    png = _screenshot(browser, tmp_path / "report.png")
    assert len(png) > 20_000  # not a blank page

    pdf = browser.print_pdf()
    assert pdf.startswith(b"%PDF")


@pytest.mark.parametrize("with_csp", [True, False], ids=["with-csp", "escaping-alone"])
def test_injected_records_stay_inert(browser, hostile, tmp_path, with_csp):
    page = html.render(hostile)
    if not with_csp:
        # prove escaping alone keeps records inert, without the Content-Security-Policy backstop
        start = page.index('<meta http-equiv="Content-Security-Policy"')
        page = page[:start] + page[page.index(">", start) + 1 :]
        assert "Content-Security-Policy" not in page
    info = _open(browser, page, tmp_path / "hostile.html")
    assert browser.alert_text() is None
    assert info["xss"] is None, f"a record executed: {info['xss']}"
    assert info["title"].startswith("collapse-audit: FAIL") and "PWNED" not in info["title"]
    assert info["active"] == 0
    text = " ".join(info["text"].split())
    for payload in XSS_PAYLOADS[:5]:
        assert " ".join(payload.split())[:50] in text
    assert _errors(browser) == []


def test_sample_scan_report_in_browser(browser, sample_scan_json, tmp_path):
    from collapse_audit.result import load_result

    result = load_result(str(sample_scan_json)).to_dict()
    info = _open(browser, html.render(result), tmp_path / "sample.html")
    assert _errors(browser) == []
    assert info["badge"] == result["verdict"].upper()
    assert info["xss"] is None and info["active"] == 0
    assert len(info["charts"]) >= 1
    shot = tmp_path / "sample.png"
    _screenshot(browser, shot)
    keep = os.environ.get("COLLAPSE_AUDIT_SCREENSHOT")
    if keep:
        shutil.copyfile(shot, keep)


def test_probe_detects_an_executing_record(browser, tmp_path):
    """Negative control: the same probe does see a script that runs, so the checks above mean something."""
    info = _open(
        browser,
        "<!DOCTYPE html><title>t</title><header class='verdict'><div class='badge'>X</div></header>"
        "<script>window.__xss='ran'; console.error('boom')</script>",
        tmp_path / "control.html",
    )
    assert info["xss"] == "ran"
    assert any("boom" in e.get("message", "") for e in _errors(browser))


LAYOUT = """
const vw = document.documentElement.clientWidth;
const wide = Array.from(document.querySelectorAll('header, main, section, footer'))
  .filter(e => e.scrollWidth > vw)
  .map(e => (e.id || e.tagName) + ':' + e.scrollWidth);
return {vw: vw, page: document.documentElement.scrollWidth, wide: wide,
        settle: document.querySelectorAll('aside.settle').length,
        plain: (document.querySelector('.applicability .plain') || {}).innerText || null,
        text: document.body.innerText};
"""


def _witnessed(result: dict) -> dict:
    """The sample result with two detector witnesses that disagree (the block the detector adds)."""
    out = dict(result)
    out["detector"] = {**result["detector"], "witnesses": {"count": 2, "agree": False, "list": [
        {"name": "default (classifier)", "estimate": 0.31, "ci_low": 0.24, "ci_high": 1.0, "scored": 329},
        {"name": "lm:smollm2 (zero-shot)", "estimate": 0.08, "ci_low": 0.03, "ci_high": 0.15, "scored": 329}],
        "families": {"human": 0.69, "chat": 0.31, "base": 0.0}}}
    return out


@pytest.mark.parametrize("width", [1280, 390])
def test_every_section_fits_the_viewport(browser, sample_scan_json, tmp_path, width):
    """No section is wider than the window on a desktop and on a phone: wide tables scroll inside
    their section. The screenshots in docs/ come from here (COLLAPSE_AUDIT_SCREENSHOT_DIR=docs)."""
    import json

    result = _witnessed(json.loads(sample_scan_json.read_text(encoding="utf-8")))
    page = tmp_path / f"report-{width}.html"
    page.write_text(html.render(result), encoding="utf-8")
    browser.resize(width, 1000)
    browser.open(page)
    info = browser.execute(LAYOUT)
    assert info["wide"] == [] and info["page"] <= info["vw"], info["wide"]
    assert _errors(browser) == []
    # one settle box, one plain sentence, both witnesses and whether they agree
    assert info["settle"] == 1 and info["text"].count("to settle it") == 0
    assert info["plain"] and info["plain"].startswith("The synthetic-share estimate is not validated")
    assert "The witnesses disagree" in info["text"] and "lm:smollm2" in info["text"]
    assert "exceeds the maximum 0: inconclusive" not in info["text"]
    height = browser.execute("return document.documentElement.scrollHeight;")
    browser.resize(width, min(int(height) + 120, 3200))  # the top of the page: verdict, rules, charts
    shot = tmp_path / f"report-{width}.png"
    png = browser.screenshot(shot)
    assert _png_size(png)[0] >= width * 0.9
    keep = os.environ.get("COLLAPSE_AUDIT_SCREENSHOT_DIR")
    if keep:
        shutil.copyfile(shot, Path(keep) / f"report-{width}px.png")
