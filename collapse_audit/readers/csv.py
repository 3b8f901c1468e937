"""CSV / TSV reader: pyarrow.csv streaming, every column read as bytes and decoded per value.

Reading every column as binary means a column is never type-guessed from its first block (an
``id`` column of digits that later holds a letter would otherwise stop the stream), and a value
that is not valid UTF-8 is a bad record for its row instead of a fatal conversion error. A row
with the wrong number of fields is a bad record named by its line number. Row numbers are 0-based
among the data rows that parsed. The fingerprint is SHA-256 of the bytes as stored.
"""

from __future__ import annotations

import csv as pycsv
import io
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from ..errors import AuditError
from .base import BadRecord, BadRecordSink, InputFile, Reader, ReadOptions, RecordBatch
from .columnar import Columnar, arrow_errors, batches_from
from .jsonl import record_fingerprint, truncated
from .stats import InputStats
from .streams import count_lines, open_stream, stream_errors

HEADER_PEEK = 1 << 20


class CsvReader(Reader):
    """Reads CSV and TSV files (optionally compressed) whose first row names the columns."""

    name = "csv"
    suffixes = (".csv", ".tsv")
    compressions = ("gz", "zst", "bz2", "xz")
    description = "CSV / TSV with a header row"

    def count_slots(self, info: InputFile) -> int:
        """Lines after the header: an upper bound on data rows (quoted newlines make rows span lines)."""
        return max(0, count_lines(info.path, info.compression) - 1)

    def read(self, info: InputFile, file_index: int, options: ReadOptions, sink: BadRecordSink, start: int,
             stats: InputStats) -> Iterator[RecordBatch]:
        """Stream the rows as records, hashing the stored bytes for the input's fingerprint."""
        delimiter = "\t" if _base_name(info).endswith(".tsv") else ","
        fh, counter = open_stream(info.path, info.compression, hash_bytes=True)
        with fh:
            names = _header(fh, info, delimiter)
            bad_rows: list[BadRecord] = []

            def on_bad(row: pacsv.InvalidRow) -> str:
                where = f"line {row.number}" if row.number and row.number > 0 else f"the row {_excerpt(row.text)}"
                bad_rows.append(BadRecord(info.path, where, f"expected {row.expected_columns} fields, "
                                                            f"found {row.actual_columns}"))
                return "skip"

            try:
                reader = pacsv.open_csv(
                    fh,
                    read_options=pacsv.ReadOptions(block_size=1 << 22),
                    parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_bad,
                                                     newlines_in_values=True),
                    convert_options=pacsv.ConvertOptions(column_types={n: pa.binary() for n in names},
                                                         strings_can_be_null=False, quoted_strings_can_be_null=False),
                )
            except stream_errors() as exc:
                raise truncated(info, 0, exc) from None
            except arrow_errors() as exc:
                raise AuditError(f"{info.path} is not a readable CSV file ({_short(exc)}).") from None
            col = Columnar(info, file_index, reader.schema, options, sink, start, stats, hash_columns=False)
            try:
                for rb in reader:
                    for bad in bad_rows:
                        sink.add(bad)
                    bad_rows.clear()
                    yield from batches_from(col, _sized(rb, options.batch_size), projected=False)
            except stream_errors() as exc:
                raise truncated(info, 0, exc) from None
            except arrow_errors() as exc:
                raise AuditError(f"{info.path} cannot be parsed near data row {col.row} ({_short(exc)}).") from None
            for bad in bad_rows:
                sink.add(bad)
            counter.drain()
        record_fingerprint(info, counter, stats, file_index)


def _excerpt(text: str) -> str:
    """A malformed row quoted inertly (pyarrow gives no line number when streaming)."""
    shown = text if len(text) <= 60 else text[:57] + "..."
    return ascii(shown)


def _sized(rb: pa.RecordBatch, size: int) -> Iterator[pa.RecordBatch]:
    for offset in range(0, rb.num_rows, size):
        yield rb.slice(offset, size)


def _base_name(info: InputFile) -> str:
    name = info.path.lower()
    for suffix in (".gz", ".zst", ".zstd", ".bz2", ".xz"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _header(fh: Any, info: InputFile, delimiter: str) -> list[str]:  # any buffered stream with peek()
    """Column names from the first record of the file (peeked, not consumed)."""
    try:
        head = fh.peek(HEADER_PEEK)[:HEADER_PEEK]
    except stream_errors() as exc:
        raise truncated(info, 0, exc) from None
    text = head.decode("utf-8-sig", errors="replace")
    try:
        row = next(pycsv.reader(io.StringIO(text), delimiter=delimiter))
    except (StopIteration, pycsv.Error):
        raise AuditError(f"{info.path} has no header row (CSV files need one naming the columns).") from None
    if not row or not any(c.strip() for c in row):
        raise AuditError(f"{info.path} has no header row (CSV files need one naming the columns).")
    return row


def _short(exc: BaseException) -> str:
    return (str(exc).strip() or type(exc).__name__).split("\n")[0][:160]
