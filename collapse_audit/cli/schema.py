"""``collapse-audit schema result|policy``: print the JSON Schema of the scan result or of the policy file."""

from __future__ import annotations

import typer

from ..errors import AuditError
from ..schemas import NAMES, schema_text
from .common import user_errors, write_output


@user_errors
def schema(
    name: str = typer.Argument(..., metavar="result|policy", help="Which schema: the JSON result or the policy file.",
                               show_default=False),
    output: str | None = typer.Option(None, "--output", "-o", help="Write the schema to FILE (default stdout)."),
) -> None:
    """Print a JSON Schema (draft 2020-12): `result` for `scan --format json`, `policy` for collapse-audit.yaml.

    Editors validate and complete a policy with it; see docs/schemas.md. Example:

      collapse-audit schema policy -o collapse-audit.schema.json
    """
    if name not in NAMES:
        raise AuditError(f"Unknown schema '{name}' (choose from {', '.join(NAMES)}).")
    write_output(_registered(name), output)


def _registered(name: str) -> str:
    """The schema as shipped; the policy's option sections derived from the checks registered now, so a
    plugin's section is included (for the built-in checks this is the shipped file, byte for byte)."""
    text = schema_text(name)
    if name != "policy":
        return text
    import json

    from ..checks.registry import options_sections
    from ..schemas.generate import dump, policy_schema

    return dump(policy_schema(options_sections(), json.loads(text)))
