"""Format name -> renderer, shared by ``scan`` and ``report``."""

from __future__ import annotations

from typing import Any

from ..errors import AuditError
from ..reports.result import to_json

FORMATS = ("table", "json", "markdown", "html", "junit", "summary", "summary-json")


def render_result(result: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return to_json(result)
    if fmt == "table":
        from ..reports.console import render_text

        return render_text(result)
    from ..reports.formats import FILE_RENDERERS

    if fmt not in FILE_RENDERERS:
        raise AuditError(f"Unknown format '{fmt}' (choose from {', '.join(FORMATS)}).")
    return FILE_RENDERERS[fmt](result)
