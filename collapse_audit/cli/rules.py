"""``collapse-audit rules list|explain``: the rule catalogue, like a linter's rule index."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from ..errors import AuditError
from .common import user_errors

app = typer.Typer(help="List and explain the policy rules (stable codes CA1xx-CA6xx).", no_args_is_help=True)


@app.command("list")
def list_rules() -> None:
    """List every documented rule: code, name, metric, default limit, on by default or not."""
    console = Console()
    table = Table(box=None if not console.is_terminal else __import__("rich.box", fromlist=["SIMPLE"]).SIMPLE)
    for col in ("id", "name", "metric", "default", "severity", "on by default"):
        table.add_column(col)
    # imported here, so `--help` does not load every check
    from ..checks.registry import catalogue

    for d in catalogue().values():
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
