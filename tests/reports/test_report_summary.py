"""Compliance summary (EU AI Act public training-content summary structure), Markdown and JSON."""

from __future__ import annotations

import copy
import json

from collapse_audit.reports import summary


def test_json_summary_fields(result):
    s = json.loads(summary.render_json(result))
    gi, ds, dp = s["general_information"], s["data_sources"], s["data_processing"]
    assert gi["modalities"] == ["text"]
    assert gi["training_data_size"] == {
        "records": 2000,
        "records_unreadable_skipped": 2,
        "tokens": 412345,
        "size_band": "Less than 1 billion tokens",
    }
    assert [(x["name"], x["records"], x["share"]) for x in ds["sources"]] == [
        ("web-crawl", 1200, 0.6),
        ("vendor-synth <b>&co</b>", 800, 0.4),
    ]
    syn = ds["synthetic_data"]
    assert syn["estimated_share"] == 0.3714 and syn["estimated_share_ci95"] == [0.3391, 0.4047]
    assert syn["declared_share"] == 0.3 and syn["detected_share"] == 0.375
    assert dp["licences"]["found"] == {"cc-by-4.0": 900, "cc0-1.0": 700, "proprietary": 350, "unknown": 50}
    assert dp["provenance"]["coverage"] == 0.975
    assert dp["deduplication"]["near_duplicate_share_remaining"] == 0.065
    assert dp["audit"]["verdict"] == "fail" and len(dp["audit"]["rules"]) == 6
    # what a scan cannot know is explicit, not invented
    assert gi["provider"] is None and dp["opt_outs_respected"] is None
    assert {
        "general_information.provider",
        "general_information.model",
        "data_processing.opt_outs_respected",
        "data_sources.sources[0].category",
    } <= set(s["to_complete"])


def test_markdown_summary_sections(result):
    md = summary.render_markdown(result)
    order = [
        "# Public summary of training content",
        "## 1. General information",
        "### 1.3 Modalities",
        "## 2. List of data sources",
        "### 2.5 Synthetic data",
        "## 3. Data processing aspects",
        "### 3.1 Respect of reservation of rights",
        "### 3.2 Removal of illegal content",
        "### 3.3 Other information",
    ]
    positions = [md.index(h) for h in order]
    assert positions == sorted(positions)
    assert "**37.1%** (95% interval 33.9%–40.5%)" in md
    assert "| web-crawl | 1,200 | 60.0% |" in md
    assert "| Size in tokens | 412,345 |" in md
    assert "| Provenance coverage (records with a provenance tag) | 97.5% |" in md
    assert "| proprietary | 350 | 17.5% |" in md
    assert "*To be completed by the provider.*" in md


def test_size_bands():
    assert summary._size_band(5e8) == "Less than 1 billion tokens"
    assert summary._size_band(2e12) == "1 billion to 10 trillion tokens"
    assert summary._size_band(2e13) == "More than 10 trillion tokens"
    assert summary._size_band(None) is None


def test_licence_allowlist_marks_outsiders(result):
    r = copy.deepcopy(result)
    r["policy"]["fields"]["license_allowlist"] = ["cc-by-4.0", "cc0-1.0"]
    r["metrics"]["provenance.disallowed_license_fraction"] = 0.2
    md = summary.render_markdown(r)
    assert "| proprietary | 350 | 17.5% | **no** |" in md and "| cc0-1.0 | 700 | 35.0% | yes |" in md
    assert "outside the allowlist: 20.0%" in md


def test_summary_without_measurements_says_so():
    md = summary.render_markdown({"schema_version": 1})
    assert "not measured" in md
    s = json.loads(summary.render_json({"schema_version": 1}))
    assert s["general_information"]["training_data_size"]["tokens"] is None
