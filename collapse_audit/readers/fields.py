"""Dotted-path field access shared by the readers (``meta.provenance`` reaches a nested field)."""

from __future__ import annotations

from typing import Any

_MISSING = object()


def get_path(record: Any, path: str, default: Any = None) -> Any:
    """Value at a dotted path in nested dicts, or ``default`` when any step is absent."""
    if isinstance(record, dict) and path in record:  # a literal key with dots wins
        return record[path]
    cur = record
    for part in path.split("."):
        if not isinstance(cur, dict):
            return default
        cur = cur.get(part, _MISSING)
        if cur is _MISSING:
            return default
    return cur
