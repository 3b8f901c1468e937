"""Console report (Rich): verdict, rules with pass/fail colour, key metrics, per-source shares.

Colour and box drawing only on a terminal; piped output is plain text with no decoration.
"""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.table import Table

from ..policy.evaluate import fmt

STATUS_STYLE = {"pass": "green", "fail": "bold red", "warn": "yellow"}
HEADLINE = (
    "records.total", "records.skipped", "duplicates.exact_count", "duplicates.exact_fraction",
    "duplicates.near_count", "duplicates.near_fraction", "duplicates.near_clusters",
    "synthetic.declared_fraction", "synthetic.scored", "synthetic.detected_fraction",
    "synthetic.estimated_fraction", "provenance.missing_count", "provenance.missing_fraction",
    "provenance.undeclared_synthetic_count",
)
SOURCE_COLUMNS = (("records", "records.total"), ("near dup", "duplicates.near_fraction"),
                  ("declared synth", "synthetic.declared_fraction"),
                  ("detected synth", "synthetic.detected_fraction"), ("untagged", "provenance.missing_fraction"))


def render(result: dict[str, Any], console: Console) -> None:
    plain = not console.is_terminal
    box = None if plain else __import__("rich.box", fromlist=["SIMPLE"]).SIMPLE
    m = result["metrics"]
    verdict = result["verdict"]
    style = STATUS_STYLE["pass" if verdict == "pass" else "fail"]
    rec = result["records"]
    console.print(f"collapse-audit {result['tool']['version']}: {rec['total']} records from "
                  f"{len(result['inputs'])} file(s), {rec['skipped']} skipped; detector "
                  f"{result['detector']['name']} ({result['detector']['version']}) scored "
                  f"{result['detector']['scored']}")
    console.print(f"VERDICT: {verdict.upper()}", style=style, highlight=False)

    rules = Table(title="Rules", box=box, show_edge=not plain, title_justify="left")
    for col in ("status", "rule", "metric", "value", "limit", "records"):
        rules.add_column(col)
    for r in result["rules"]:
        value = "-" if r["value"] is None else fmt(r["metric"], r["value"])
        limit = f"{r['op']} {fmt(r['metric'], r['threshold'])}"
        rid = f"{r['id']} {r['name']}" + (f" [source={r['where']['source']}]" if r.get("where") else "")
        records = "" if r.get("records_flagged") is None else str(r["records_flagged"])
        rules.add_row(r["status"].upper(), rid, r["metric"], value, limit, records,
                      style=STATUS_STYLE.get(r["status"]))
    console.print(rules)
    for r in result["rules"]:
        if r["status"] != "pass":
            console.print(f"{r['id']} {r['status']}: {r['message']}", style=STATUS_STYLE[r["status"]],
                          highlight=False, markup=False, soft_wrap=True)

    metrics = Table(title="Metrics", box=box, show_edge=not plain, title_justify="left")
    metrics.add_column("metric")
    metrics.add_column("value", justify="right")
    for name in HEADLINE:
        if name in m and m[name] is not None:
            value = fmt(name, m[name])
            if name == "synthetic.estimated_fraction" and "synthetic.estimated_fraction_ci_low" in m:
                value += (f" (95% CI {fmt(name, m['synthetic.estimated_fraction_ci_low'])}–"
                          f"{fmt(name, m['synthetic.estimated_fraction_ci_high'])})")
            metrics.add_row(name, value)
    console.print(metrics)

    groups = (result.get("sources") or {}).get("groups") or {}
    if groups:
        table = Table(title=f"Per source ({result['sources']['field']})", box=box, show_edge=not plain,
                      title_justify="left")
        table.add_column("source")
        for label, _ in SOURCE_COLUMNS:
            table.add_column(label, justify="right")
        for name, g in groups.items():
            table.add_row(name, *[fmt(k, g[k]) if g.get(k) is not None else "-" for _, k in SOURCE_COLUMNS])
        console.print(table)
    if rec["skipped"]:
        console.print(f"Skipped {rec['skipped']} unreadable record(s), e.g.:", style="yellow")
        for ex in rec["skipped_examples"][:5]:
            console.print(f"  {ex['file']}, {ex['location']}: {ex['reason']}", markup=False, highlight=False)


def render_text(result: dict[str, Any]) -> str:
    """The console report as plain text (for -o FILE)."""
    buf = io.StringIO()
    render(result, Console(file=buf, force_terminal=False, width=120, color_system=None))
    return buf.getvalue()
