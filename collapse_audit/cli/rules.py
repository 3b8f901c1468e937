"""``collapse-audit rules list|explain``: the rule catalogue, like a linter's rule index."""

from __future__ import annotations

import json

import typer
from rich.box import SIMPLE
from rich.console import Console
from rich.table import Table

from ..errors import AuditError
from .common import user_errors

app = typer.Typer(help="List and explain the policy rules (stable codes CA1xx-CA6xx).", no_args_is_help=True)


def _rule_json(doc) -> dict:
    """One catalogued rule as ``rules list --format json`` writes it (every field of the catalogue)."""
    return {"id": doc.code, "name": doc.name, "metric": doc.metric, "op": doc.op, "limit": doc.limit,
            "severity": doc.severity, "enabled_by_default": doc.enabled_by_default,
            "applies_when": doc.applies_when, "rationale": doc.rationale, "example": doc.example}


@app.command("list")
@user_errors
def list_rules(
    fmt: str = typer.Option("table", "--format", "-f", help="table | json (a list of rules, for jq and scripts)."),
) -> None:
    """List every documented rule: code, name, metric, default limit, on by default or not.

    Piped, the table keeps every row whole (it is not cut to 80 columns); --format json gives every
    field, the rationale and an example included.
    """
    if fmt not in ("table", "json"):
        raise AuditError(f"Unknown format '{fmt}' (choose from table, json).")
    # imported here, so `--help` does not load every check
    from ..checks.registry import catalogue

    docs = list(catalogue().values())
    if fmt == "json":
        typer.echo(json.dumps([_rule_json(d) for d in docs], indent=2, ensure_ascii=False))
        return
    console = Console()
    if not console.is_terminal:  # a pipe or a file: full rows, however wide
        console = Console(width=10_000, no_color=True)
    table = Table(box=SIMPLE if console.is_terminal else None)
    for col in ("id", "name", "metric", "default", "severity", "on by default"):
        table.add_column(col, no_wrap=not console.is_terminal, overflow="fold")
    for d in docs:
        table.add_row(d.code, d.name, d.metric, f"{d.op} {d.limit:g}", d.severity,
                      "yes" if d.enabled_by_default else "no")
    console.print(table)


@app.command("explain")
@user_errors
def explain(rule_id: str = typer.Argument(..., help="Rule code, e.g. CA101.")) -> None:
    """Explain one rule: what it measures, why it matters for model collapse, and a policy example."""
    from ..checks.registry import catalogue

    docs = catalogue()
    doc = docs.get(rule_id.upper())
    if doc is None:
        raise AuditError(f"Unknown rule '{rule_id}' (run `collapse-audit rules list`).")
    out = Console(highlight=False)
    out.print(f"{doc.code} {doc.name}", style="bold", markup=False)
    out.print(f"metric: {doc.metric}   default: {doc.op} {doc.limit:g}   severity: {doc.severity}   "
              f"on by default: {'yes' if doc.enabled_by_default else 'no'}", markup=False)
    out.print()
    out.print(doc.rationale, markup=False)
    out.print()
    out.print("Example (in the policy's rules list):", markup=False)
    out.print(f"  - {doc.example}", markup=False)
