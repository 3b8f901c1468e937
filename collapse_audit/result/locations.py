"""Where a record is, as people read it: the one formatter every report format uses.

* Line formats (JSON Lines, CSV/TSV): ``file:LINE`` with LINE the 1-based *physical* line the record
  starts on - what editors, ``grep -n``, compilers and linters mean by ``file:N``. Blank lines
  count (a JSONL row is its 0-based line index, so its line is ``row + 1``); a CSV record whose
  quoted value spans lines is at the line where it starts (the reader reports it as ``line``).
* Columnar formats (Parquet, Arrow, JSON arrays, saved HF datasets): ``file row N`` with N the
  0-based row in the file - the ``row`` column of the annotations, what ``pyarrow`` and ``pandas``
  index by.

The JSON result keeps its fields (``file``, ``row`` and, where a check recorded it, ``line``);
only the text shown changes. SARIF's ``region.startLine`` and the GitHub annotations' ``line=``
take the same line (``record_line``).

A renderer knows each input's format from ``result.inputs``; the checks' report sections, which see
only their own details, find it through ``using_inputs`` (set around the rendering of a result).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

#: reader formats whose records are lines of text (located by line)
LINE_FORMATS = frozenset({"jsonl", "csv"})

_FORMATS: ContextVar[Mapping[str, str] | None] = ContextVar("collapse_audit_input_formats", default=None)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def record_line(row: Any, line: Any = None, fmt: str | None = None) -> int | None:
    """The 1-based physical line a record starts on, or None where lines do not apply or are unknown.

    An explicit ``line`` wins (for an unknown format too: only a line format records one); a JSONL
    row is its 0-based line index."""
    if fmt is not None and fmt not in LINE_FORMATS:
        return None
    if _int(line) is not None and line >= 1:
        return int(line)
    if fmt == "jsonl" and _int(row) is not None and row >= 0:
        return int(row) + 1
    return None


def record_location(file: Any, row: Any = None, line: Any = None, fmt: str | None = None) -> str:
    """``file:LINE`` for a record of a line format, ``file row N`` (0-based) otherwise; the file
    alone when neither is known. ``fmt`` defaults to the format ``using_inputs`` knows for ``file``."""
    name = str(file) if file not in (None, "") else ""
    found = record_line(row, line, fmt if fmt is not None else format_of(name))
    if found is not None and name:
        return f"{name}:{found}"
    if _int(row) is not None:
        return f"{name} row {row}" if name else f"row {row}"
    return name


def format_of(path: str) -> str | None:
    """The reader format of input ``path`` in the result being rendered (None when unknown)."""
    formats = _FORMATS.get()
    return formats.get(path) if formats else None


@contextmanager
def using_inputs(inputs: Iterable[Any]) -> Iterator[None]:
    """Render with the formats of ``inputs`` (``InputEntry`` objects or their JSON dicts) known."""
    formats = {}
    for i in inputs:
        path = i.get("path") if isinstance(i, Mapping) else getattr(i, "path", None)
        fmt = i.get("format") if isinstance(i, Mapping) else getattr(i, "format", None)
        if isinstance(path, str) and isinstance(fmt, str):
            formats[path] = fmt
    token = _FORMATS.set(formats)
    try:
        yield
    finally:
        _FORMATS.reset(token)
