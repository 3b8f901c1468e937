"""A progress bar on stderr for long scans, and nothing at all when stderr is not a terminal.

When the input size is known the bar shows a total, a percentage and an ETA: ``input_total``
counts the record slots of every input - Parquet and Arrow row counts from their footers, JSONL
lines by a fast newline count of local files (about a second per GB) - and gives up (no total,
just a count and the elapsed time) for inputs whose size cannot be known cheaply, such as remote
objects of line formats. Blank or unreadable lines are slots that yield no record, so the bar can
end a little short of its total.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..readers import InputFile, count_slots

CHEAP_FORMATS = ("parquet", "arrow")


def input_total(files: list[InputFile]) -> int | None:
    """Record slots of all inputs, or None when one of them cannot be counted cheaply."""
    total = 0
    for f in files:
        local = os.path.exists(f.path)
        if f.format not in CHEAP_FORMATS and not local:
            return None
        try:
            total += int(count_slots(f))
        except Exception:  # noqa: BLE001 - a count is a nicety; the scan reports the real problem
            return None
    return total


def wanted(enabled: bool) -> bool:
    """Whether a bar is shown: asked for, and stderr is a terminal."""
    return enabled and sys.stderr.isatty()


@contextmanager
def progress_bar(enabled: bool, label: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n)``: a live record counter (with a bar and an ETA when ``total`` is known)
    on a terminal's stderr, a no-op otherwise."""
    if not wanted(enabled):
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = [SpinnerColumn(), TextColumn("{task.description}")]
    if total:
        columns += [BarColumn(), TaskProgressColumn(), MofNCompleteColumn(), TextColumn("records"),
                    TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn()]
    else:
        columns += [MofNCompleteColumn(), TextColumn("records"), TimeElapsedColumn()]
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(label, total=total or None)
        yield lambda n: progress.advance(task, n)
