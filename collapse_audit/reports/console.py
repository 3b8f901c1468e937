"""Console report (Rich): verdict, rules by status, then every section of the page.

Colour and box drawing only on a terminal; piped output is plain text with no decoration. Every
string is made inert and passed to Rich as ``Text`` (never parsed as markup), so a data value such
as ``[/]`` or an ESC sequence prints as the characters it is; it is kept on one line and its ``::``
and ``##`` are split (``log_inert``), so a value can never start a CI log command such as
``::error::`` or ``##[group]``, wherever a table cell lands.
"""

from __future__ import annotations

import io

from rich import box as rich_box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..result import ScanResult, Section
from ..text.inert import log_inert
from .view import (
    STATUS_LABEL,
    as_result,
    header_facts,
    limit_text,
    page_sections,
    rule_label,
    rule_scope,
    rule_value_text,
    short,
    verdict_sentence,
)

STATUS_STYLE = {"pass": "green", "fail": "bold red", "warn": "yellow", "inconclusive": "bold magenta",
                "not_applicable": "dim"}


def _t(s: object, style: str = "") -> Text:
    return Text(log_inert(s), style=style)


def render(result: ScanResult | dict, console: Console) -> None:
    """Print the report to a terminal (styled) or a pipe (plain text): verdict, rules, then sections."""
    res = as_result(result)
    plain = not console.is_terminal
    box = None if plain else rich_box.SIMPLE
    console.print(_t(" · ".join(f"{k} {v}" for k, v in header_facts(res))))
    console.print(_t(f"VERDICT: {res.verdict.upper()}  {verdict_sentence(res)}",
                     STATUS_STYLE["pass" if res.verdict == "pass" else "fail"]))

    rules = Table(title="Rules", box=box, show_edge=not plain, title_justify="left")
    for col in ("status", "rule", "metric", "value", "limit", "records"):
        rules.add_column(col)
    for r in res.rules:
        scope = rule_scope(r)
        rules.add_row(_t(STATUS_LABEL.get(r.status, r.status)), _t(rule_label(r) + (f" [{scope}]" if scope else "")),
                      _t(r.metric), _t(rule_value_text(r)), _t(limit_text(r)),
                      _t("" if r.records_flagged is None else r.records_flagged),
                      style=STATUS_STYLE.get(r.status))
    console.print(rules)
    for r in res.rules:
        if r.status != "pass":
            console.print(_t(f"{r.id} {STATUS_LABEL.get(r.status, r.status)}: {r.message}",
                             STATUS_STYLE.get(r.status, "")), soft_wrap=True)
    for section in page_sections(res, with_metrics=False):
        _section(console, section, box, plain)


def _section(console: Console, s: Section, box: rich_box.Box | None, plain: bool) -> None:
    console.print()
    console.print(_t(s.title, "bold"))
    for p in s.paragraphs:
        console.print(_t(p), soft_wrap=True)
    for label, value in s.facts:
        console.print(_t(f"  {label}: {value}"), soft_wrap=True)
    for table in s.tables:
        t = Table(title=_t(table.title) if table.title else None, box=box, show_edge=not plain,
                  title_justify="left", caption=_t(table.caption) if table.caption else None)
        for col in table.columns:
            t.add_column(_t(col), overflow="fold")
        for row in table.rows:
            t.add_row(*[_t(short(cell)) for cell in row])
        console.print(t)


def render_text(result: ScanResult | dict) -> str:
    """The console report as plain text (for -o FILE)."""
    buf = io.StringIO()
    render(result, Console(file=buf, force_terminal=False, width=120, color_system=None))
    return buf.getvalue()
