"""Every file renderer: a pure, deterministic function of the result that tolerates missing parts."""

from __future__ import annotations

import copy
import json

import pytest
from report_fixtures import minimal_variants, parse_html

from collapse_audit.reports import github, html, junit, markdown, summary
from collapse_audit.reports.formats import RENDERERS as FILE_RENDERERS

RENDERERS = sorted((k, v) for k, v in FILE_RENDERERS.items() if k not in ("table", "json"))


def test_formats_mapping_covers_every_file_format():
    assert set(FILE_RENDERERS) >= {"markdown", "html", "junit", "summary", "summary-json"}
    assert all(callable(f) for f in FILE_RENDERERS.values())


@pytest.mark.parametrize("name,render", RENDERERS)
def test_deterministic_and_pure(name, render, result):
    before = json.dumps(result, sort_keys=True)
    first = render(result)
    assert isinstance(first, str) and first.endswith("\n")
    assert render(copy.deepcopy(result)) == first
    assert json.dumps(result, sort_keys=True) == before, "renderer mutated the result"
    # a JSON round trip (what `report` reads back) renders identically
    assert render(json.loads(json.dumps(result))) == first


@pytest.mark.parametrize("name,render", RENDERERS)
def test_only_the_run_section_carries_time(name, render, result):
    """Changing run.duration_s/argv/workers never changes more than the run fields rendered."""
    other = copy.deepcopy(result)
    other["run"]["argv"] = ["something", "else"]
    other["run"]["workers"] = 99
    assert render(other) == render(result)


@pytest.mark.parametrize("variant,res", minimal_variants(), ids=[v for v, _ in minimal_variants()])
@pytest.mark.parametrize("name,render", sorted(FILE_RENDERERS.items()))
def test_tolerates_missing_optional_parts(name, render, variant, res):
    out = render(res)
    assert out.strip()


@pytest.mark.parametrize("name,render", [r for r in RENDERERS if r[0] not in ("summary-json", "sarif", "github")])
def test_per_source_breakdown_in_every_format(name, render, result):
    out = render(result)
    assert "web-crawl" in out
    assert "vendor-synth" in out
    # the vendor's synthetic share (74.8%) shows up as a number in every human format
    assert "74.8%" in out


def test_summary_json_has_sources(result):
    data = json.loads(summary.render_json(result))
    names = [s["name"] for s in data["data_sources"]["sources"]]
    assert names == ["web-crawl", "vendor-synth <b>&co</b>"]


def test_markdown_report_shape(result):
    md = markdown.render(result)
    lines = md.splitlines()
    assert lines[0] == "# collapse-audit: ❌ FAIL"
    assert "3 of 6 rules failed" in md
    # one table row per rule, with value and threshold as people read them
    assert "| ❌ fail | **CA101** synthetic\\-share\\-cap" not in md  # names are not over-escaped
    row = next(line for line in lines if "**CA101**" in line and line.startswith("|"))
    assert "37.1%" in row and "≤ 30.0%" in row
    assert "## Per source" in md and "## Audit trail" in md
    assert "sample\\_data/vendor.parquet row 5" in md  # file and 0-based row of a columnar example


def test_markdown_failures_list_why_and_examples(result):
    md = markdown.render(result)
    section = md.split("### What failed and where to look", 1)[1].split("\n## ", 1)[0]
    assert section.index("CA101") < section.index("CA202")  # failures before warnings
    assert "*Why:*" in section
    assert "sample\\_data/web.jsonl:10" in section  # the untagged record behind CA301: row 9 is line 10


def test_html_has_verdict_rules_charts_and_examples(result):
    page = html.render(result)
    assert page.startswith("<!DOCTYPE html>")
    assert page.index('class="verdict fail"') < page.index('id="rules"') < page.index('id="charts"')
    assert '<div class="badge">FAIL</div>' in page
    for rule in result["rules"]:
        assert f"<b>{rule['id']}</b>" in page
    assert "Why: " in page
    assert page.count("<svg ") == 4                      # three charts and the applicability figure
    assert 'id="fit-figure"' in page
    assert 'id="chart-synthetic"' in page and 'id="chart-clusters"' in page and 'id="chart-sources"' in page
    assert 'class="thr"' in page and "threshold 0.5" in page  # threshold marked on the histogram
    assert "sample_data/vendor.parquet row 5" in page


def test_html_is_self_contained(result):
    page = html.render(result)
    doc = parse_html(page)
    tags = {t for t, _ in doc.tags}
    assert not tags & {"script", "img", "iframe", "object", "embed", "a", "form", "base"}
    for tag, attrs in doc.tags:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            if name in ("src", "href", "action", "data", "srcset", "poster"):
                assert tag == "link" and attrs.get("rel") == "icon" and value == "data:,", (tag, name, value)
            if name == "xmlns":
                continue
            assert "http:" not in (value or "") and "https:" not in (value or ""), (tag, name, value)
    css = "".join(doc.text)
    assert "@import" not in css and "url(" not in css
    assert "default-src 'none'" in page  # CSP: nothing may load or run


def test_html_charts_degrade_when_data_is_missing(result):
    r = copy.deepcopy(result)
    del r["details"]["synthetic"]
    del r["sources"]
    page = html.render(r)
    assert page.count("<svg ") == 1 and 'id="chart-clusters"' in page


def test_cluster_size_chart_buckets_long_tails(result):
    r = copy.deepcopy(result)
    r["details"]["near_duplicates"]["cluster_sizes"] = {str(s): 1 for s in range(2, 400)}
    page = html.render(r)
    assert "101+" in page and "6–10" in page


def test_step_summary_appends_markdown(tmp_path, result, monkeypatch):
    target = tmp_path / "summary.md"
    target.write_text("previous step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(target))
    assert github.write_step_summary(result) is True
    text = target.read_text(encoding="utf-8")
    assert text.startswith("previous step\n# collapse-audit: ❌ FAIL")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY")
    assert github.write_step_summary(result) is False


def test_step_summary_stays_under_githubs_limit(result):
    r = copy.deepcopy(result)
    r["metrics"].update({f"diversity.m{i}": i for i in range(40000)})
    text = github.render(r)
    assert len(text.encode("utf-8")) <= github.MAX_BYTES
    assert "CA101" in text and "web-crawl" in text


def test_junit_renderer_exported(result):
    assert junit.render(result).startswith('<?xml version="1.0" encoding="UTF-8"?>')
