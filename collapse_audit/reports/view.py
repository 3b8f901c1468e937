"""What every renderer shows, as renderer-neutral pieces built once from a ``ScanResult``.

A renderer draws the verdict, the rules and a list of ``Section``s; it never reaches into a check's
details. The sections are, in order: the detector (validation figures, applicability state, reason,
calibration source, validated domains and weak spots), the per-source breakdown, each check's own
section (from the check, via the registry), unreadable records, the audit trail (inputs with size and
fingerprint, skipped inputs, tool version, policy path/source/hash, seed) and all metrics.
Numbers become text only through ``result.formatting`` by the metric's declared kind. Strings here
are plain text; each renderer makes them inert and escapes them for its format.
"""

from __future__ import annotations

import re
from typing import Any

from ..result import ScanResult, Section, Table, fmt_metric, fmt_number, fmt_percent
from ..result.formatting import MISSING, fmt_interval
from ..result.locations import record_line, record_location
from .lookups import (
    check_of_metric,
    check_sections,
    inert,  # re-exported: renderers import it from here
    metric_kind,
    rule_rationales,
)

STATUS_LABEL = {"pass": "PASS", "fail": "FAIL", "warn": "WARN", "inconclusive": "INCONCLUSIVE",
                "not_applicable": "N/A"}
STATUS_ORDER = {"fail": 0, "inconclusive": 1, "warn": 2, "not_applicable": 3, "pass": 4}
EXAMPLE_LIMIT = 5
EXCERPT_CHARS = 160


def as_result(result: ScanResult | dict) -> ScanResult:
    """Accept the typed result or its JSON dict (older callers and tests)."""
    return result if isinstance(result, ScanResult) else ScanResult.from_dict(result)


# ------------------------------------------------------------------------------ numbers

def value_text(metric: str | None, v: Any) -> str:
    """A metric's value formatted for its kind (share, count, score...), the same in every report."""
    return fmt_metric(metric_kind(metric), v)


def rule_value_text(rule: Any) -> str:
    """The value a rule judged, with the interval it decided from when there is one."""
    text = value_text(rule.metric, rule.value) if rule.value is not None else MISSING
    if rule.interval and len(rule.interval) == 2:
        text += f" (95% interval {fmt_interval(metric_kind(rule.metric), *rule.interval)})"
    return text


def limit_text(rule: Any) -> str:
    """A rule's limit as text, e.g. ``≤ 5.0%``."""
    sym = {"max": "≤", "min": "≥"}.get(rule.op, str(rule.op or ""))
    return f"{sym} {value_text(rule.metric, rule.threshold)}".strip()


# ------------------------------------------------------------------------------ rules and verdict

def sorted_rules(result: ScanResult) -> list:
    """Rules worst first (fail, inconclusive, warn, ...), so reports lead with what needs attention."""
    return sorted(result.rules, key=lambda r: STATUS_ORDER.get(r.status, 5))


def verdict_sentence(result: ScanResult) -> str:
    """One sentence on the verdict: how many rules failed, and how many were inconclusive, warned or n/a."""
    n = len(result.rules)
    if n == 0:
        return "No rules were evaluated."
    c = result.counts()
    parts = [f"{c.get('fail', 0)} of {n} rule{'s' if n != 1 else ''} failed"]
    for status, word in (("inconclusive", "inconclusive"), ("warn", "warning"), ("not_applicable", "not applicable")):
        k = c.get(status, 0)
        if k:
            parts.append(f"{k} {word}{'s' if word == 'warning' and k != 1 else ''}")
    parts.append(f"{c.get('pass', 0)} passed")
    return ", ".join(parts) + "."


def rule_label(rule: Any) -> str:
    """A rule's id and name for headings, or ``rule`` when it has neither."""
    return " ".join(x for x in (rule.id, rule.name) if x) or "rule"


def rule_scope(rule: Any) -> str:
    """The ``where:`` restriction of a rule as text, e.g. ``source = web``."""
    return ", ".join(f"{k} = {v}" for k, v in (rule.where or {}).items())


