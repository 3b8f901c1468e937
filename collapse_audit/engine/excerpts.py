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

from ..checks.base import Check
from ..readers import BadRecordSink, InputFile, read_file


def fill_excerpts(checks: list[Check], files: list[InputFile], text_field: str, batch_size: int = 4096) -> int:
    """Fetch the texts the checks ask for; returns how many records were read back."""
    wanted: dict[Check, dict[int, tuple[int, int]]] = {}
    rows_by_file: dict[int, set[int]] = defaultdict(set)
    for check in checks:
        asked = getattr(check, "excerpt_requests", lambda: {})()
        if asked:
            wanted[check] = asked
            for file_index, row in asked.values():
                rows_by_file[file_index].add(row)
    if not wanted:
        return 0
    texts: dict[tuple[int, int], str] = {}
    for file_index, rows in sorted(rows_by_file.items()):
        last = max(rows)
        sink = BadRecordSink(max_bad=1 << 62)       # bad records were already reported by the scan
        for batch in read_file(files[file_index], file_index, text_field, [], batch_size, sink, 0):
            for row, text in zip(batch.rows, batch.texts):
                if row in rows:
                    texts[(file_index, row)] = text
            if batch.rows and batch.rows[-1] >= last:
                break
    for check, asked in wanted.items():
        check.add_excerpts({i: texts[loc] for i, loc in asked.items() if loc in texts})
    return len(texts)
