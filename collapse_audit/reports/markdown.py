"""Markdown report (GitHub-flavoured): for pull-request comments, wikis and ``$GITHUB_STEP_SUMMARY``.

A pure function of the result: header, rules, then every section of the page drawn by one generic
section renderer. Every string goes through :func:`md`, which makes it inert (control characters,
ESC sequences and bidi overrides visible) and neutralises HTML and Markdown syntax, including ``|``,
so a record cannot inject markup, links, images or table cells into the rendered page.
"""

from __future__ import annotations

from typing import Any

from ..result import ScanResult, Section
from .view import (
    STATUS_LABEL,
    as_result,
    flagged_records,
    header_facts,
    inert,
    limit_text,
    location_text,
    page_sections,
    rule_label,
    rule_scope,
    rule_value_text,
    rule_why,
    short,
    sorted_rules,
    verdict_sentence,
)

ICON = {"pass": "✅", "fail": "❌", "warn": "⚠️", "inconclusive": "❔", "not_applicable": "➖"}
_MD_SPECIAL = {ch: "\\" + ch for ch in "\\`*_[]|~$#!"}
_MD_SPECIAL.update({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def md(text: Any) -> str:
    """Inline-safe Markdown text: inert, no HTML, no emphasis/links/code/tables, one line."""
    s = " ".join(inert(text).split()) if text is not None else ""
    return "".join(_MD_SPECIAL.get(ch, ch) for ch in s)


def code(text: Any) -> str:
    """An inline code span (metric and field names): literal, one line, table-safe."""
    s = " ".join(inert(text).split()) if text is not None else ""
    return "`" + s.replace("`", "'").replace("|", "\\|").replace("##", "#\u200b#") + "`"


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(cell or " " for cell in row) + " |" for row in rows]
    return out + [""]


def render(result: ScanResult | dict) -> str:
    """The report as Markdown (GitHub flavour): verdict, rules table, then each section."""
    res = as_result(result)
    lines = head(res) + rules_block(res)
    for s in page_sections(res):
        lines += section(s, collapsed=s.key == "metrics")
    return "\n".join(lines).rstrip("\n") + "\n"


def head(res: ScanResult) -> list[str]:
    """The verdict heading and the one-line context (inputs, records, detector) under it."""
    icon = ICON["pass" if res.verdict == "pass" else "fail"]
    context = " · ".join(f"{md(k)} {md(v)}" for k, v in header_facts(res))
    return [f"# collapse-audit: {icon} {res.verdict.upper()}", "", f"**{md(verdict_sentence(res))}** {context}", ""]


def rules_block(res: ScanResult) -> list[str]:
    """The rules table: status, rule, metric, value and limit of every evaluated rule."""
    if not res.rules:
        return ["## Rules", "", "No rules were evaluated.", ""]
    rows = []
    for r in res.rules:
        label = f"**{md(r.id)}** {md(r.name)}" + (f" ({md(rule_scope(r))})" if r.where else "")
        rows.append([f"{ICON.get(r.status, '❔')} {md(STATUS_LABEL.get(r.status, r.status))}", label, code(r.metric),
                     md(rule_value_text(r)), md(limit_text(r)), md(r.message)])
    out = ["## Rules", ""] + _table(["Status", "Rule", "Metric", "Value", "Limit", "Result"], rows)
    flagged = [r for r in sorted_rules(res) if r.status not in ("pass",)]
    if flagged:
        out += ["### What failed and where to look", ""]
        for r in flagged:
            status = md(STATUS_LABEL.get(r.status))
            line = f"- {ICON.get(r.status, '')} **{md(rule_label(r))}** ({status}): {md(r.message)}"
            if rule_why(r):
                line += f" *Why:* {md(rule_why(r))}"
            out.append(line)
            if r.status in ("fail", "warn", "inconclusive"):
                for ex in flagged_records(res, r.metric, 3):
                    out.append(f"  - {md(location_text(ex))}: {md(short(inert(ex.get('excerpt') or '')))}")
        out.append("")
    return out


def section(s: Section, collapsed: bool = False) -> list[str]:
    """One section, whatever check it came from."""
    out = [f"## {md(s.title)}", ""]
    if collapsed:
        out = [f"<details><summary>{md(s.title)}</summary>", ""]
    for p in s.paragraphs:
        out += [md(p), ""]
    if s.facts:
        out += [f"- {md(k)}: {md(v)}" for k, v in s.facts] + [""]
    for t in s.tables:
        if t.title:
            out += [f"**{md(t.title)}**", ""]
        out += _table([md(c) for c in t.columns], [[md(short(inert(cell))) for cell in row] for row in t.rows])
        if t.caption:
            out += [f"*{md(t.caption)}*", ""]
    if collapsed:
        out += ["</details>", ""]
    return out
