"""Re-reading the few records whose report excerpts no shard kept.

A check keeps texts only as short excerpts of the records its report shows. When a scan is split
into shards, a record can become worth an excerpt only once the shards are merged (a duplicate
whose earlier copy was in another shard), and by then no process has its text. Before ``finish``
the engine asks each check which records it lacks (``excerpt_requests``: at most a few dozen, the
members of the largest groups it reports), reads just those rows back from their files, and hands
the texts over (``add_excerpts``) - so a sharded scan reports the same excerpts as one scan.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from ..checks.base import Check
from ..readers import BadRecordSink, InputFile, ReadOptions, read_file


def read_rows(info: InputFile, file_index: int, text_field: str | ReadOptions, rows: list[int],
              batch_size: int = 4096) -> dict[int, str]:
    """The texts of ``rows`` of one input (read up to the last of them)."""
    wanted, last, out = set(rows), max(rows), {}
    sink = BadRecordSink(max_bad=1 << 62)       # bad records were already reported by the scan
    for batch in read_file(info, file_index, text_field, [], batch_size, sink, 0):
        for row, text in zip(batch.rows, batch.texts, strict=True):
            if row in wanted:
                out[row] = text
        if batch.rows and batch.rows[-1] >= last:
            break
    return out


Mapper = Callable[[Callable[..., dict[int, str]], list[tuple[Any, ...]]], list[dict[int, str]]]


def _in_order(fn: Callable[..., dict[int, str]], args: list[tuple[Any, ...]]) -> list[dict[int, str]]:
    return [fn(*a) for a in args]


def fill_excerpts(checks: list[Check], files: list[InputFile], text_field: str | ReadOptions,
                  mapper: Mapper = _in_order) -> int:
    """Fetch the texts the checks ask for; returns how many records were read back. ``mapper`` runs
    the per-file reads (in this process by default; the local engine hands them to its workers)."""
    wanted: dict[Check, dict[int, tuple[int, int]]] = {}
    rows_by_file: dict[int, set[int]] = defaultdict(set)
    for check in checks:
        asked: dict[int, tuple[int, int]] = getattr(check, "excerpt_requests", dict)()
        if asked:
            wanted[check] = asked
            for file_index, row in asked.values():
                rows_by_file[file_index].add(row)
    if not wanted:
        return 0
    order = sorted(rows_by_file)
    found = mapper(read_rows, [(files[i], i, text_field, sorted(rows_by_file[i])) for i in order])
    texts = {(i, row): text for i, got in zip(order, found, strict=True) for row, text in got.items()}
    for check, asked in wanted.items():
        adder: Any = check
        adder.add_excerpts({i: texts[loc] for i, loc in asked.items() if loc in texts})
    return len(texts)