def rule_why(rule: Any) -> str:
    """The first sentence of the catalogued rationale for the rule's code."""
    text = " ".join(rule_rationales().get(rule.id, "").split())
    return re.split(r"(?<=[.!?])\s+(?=[A-Z(])", text, maxsplit=1)[0] if text else ""


# ------------------------------------------------------------------------------ examples and locations

def flagged_records(result: ScanResult, metric: str, limit: int = EXAMPLE_LIMIT) -> list[dict]:
    """The first example records the check behind ``metric`` listed: ``{file, line, row, format, excerpt}``.

    Looked for generically in that check's details: any object carrying ``file`` (or ``train_file``)
    and a ``row``/``line``, so SARIF and the GitHub annotations can point at ``file:line``. ``line``
    is the record's physical line in a line format (``result.locations``), else None.
    """
    if result.run.get("redact") == "ids":
        return []          # example file names are hashes now: point at nothing rather than at a hash
    check = check_of_metric(metric)
    formats = {i.path: i.format for i in result.inputs}
    out: list[dict] = []

    def walk(node: Any) -> None:
        if len(out) >= limit:
            return
        if isinstance(node, dict):
            for prefix in ("", "train_"):
                f = node.get(prefix + "file")
                if isinstance(f, str) and (node.get(prefix + "row") is not None or node.get(prefix + "line")):
                    fmt, row = formats.get(f), node.get(prefix + "row")
                    out.append({"file": f, "line": record_line(row, node.get(prefix + "line"), fmt), "row": row,
                                "format": fmt, "excerpt": node.get("excerpt")})
                    return
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    if check:
        walk(result.details.get(check))
    return out[:limit]


def short(text: object, limit: int = EXCERPT_CHARS) -> str:
    """One line of at most ``limit`` characters (excerpts in tables)."""
    t = " ".join(str(text).split())
    return t if len(t) <= limit else t[: limit - 1] + "…"


def location_text(ex: dict) -> str:
    """Where an example record (of ``flagged_records``) is: ``file:LINE`` or ``file row N`` (or the file alone)."""
    return record_location(ex.get("file"), ex.get("row"), ex.get("line"), ex.get("format"))


# ------------------------------------------------------------------------------ sections

def header_facts(result: ScanResult) -> list[tuple[str, str]]:
    """One line of context under the verdict: records, inputs, policy, detector, tool."""
    rec = result.records
    total = result.metric("records.total")
    total = total if total is not None else rec.get("total")
    facts = [("records audited", fmt_number(total))]
    if rec.get("skipped"):
        facts.append(("unreadable records skipped", fmt_number(rec.get("skipped"))))
    facts.append(("inputs", fmt_number(len(result.inputs))))
    if result.skipped_inputs:
        facts.append(("files not read", fmt_number(len(result.skipped_inputs))))
    if result.policy.get("path"):
        facts.append(("policy", str(result.policy["path"])))
    det = result.detector
    if det.get("name"):
        facts.append(("detector", " ".join(str(x) for x in (det.get("name"), det.get("version")) if x)))
        app = applicability(result)
        if app:
            facts.append(("detector estimate", app["state"]))
    facts.append(("tool", f"{result.tool.get('name', 'collapse-audit')} {result.tool.get('version', '')}".strip()))
    return facts


def applicability(result: ScanResult) -> dict[str, str] | None:
    """The detector's applicability state, reason and calibration source (contract: detector.applicability)."""
    app = result.detector.get("applicability")
    if not isinstance(app, dict):
        return None
    cal = app.get("calibration")
    source = cal.get("source") if isinstance(cal, dict) else None
    return {"state": str(app.get("state") or "unknown"), "reason": str(app.get("reason") or ""),
            "calibration": str(source) if source else "none (the detector's own validation figures)"}


def _strings(v: Any) -> list[str]:
    if isinstance(v, str):
        return [v]
    if isinstance(v, dict):
        return [f"{k}: {x}" for k, x in v.items()]
    if isinstance(v, list):
        return [str(x) if not isinstance(x, dict) else ", ".join(f"{k} {y}" for k, y in x.items()) for x in v]
    return []


