"""Small helpers the checks' ``section`` methods share to describe saved details as plain text.

Details come from JSON (a saved result may be old or hand-edited), so every accessor tolerates a
missing or mistyped value instead of raising; renderers escape the strings these return.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..result.formatting import MISSING, fmt_metric, fmt_number
from ..result.locations import record_location
from ..result.sections import Table
from ..text.excerpt import excerpt

EXAMPLE_CHARS = 160


def number(value: Any) -> bool:
    """Whether ``value`` is a finite number a figure can draw (not a bool, NaN or infinity)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def dicts(value: Any) -> list[Mapping[str, Any]]:
    """The mappings in a details list, so a hand-edited result cannot break a report."""
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def location(item: Mapping[str, Any], file_key: str = "file", row_key: str = "row") -> str:
    """Where an example record is: ``file:LINE`` in a line format, ``file row N`` otherwise (``result.locations``).

    The line is the item's ``line`` (``train_line`` beside ``train_row``...) when the check recorded one."""
    line_key = row_key[: -len("row")] + "line" if row_key.endswith("row") else "line"
    return record_location(item.get(file_key), item.get(row_key), item.get(line_key)) or MISSING


def text(value: Any) -> str:
    """A details value as a short excerpt for a report cell ('' for none)."""
    return "" if value is None else excerpt(str(value), EXAMPLE_CHARS)


def fact(metrics: Mapping[str, Any], label: str, name: str, kind: str) -> tuple[str, str] | None:
    """("label", formatted value) when the metric is present."""
    v = metrics.get(name)
    return None if v is None else (label, fmt_metric(kind, v))


def facts(*items: tuple[str, str] | None) -> list[tuple[str, str]]:
    """The facts that are present (callers pass None for a fact that does not apply)."""
    return [i for i in items if i is not None]


def counts_table(title: str, counts: Any, heading: str, limit: int = 20) -> Table | None:
    """A table of {value: count} (most common first, as stored)."""
    if not isinstance(counts, Mapping) or not counts:
        return None
    rows = [[str(k), fmt_number(v)] for k, v in list(counts.items())[:limit]]
    caption = f"showing {limit} of {len(counts)}" if len(counts) > limit else ""
    return Table([heading, "records"], rows, title=title, caption=caption)


def examples_table(title: str, items: Any, extra: tuple[tuple[str, str], ...] = (), limit: int = 20) -> Table | None:
    """Location, any ``extra`` (heading, key) columns and the excerpt of each example record."""
    items = dicts(items)
    if not items:
        return None
    rows = [[location(i), *(str(i.get(k, "")) if i.get(k) is not None else "" for _, k in extra),
             text(i.get("excerpt"))] for i in items[:limit]]
    caption = f"showing {limit} of {len(items)}" if len(items) > limit else ""
    return Table(["location", *(h for h, _ in extra), "excerpt"], rows, title=title, caption=caption)


def tables(*items: Table | None) -> list[Table]:
    """The tables that are present (callers pass None for a table with no rows)."""
    return [t for t in items if t is not None]
