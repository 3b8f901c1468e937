"""JUnit XML: one test case per rule, failures carry the message, valid against Jenkins' junit-10.xsd.

The schema (tests/reports/data/junit-10.xsd) is the Jenkins xUnit plugin's JUnit schema (MIT,
Gregory Boissinot), the one pytest validates its own --junitxml output against.
"""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET

import pytest
from report_fixtures import JUNIT_XSD, minimal_variants

from collapse_audit.reports import junit

xmlschema = pytest.importorskip("xmlschema", reason="xmlschema (a test dependency) validates JUnit XML")


@pytest.fixture(scope="module")
def schema():
    return xmlschema.XMLSchema(str(JUNIT_XSD))


def test_validates_against_junit_xsd(schema, result):
    schema.validate(junit.render(result))


def test_hostile_and_minimal_results_validate(schema, hostile):
    schema.validate(junit.render(hostile))
    for _, res in minimal_variants():
        schema.validate(junit.render(res))


def test_xml_illegal_characters_are_replaced(schema, result):
    result["details"]["synthetic"]["top"][0]["excerpt"] = "nul\x00 bell\x07 esc\x1b ok"
    result["rules"][0]["message"] = "bad\x0b message"
    xml = junit.render(result)
    schema.validate(xml)
    ET.fromstring(xml.encode("utf-8"))


def test_one_testcase_per_rule_with_failures(result):
    root = ET.fromstring(junit.render(result).encode("utf-8"))
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [
        "CA101 synthetic-share-cap",
        "CA103 undeclared-synthetic",
        "CA201 near-duplicate-share",
        "CA202 exact-duplicate-share [source = vendor-synth <b>&co</b>]",
        "CA301 provenance-required",
        "CA402 distinct-bigram-floor",
    ]
    assert suite.get("tests") == "6" and suite.get("failures") == "3" and suite.get("errors") == "0"
    assert root.get("tests") == "6" and root.get("failures") == "3"
    by_id = {c.get("name").split()[0]: c for c in cases}
    fail = by_id["CA101"].find("failure")
    assert fail.get("message") == result["rules"][0]["message"]
    assert fail.get("type") == "error"
    assert "threshold: ≤ 30.0%" in fail.text and "sample_data/vendor.parquet row 5" in fail.text
    assert by_id["CA103"].find("failure") is None and len(by_id["CA103"]) == 0  # a pass is an empty test case
    warn = by_id["CA202"]
    assert warn.find("failure") is None and warn.find("system-out").text.startswith("WARNING: ")
    assert {c.get("classname") for c in cases} == {
        "collapse-audit.CA1xx",
        "collapse-audit.CA2xx",
        "collapse-audit.CA3xx",
        "collapse-audit.CA4xx",
    }
    assert suite.get("timestamp") == "2026-11-25T02:40:00"
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props["verdict"] == "fail" and props["records.total"] == "2000"
    assert "web-crawl | 1,200 | 60.0%" in suite.find("system-out").text


def test_passing_result_has_no_failures(result):
    r = copy.deepcopy(result)
    for rule in r["rules"]:
        rule["status"] = "pass"
    r["verdict"] = "pass"
    root = ET.fromstring(junit.render(r).encode("utf-8"))
    assert root.find(".//failure") is None and root.get("failures") == "0"


def test_unknown_status_is_an_error_case(schema, result):
    result["rules"][1]["status"] = "skipped-by-engine"
    xml = junit.render(result)
    schema.validate(xml)
    assert ET.fromstring(xml.encode("utf-8")).find(".//error").get("type") == "unknown-status"


def test_inconclusive_and_not_applicable_cases_are_valid(schema, result):
    r = copy.deepcopy(result)
    r["rules"][0]["status"] = "inconclusive"
    r["rules"][1]["status"] = "not_applicable"
    schema.validate(junit.render(r))
    r["policy"]["on_inconclusive"] = "warn"
    xml = junit.render(r)
    schema.validate(xml)
    suite = ET.fromstring(xml.encode("utf-8")).find("testsuite")
    assert suite.get("skipped") == "2"


def test_audit_trail_properties(result):
    suite = ET.fromstring(junit.render(result).encode("utf-8")).find("testsuite")
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props["inputs.0.fingerprint"] == "sha256:" + result["inputs"][0]["fingerprint"]["value"]
    assert props["inputs.0.size"] == str(result["inputs"][0]["size"])
    assert props["skipped_inputs.0"].startswith("sample_data/README.md")
    assert props["detector.applicability.state"] == "validated"
    assert props["detector.known_weak_spots"] == "non-English text; source code"
    assert props["seed"] == "0" and props["policy.sha256"] == result["policy"]["sha256"]