def detector_section(result: ScanResult) -> Section | None:
    det = result.detector
    if not det.get("name"):
        return None
    val: dict = det["validation"] if isinstance(det.get("validation"), dict) else {}
    facts = [("detector", " ".join(str(x) for x in (det.get("name"), det.get("version")) if x))]
    if det.get("threshold") is not None:
        facts.append(("threshold", fmt_number(det.get("threshold"))))
    if det.get("scored") is not None:
        facts.append(("records scored", fmt_number(det.get("scored"))))
    for key, label in (("tpr", "validated true-positive rate"), ("fpr", "validated false-positive rate"),
                       ("auroc", "validation AUROC")):
        if isinstance(val.get(key), (int, float)):
            facts.append((label, fmt_percent(val[key]) if key != "auroc" else fmt_number(val[key])))
    if val.get("dataset"):
        facts.append(("validated on", str(val["dataset"])))
    app = applicability(result)
    paragraphs = []
    if app:
        facts += [("estimate validity", app["state"]), ("calibration", app["calibration"])]
        if app["reason"]:
            paragraphs.append(f"Validity: {app['state']}. {app['reason']}")
    domains = _strings(det.get("validated_domains") or val.get("domains") or val.get("validated_domains"))
    weak = _strings(det.get("weak_spots") or val.get("weak_spots") or val.get("known_weak_spots"))
    tables = []
    if domains:
        tables.append(Table(["Validated domain"], [[d] for d in domains], "Validated domains"))
    if weak:
        tables.append(Table(["Known weak spot"], [[w] for w in weak], "Known weak spots"))
    tests = (det.get("applicability") or {}).get("tests") if isinstance(det.get("applicability"), dict) else None
    if isinstance(tests, dict) and tests:
        rows = [[str(name), ", ".join(f"{k} {fmt_number(v) if isinstance(v, (int, float)) else v}"
                                      for k, v in (t.items() if isinstance(t, dict) else []))]
                for name, t in tests.items()]
        tables.append(Table(["Applicability test", "Figures"], rows, "Applicability tests"))
    return Section("detector", "Synthetic-text detector", paragraphs=paragraphs, facts=facts, tables=tables)


def sources_section(result: ScanResult) -> Section | None:
    groups = result.sources.get("groups") if isinstance(result.sources.get("groups"), dict) else {}
    if not groups:
        return None
    total = result.metric("records.total")
    # the per-source values of the metrics the policy's rules judge (all of them are in the JSON)
    present = {k for g in groups.values() if isinstance(g, dict) for k, v in g.items() if isinstance(v, (int, float))}
    names = [m for m in dict.fromkeys(r.metric for r in result.rules) if m in present and m != "records.total"]
    rows = []
    for name, g in groups.items():
        g = g if isinstance(g, dict) else {}
        n = g.get("records.total")
        share = n / total if isinstance(n, (int, float)) and total else None
        rows.append([str(name), fmt_number(n), fmt_percent(share)] + [value_text(m, g.get(m)) for m in names])
    field = result.sources.get("field")
    paras = [f"Records grouped by the field {field}."] if field else []
    return Section("sources", "Per source", paragraphs=paras,
                   tables=[Table(["Source", "Records", "Share of corpus", *names], rows)])


def skipped_records_section(result: ScanResult) -> Section | None:
    ex = [e for e in result.records.get("skipped_examples") or [] if isinstance(e, dict)]
    if not ex:
        return None
    rows = [[f"{e.get('file', '')}, {e.get('location', '')}".strip(", "), str(e.get("reason", ""))] for e in ex]
    return Section("skipped_records", "Unreadable records (skipped)",
                   paragraphs=[f"{fmt_number(result.records.get('skipped'))} record(s) could not be read."],
                   tables=[Table(["Location", "Reason"], rows)])


def _size(v: Any) -> str:
    return MISSING if v is None else f"{fmt_number(v)} bytes"


def _fingerprint(fp: Any) -> str:
    if not isinstance(fp, dict) or not fp.get("value"):
        return MISSING
    return f"{fp.get('algorithm', '?')}:{fp['value']}"


