"""Format name -> renderer, shared by ``scan`` and ``report``."""

from __future__ import annotations

from typing import Any

from ..errors import AuditError
from ..result import ScanResult

FORMATS = ("table", "json", "markdown", "html", "junit", "summary", "summary-json")


def renderer_input(result: ScanResult) -> Any:
    """What the renderers read. TODO(merge): the renderers move onto ``ScanResult``; then return it as is."""
    return result.to_dict()


def render_result(result: ScanResult, fmt: str) -> str:
    """The report text of ``result`` in format ``fmt`` (``json`` is ``ScanResult.to_json``)."""
    if fmt == "json":
        return result.to_json()
    if fmt == "table":
        from ..reports.console import render_text

        return render_text(renderer_input(result))
    from ..reports.formats import FILE_RENDERERS

    if fmt not in FILE_RENDERERS:
        raise AuditError(f"Unknown format '{fmt}' (choose from {', '.join(FORMATS)}).")
    return FILE_RENDERERS[fmt](renderer_input(result))
