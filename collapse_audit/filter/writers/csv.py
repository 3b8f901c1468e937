"""CSV / TSV (plain or compressed): the header, then each kept record as the bytes it was stored as.

A record is the physical lines from its first up to the one that closes its last quoted field (so
a value holding a newline stays one record). Rows are numbered as the reader numbers them: among
the records pyarrow parses, i.e. not counting blank lines or rows with the wrong number of fields
(those are not copied). Every shard starts with the input's header line, byte for byte.
"""

from __future__ import annotations

import csv as pycsv
from collections.abc import Iterable, Iterator

from ...readers import InputFile
from ...readers.storage import COMPRESSIONS
from ...readers.streams import open_stream
from .base import Destinations, OnRecords, Route, Writer, register_writer
from .text import Framing, TextShards, intact_lines


@register_writer
class CsvWriter(Writer):
    """Copies kept CSV/TSV records unchanged under the input's header."""

    format = "csv"

    def write(self, info: InputFile, dest: Destinations, routes: dict[int, Route], row_group_size: int | None,
              on_records: OnRecords) -> None:
        """Stream the input's records once, each to the route its row is planned for."""
        delimiter = "\t" if _data_name(info.path).endswith(".tsv") else ","
        shards: dict[int, TextShards] = {}
        try:
            with open_stream(info.path, info.compression)[0] as fh:
                records = raw_records(intact_lines(fh))
                header = next(records, b"")
                width = field_count(header, delimiter)
                framing = Framing(prologue=header if header.endswith(b"\n") else header + b"\n")
                shards = {k: TextShards(r, info.compression, framing) for k, r in routes.items()}
                for row, record in enumerate(parsed_rows(records, width, delimiter)):
                    if row >= len(dest):
                        break
                    key = int(dest[row])
                    if key:
                        shards[key].write(record)
                        on_records(1)
        finally:
            for s in shards.values():
                s.close()


def raw_records(lines: Iterable[bytes]) -> Iterator[bytes]:
    """Physical lines joined into records: a line that leaves a quoted field open continues on the next."""
    parts: list[bytes] = []
    quotes = 0
    for line in lines:
        parts.append(line)
        quotes += line.count(b'"')
        if quotes % 2 == 0:
            yield b"".join(parts)
            parts, quotes = [], 0
    if parts:
        yield b"".join(parts)


def parsed_rows(records: Iterable[bytes], width: int, delimiter: str) -> Iterator[bytes]:
    """The records the reader counts as rows: not blank lines, and holding exactly ``width`` fields."""
    for record in records:
        if record in (b"\n", b"\r\n", b""):
            continue
        if field_count(record, delimiter) == width:
            yield record


def field_count(record: bytes, delimiter: str) -> int:
    """Fields of one raw record, as the csv module splits it (0 for none)."""
    text = record.decode("utf-8-sig", errors="replace").rstrip("\r\n")
    try:
        return len(next(pycsv.reader([text], delimiter=delimiter), []))
    except pycsv.Error:
        return -1


def _data_name(path: str) -> str:
    """The lower-cased file name without a compression suffix (``x.tsv.gz`` -> ``x.tsv``)."""
    low = path.lower()
    for suffix in COMPRESSIONS:
        if low.endswith(suffix):
            return low[: -len(suffix)]
    return low
