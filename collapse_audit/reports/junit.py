"""JUnit XML: one test case per policy rule, so CI servers (GitLab, Jenkins, GitHub test reporters)
show rule results natively.

Mapping: a rule with status ``fail`` is a ``<failure>`` (type = its severity, message = the rule's
message, body = value, threshold, why, and example records); ``pass`` is a plain test case; ``warn``
(a failing rule whose severity is warning, which does not fail the verdict) passes, with the warning
in the test case's ``<system-out>`` so it is visible without turning the build red. Validated in the
test suite against the Jenkins xUnit plugin's ``junit-10.xsd``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime

from . import _common as c

# Characters XML 1.0 cannot carry at all (dataset excerpts can contain them).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _x(value) -> str:
    return _XML_ILLEGAL.sub("\ufffd", "" if value is None else str(value))


def _time(seconds) -> str:
    return f"{float(seconds):.3f}" if c._is_number(seconds) and seconds >= 0 else "0"


def _timestamp(started) -> str | None:
    """ISO-8601 without zone or fraction (the form Ant's schema accepts); None if unparseable."""
    if not isinstance(started, str):
        return None
    try:
        dt = datetime.fromisoformat(started.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt.strftime("%Y-%m-%dT%H:%M:%S")


def _classname(rule: dict) -> str:
    rid = str(rule.get("id") or "")
    family = f"CA{rid[2]}xx" if re.fullmatch(r"CA\d{3}", rid) else (str(rule.get("metric") or "rules").split(".")[0])
    return f"collapse-audit.{family}"


def _body(result: dict, rule: dict) -> str:
    lines = [str(rule.get("message", "")).strip()]
    lines.append(f"metric: {rule.get('metric', '')}")
    lines.append(f"value: {c.fmt_value(rule.get('metric'), rule.get('value'))} (raw {rule.get('value')!r})")
    lines.append(f"threshold: {c.fmt_threshold(rule)} (raw {rule.get('op')} {rule.get('threshold')!r})")
    if c.rule_scope(rule):
        lines.append(f"where: {c.rule_scope(rule)}")
    if rule.get("records_flagged") is not None:
        lines.append(f"records flagged: {rule['records_flagged']} (list them with --annotations)")
    why = c.rule_why(rule)
    if why:
        lines.append(f"why: {why}")
    examples = c.examples_for(result, rule.get("metric"))
    if examples:
        lines.append("examples:")
        for ex in examples:
            note = f" [{ex['note']}]" if ex.get("note") else ""
            lines.append(f"  {c.location(ex)}{note}: {c.excerpt(ex.get('excerpt'))}")
    return "\n".join(lines)


def _sources(result: dict) -> list[str]:
    headers, rows = c.source_table(result)
    if not rows:
        return []
    field = c.source_field(result)
    out = ["", f"per source ({field}):" if field else "per source:"]
    for row in rows:
        (_, name), (_, n), (_, share), *cells = row
        bits = [f"{c.fmt_number(n)} records ({c.fmt_pct(share)})"]
        bits += [f"{h.lower()} {c.fmt_value(m, v)}" for h, (m, v) in zip(headers[3:], cells)]
        out.append(f"  {name}: " + ", ".join(bits))
    return out


def render(result: dict) -> str:
    rules = c.rules(result)
    failures = sum(1 for r in rules if r.get("status") == "fail")
    duration = _time(c.get(result, "run", "duration_s"))
    suites = ET.Element(
        "testsuites",
        {
            "name": "collapse-audit",
            "tests": str(len(rules)),
            "failures": str(failures),
            "errors": "0",
            "time": duration,
        },
    )
    attrs = {
        "name": "collapse-audit policy",
        "tests": str(len(rules)),
        "failures": str(failures),
        "errors": "0",
        "skipped": "0",
        "time": duration,
    }
    ts = _timestamp(c.get(result, "run", "started"))
    if ts:
        attrs["timestamp"] = ts
    suite = ET.SubElement(suites, "testsuite", attrs)

    props = ET.SubElement(suite, "properties")
    tool = c.get(result, "tool", default={})
    prop_values = [
        ("verdict", c.verdict(result)),
        ("tool.version", tool.get("version") if isinstance(tool, dict) else None),
        ("policy.path", c.get(result, "policy", "path")),
        ("policy.sha256", c.get(result, "policy", "sha256")),
        (
            "detector",
            " ".join(str(x) for x in (c.get(result, "detector", "name"), c.get(result, "detector", "version")) if x),
        ),
        (
            "records.total",
            c.metric(result, "records.total")
            if c.metric(result, "records.total") is not None
            else c.get(result, "records", "total"),
        ),
        ("records.skipped", c.get(result, "records", "skipped")),
        ("inputs", ", ".join(str(i.get("path", "")) for i in c.inputs(result))),
    ]
    for name, value in prop_values:
        if value not in (None, ""):
            ET.SubElement(props, "property", {"name": name, "value": _x(value)})

    for rule in rules:
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "name": _x(c.rule_label(rule) + (f" [{c.rule_scope(rule)}]" if c.rule_scope(rule) else "")),
                "classname": _classname(rule),
                "time": "0",
            },
        )
        status = rule.get("status")
        if status == "fail":
            fail = ET.SubElement(
                case, "failure", {"type": _x(rule.get("severity") or "error"), "message": _x(rule.get("message", ""))}
            )
            fail.text = _x(_body(result, rule))
        elif status == "warn":
            out = ET.SubElement(case, "system-out")
            out.text = _x("WARNING: " + _body(result, rule))
        elif status != "pass":
            err = ET.SubElement(case, "error", {"type": "unknown-status", "message": _x(f"rule status {status!r}")})
            err.text = _x(_body(result, rule))

    summary = ET.SubElement(suite, "system-out")
    summary.text = _x("\n".join([f"verdict: {c.verdict(result)}. {c.verdict_sentence(result)}", *_sources(result)]))
    ET.indent(suites, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
