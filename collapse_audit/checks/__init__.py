"""Checks: independent streaming units, each carrying everything about itself (``base.Check``).

Adding a check is one new module (whose class is decorated with ``@register_check``) and one
line in ``BUILTIN`` below; a package outside declares an entry point (``plugins.py``) or calls
``register_check`` itself.
"""

from __future__ import annotations

from importlib import import_module

from .base import Check, CheckContext, CheckResult
from .plugins import load_plugins
from .registry import (
    annotation_columns,
    build_checks,
    catalogue,
    metric_spec,
    options_sections,
    register_check,
    registered,
)

#: The built-in checks, one line each, in the order the engine runs them (diversity, drift and
#: contamination share one tokenisation per batch, in this order). Importing a module registers
#: its class (``@register_check``).
BUILTIN = (
    "exact_duplicates",
    "near_duplicates",
    "synthetic",
    "provenance",
    "diversity",
    "drift",
    "contamination",
    "pii",
    "seen_before",
)
for _module in BUILTIN:
    import_module(f"{__name__}.{_module}")
load_plugins()   # then the checks and readers other distributions declare as entry points (plugins.py)


__all__ = [
    "BUILTIN", "Check", "CheckContext", "CheckResult", "annotation_columns", "build_checks", "catalogue",
    "metric_spec", "options_sections", "register_check", "registered",
]
