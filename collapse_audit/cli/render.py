"""Format names and rendering shared by ``scan`` and ``report`` (the table lives in reports/formats.py)."""

from __future__ import annotations

from ..reports.formats import FORMATS, SUFFIX_FORMATS, render_result
from ..reports.redact import MODES as REDACT_MODES

REDACT_HELP = ("Leave data out of the report: 'excerpts' drops record excerpts; 'ids' also replaces the ids "
               "and file names of example records by short hashes.")

__all__ = ["FORMATS", "REDACT_HELP", "REDACT_MODES", "SUFFIX_FORMATS", "render_result"]
