"""Format names and rendering shared by ``scan`` and ``report`` (the table lives in reports/formats.py)."""

from __future__ import annotations

from typing import Any

from ..reports.formats import FORMATS, SUFFIX_FORMATS, render_result
from ..reports.redact import MODES as REDACT_MODES
from ..reports.view import as_result
from ..result import ScanResult

REDACT_HELP = ("Leave data out of the report: 'excerpts' drops record excerpts; 'ids' also replaces the ids "
               "and file names of example records by short hashes.")


def renderer_input(result: ScanResult | dict[str, Any]) -> ScanResult:
    """What the renderers read: the typed result (a dict from older callers is converted)."""
    return as_result(result)


__all__ = ["FORMATS", "REDACT_HELP", "REDACT_MODES", "SUFFIX_FORMATS", "render_result", "renderer_input"]
