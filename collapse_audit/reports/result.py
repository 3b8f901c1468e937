"""Compatibility names for code that still imports the result from ``reports`` (the engine, one test).

The result model lives in ``collapse_audit.result``; this module only re-exports it and goes away
once nothing imports it (engine/scan.py, tests/test_scan_end_to_end.py).
"""

from __future__ import annotations

from typing import Any

from ..result import SCHEMA_VERSION, ScanResult
from ..result import load_result as _load

#: the keys of ``ScanResult.to_dict()``, in order
TOP_LEVEL_KEYS = (
    "schema_version", "tool", "run", "inputs", "skipped_inputs", "records", "detector", "policy",
    "metrics", "sources", "rules", "details", "verdict",
)


def to_json(result: ScanResult | dict[str, Any]) -> str:
    """Canonical JSON text of a result (typed or its dict)."""
    res = result if isinstance(result, ScanResult) else ScanResult.from_dict(result)
    return res.to_json()


def load_result(path: str) -> dict[str, Any]:
    """A saved JSON result file, read through the result model (so errors are one sentence), as a dict."""
    return _load(path).to_dict()


__all__ = ["SCHEMA_VERSION", "TOP_LEVEL_KEYS", "load_result", "to_json"]
