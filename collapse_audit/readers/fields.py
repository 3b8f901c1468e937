"""Dotted-path field access shared by the readers.

``meta.provenance`` reaches a nested field, ``messages.0.content`` the first element of a list and
``turns.-1.text`` the last one. A literal key containing dots wins over the nested reading.
"""

from __future__ import annotations

from typing import Any

_MISSING = object()


def get_path(record: Any, path: str, default: Any = None) -> Any:
    """Value at a dotted path in nested dicts/lists, or ``default`` when any step is absent."""
    if isinstance(record, dict) and path in record:  # a literal key with dots wins
        return record[path]
    cur = record
    for part in path.split("."):
        if isinstance(cur, dict):
            cur = cur.get(part, _MISSING)
        elif isinstance(cur, (list, tuple)) and _is_index(part):
            i = int(part)
            cur = cur[i] if -len(cur) <= i < len(cur) else _MISSING
        else:
            return default
        if cur is _MISSING:
            return default
    return cur


def has_index(path: str) -> bool:
    """Whether a dotted path steps into a list (columnar readers then resolve it per record)."""
    return any(_is_index(p) for p in path.split("."))


def _is_index(part: str) -> bool:
    return part.lstrip("-").isdigit() and part.count("-") <= 1