def audit_section(result: ScanResult) -> Section:
    """What was audited, with what, and how to reproduce it."""
    facts = [("tool", f"{result.tool.get('name', 'collapse-audit')} {result.tool.get('version', '')}".strip())]
    pol = result.policy
    for key, label in (("path", "policy"), ("source", "policy found via"), ("sha256", "policy sha256")):
        if pol.get(key):
            facts.append((label, str(pol[key])))
    for key, label in (("seed", "seed"), ("started", "started"), ("redact", "redacted")):
        if result.run.get(key) is not None:
            v = result.run[key]
            facts.append((label, fmt_number(v) if isinstance(v, (int, float)) else str(v)))
    tables = []
    if result.inputs:
        rows = [[i.path, i.format + (f" ({i.compression})" if i.compression else ""), fmt_number(i.records),
                 fmt_number(i.skipped), _size(i.size), _fingerprint(i.fingerprint)] for i in result.inputs]
        tables.append(Table(["File", "Format", "Records", "Skipped", "Size", "Fingerprint"], rows, "Inputs"))
    if result.skipped_inputs:
        tables.append(Table(["File", "Why it was not read"], [[s.path, s.reason] for s in result.skipped_inputs],
                            "Files not read"))
    return Section("audit", "Audit trail", facts=facts, tables=tables)


def metrics_section(result: ScanResult) -> Section | None:
    rows = [[k, value_text(k, v), "" if v is None else repr(v)] for k, v in sorted(result.metrics.items())]
    if not rows:
        return None
    return Section("metrics", "All metrics", tables=[Table(["Metric", "Value", "Raw"], rows)])


def page_sections(result: ScanResult, *, with_metrics: bool = True) -> list[Section]:
    """Every section a full report shows, in order; ``with_metrics`` adds the table of all metrics."""
    parts = [detector_section(result), sources_section(result),
             *check_sections(result.details, result.metrics, result.inputs),
             skipped_records_section(result), audit_section(result)]
    if with_metrics:
        parts.append(metrics_section(result))
    return [s for s in parts if s is not None]


_JSON_UNSAFE = re.compile("[\ud800-\udfff\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\x80-\x9f]")


def json_safe(text: str) -> str:
    """JSON text with lone surrogates, C1 controls and bidi controls written as ``\\uXXXX`` escapes.

    Only valid inside JSON strings, which is the only place such characters can be; the document
    then encodes as UTF-8 (a lone surrogate would not) and shows no bidi reordering in a terminal.
    """
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def counts_against(result: ScanResult, rule: Any) -> bool:
    """Whether this rule is one the verdict fails on: a failure, or an inconclusive error rule when the
    policy's ``on_inconclusive`` (recorded in the result's policy block; default ``fail``) says so."""
    if rule.fails_verdict:
        return True
    return (rule.status == "inconclusive" and rule.severity == "error"
            and result.policy.get("on_inconclusive", "fail") == "fail")


def section_text(s: Section, indent: str = "  ") -> list[str]:
    """A section as plain text lines (JUnit system-out); callers make the lines inert."""
    out = [s.title]
    out += [indent + p for p in s.paragraphs]
    out += [f"{indent}{k}: {v}" for k, v in s.facts]
    for t in s.tables:
        if t.title:
            out.append(f"{indent}{t.title}:")
        out += [indent * 2 + " | ".join(row) for row in t.rows]
        if t.caption:
            out.append(indent * 2 + t.caption)
    return out


__all__ = [
    "EXAMPLE_LIMIT",
    "EXCERPT_CHARS",
    "STATUS_LABEL",
    "applicability",
    "as_result",
    "audit_section",
    "check_sections",
    "counts_against",
    "flagged_records",
    "header_facts",
    "inert",
    "json_safe",
    "limit_text",
    "location_text",
    "page_sections",
    "rule_label",
    "rule_scope",
    "rule_value_text",
    "rule_why",
    "section_text",
    "short",
    "sorted_rules",
    "value_text",
    "verdict_sentence",
]
