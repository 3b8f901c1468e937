"""JSON Schemas (draft 2020-12) of the scan result (``--format json``) and of the policy file.

Shipped in the package so ``collapse-audit schema result|policy`` prints them offline, and copied to
``schemas/`` at the repository root for editors (see docs/schemas.md); a test keeps both identical
and validates real results and the packaged policy against them.
"""

from __future__ import annotations

from importlib import resources

NAMES = ("result", "policy")


def schema_text(name: str) -> str:
    """The schema document ``<name>.schema.json`` as text."""
    if name not in NAMES:
        raise ValueError(name)
    return resources.files(__name__).joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
