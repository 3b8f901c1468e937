"""JUnit XML: one test case per policy rule, so CI servers (GitLab, Jenkins, GitHub test reporters)
show rule results natively.

Mapping: ``fail`` is a ``<failure>`` (type = severity); ``inconclusive`` is a ``<failure
type="inconclusive">`` when it counts against the verdict (policy ``on_inconclusive: fail``) and
``<skipped>`` otherwise; ``not_applicable`` is ``<skipped>`` with the reason; ``warn`` passes with the
warning in ``<system-out>``; ``pass`` is a plain test case. The audit trail (inputs with size and
fingerprint, skipped inputs, tool version, policy path/source/hash, seed, the detector's
applicability state, reason and calibration source, validated domains and weak spots) is in the
suite's ``<properties>``; every section of the report in its ``<system-out>``. Validated in the test
suite against the Jenkins xUnit plugin's ``junit-10.xsd``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

from ..result import ScanResult
from .view import (
    applicability,
    as_result,
    counts_against,
    flagged_records,
    inert,
    limit_text,
    location_text,
    page_sections,
    rule_label,
    rule_scope,
    rule_value_text,
    rule_why,
    section_text,
    verdict_sentence,
)

# Characters XML 1.0 cannot carry at all (inert() already makes controls visible; this is the backstop).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_LOG_COMMAND = re.compile(r"(?<=:)(?=:)|(?<=#)(?=#)")


def _x(value: Any) -> str:
    """Text for an XML attribute or element: XML 1.0-legal, inert, and no CI log command (a JUnit
    file's text is often echoed into a CI log). ElementTree escapes ``&``, ``<``, ``>`` and quotes,
    so ``]]>`` in an id is plain text."""
    return _XML_ILLEGAL.sub("\ufffd", _LOG_COMMAND.sub("\u200b", inert("" if value is None else value)))


def _x_multiline(lines: list[str]) -> str:
    return "\n".join(_x(line) for line in lines)


def _timestamp(started: Any) -> str | None:
    """ISO-8601 without zone or fraction (the form Ant's schema accepts); None if unparseable."""
    if not isinstance(started, str):
        return None
    try:
        return datetime.fromisoformat(started.replace("Z", "+00:00")).strftime("%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return None


def _classname(rule: Any) -> str:
    rid = str(rule.id or "")
    family = f"CA{rid[2]}xx" if re.fullmatch(r"CA\d{3}", rid) else (rule.metric or "rules").split(".")[0]
    return f"collapse-audit.{family}"


def _body(res: ScanResult, rule: Any) -> list[str]:
    lines = [rule.message.strip(), f"metric: {rule.metric}", f"value: {rule_value_text(rule)} (raw {rule.value!r})",
             f"threshold: {limit_text(rule)} (raw {rule.op} {rule.threshold!r})"]
    if rule.where:
        lines.append(f"where: {rule_scope(rule)}")
    if rule.records_flagged is not None:
        lines.append(f"records flagged: {rule.records_flagged} (list them with --annotations)")
    if rule_why(rule):
        lines.append(f"why: {rule_why(rule)}")
    examples = flagged_records(res, rule.metric)
    if examples:
        lines.append("examples:")
        lines += [f"  {location_text(ex)}: {' '.join(str(ex.get('excerpt') or '').split())[:160]}" for ex in examples]
    return lines


def properties(res: ScanResult) -> list[tuple[str, Any]]:
    """The audit trail as (name, value) pairs."""
    props: list[tuple[str, Any]] = [("verdict", res.verdict), ("tool.version", res.tool.get("version"))]
    for key in ("path", "source", "sha256", "on_inconclusive"):
        props.append((f"policy.{key}", res.policy.get(key)))
    props += [("seed", res.run.get("seed")),
              ("detector", " ".join(str(x) for x in (res.detector.get("name"), res.detector.get("version")) if x))]
    app = applicability(res)
    if app:
        props += [("detector.applicability.state", app["state"]), ("detector.applicability.reason", app["reason"]),
                  ("detector.calibration.source", app["calibration"])]
    det_section = next((s for s in page_sections(res, with_metrics=False) if s.key == "detector"), None)
    for t in det_section.tables if det_section else []:
        if t.title in ("Validated domains", "Known weak spots"):
            props.append(("detector." + t.title.lower().replace(" ", "_"), "; ".join(r[0] for r in t.rows)))
    props += [("records.total", res.records.get("total")), ("records.skipped", res.records.get("skipped"))]
    for i, inp in enumerate(res.inputs):
        props += [(f"inputs.{i}.path", inp.path), (f"inputs.{i}.records", inp.records), (f"inputs.{i}.size", inp.size)]
        if inp.fingerprint:
            props.append((f"inputs.{i}.fingerprint",
                          f"{inp.fingerprint.get('algorithm')}:{inp.fingerprint.get('value')}"))
    for i, sk in enumerate(res.skipped_inputs):
        props.append((f"skipped_inputs.{i}", f"{sk.path}: {sk.reason}"))
    return [(k, v) for k, v in props if v not in (None, "")]


def render(result: ScanResult | dict) -> str:
    """The result as JUnit XML, one test case per rule, so CI systems show rules as tests."""
    res = as_result(result)
    failures = sum(1 for r in res.rules if counts_against(res, r))
    skipped = sum(1 for r in res.rules if r.status in ("not_applicable", "inconclusive") and not counts_against(res, r))
    duration = res.run.get("duration_s")
    duration = f"{float(duration):.3f}" if isinstance(duration, (int, float)) and duration >= 0 else "0"
    n = str(len(res.rules))
    suites = ET.Element("testsuites", {"name": "collapse-audit", "tests": n, "failures": str(failures),
                                       "errors": "0", "time": duration})
    attrs = {"name": "collapse-audit policy", "tests": n, "failures": str(failures), "errors": "0",
             "skipped": str(skipped), "time": duration}
    ts = _timestamp(res.run.get("started"))
    if ts:
        attrs["timestamp"] = ts
    suite = ET.SubElement(suites, "testsuite", attrs)
    props = ET.SubElement(suite, "properties")
    for name, value in properties(res):
        ET.SubElement(props, "property", {"name": _x(name), "value": _x(value)})

    for rule in res.rules:
        scope = rule_scope(rule)
        case = ET.SubElement(suite, "testcase", {"name": _x(rule_label(rule) + (f" [{scope}]" if scope else "")),
                                                 "classname": _classname(rule), "time": "0"})
        body = _x_multiline(_body(res, rule))
        if rule.status == "fail" or counts_against(res, rule):
            kind = "inconclusive" if rule.status == "inconclusive" else (rule.severity or "error")
            el = ET.SubElement(case, "failure", {"type": _x(kind), "message": _x(rule.message)})
            el.text = body
        elif rule.status in ("inconclusive", "not_applicable"):
            label = "inconclusive" if rule.status == "inconclusive" else "not applicable"
            ET.SubElement(case, "skipped", {"message": _x(f"{label}: {rule.message}")})
            ET.SubElement(case, "system-out").text = body
        elif rule.status == "warn":
            ET.SubElement(case, "system-out").text = _x("WARNING: ") + body
        elif rule.status != "pass":
            el = ET.SubElement(case, "error", {"type": "unknown-status", "message": _x(f"rule status {rule.status!r}")})
            el.text = body

    lines = [f"verdict: {res.verdict}. {verdict_sentence(res)}", ""]
    for s in page_sections(res, with_metrics=False):
        lines += section_text(s) + [""]
    ET.SubElement(suite, "system-out").text = _x_multiline(lines)
    ET.indent(suites, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
