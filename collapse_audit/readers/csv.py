"""CSV / TSV reader: pyarrow.csv streaming, every column read as bytes and decoded per value.

Reading every column as binary means a column is never type-guessed from its first block (an
``id`` column of digits that later holds a letter would otherwise stop the stream), and a value
that is not valid UTF-8 is a bad record for its row instead of a fatal conversion error. A row
with the wrong number of fields is a bad record named by its line number. Row numbers are 0-based
among the data rows that parsed. The fingerprint is SHA-256 of the bytes as stored.

Each record also carries the physical line it starts on (``RecordBatch.lines``), which pyarrow does
not report: ``RecordLines`` watches the decompressed bytes on their way to pyarrow and splits them
into records as a CSV parser does (a quoted value may span lines; blank lines and rows with the
wrong number of fields are not rows), so a report can say ``file.csv:LINE``.
"""

from __future__ import annotations

import csv as pycsv
import io
from collections import deque
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
            tap = RecordLines(fh, delimiter, len(names))
            bad_rows: list[BadRecord] = []

            def on_bad(row: pacsv.InvalidRow) -> str:
                where = f"line {row.number}" if row.number and row.number > 0 else f"the row {_excerpt(row.text)}"
                bad_rows.append(BadRecord(info.path, where, f"expected {row.expected_columns} fields, "
                                                            f"found {row.actual_columns}"))
                return "skip"

            try:
                reader = pacsv.open_csv(
                    tap,
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
                    for batch in batches_from(col, _sized(rb, options.batch_size), projected=False):
                        batch.lines = tap.lines_for(batch.rows)
                        yield batch
            except stream_errors() as exc:
                raise truncated(info, 0, exc) from None
            except arrow_errors() as exc:
                raise AuditError(f"{info.path} cannot be parsed near data row {col.row} ({_short(exc)}).") from None
            for bad in bad_rows:
                sink.add(bad)
            counter.drain()
        record_fingerprint(info, counter, stats, file_index)


class RecordLines:
    """A read-through wrapper of the decompressed stream that notes the line each data row starts on.

    The bytes pyarrow reads pass through ``read`` and are split into physical lines, joined into
    records while a quoted value is open (the ``csv`` module decides, strictly, for a record holding
    a quote), and each record that pyarrow will count as a row - not blank, holding exactly as many
    fields as the header - gets the next row number. Only the rows not yet handed out are kept
    (a block's worth: pyarrow reads a block before it parses it), so memory stays bounded.
    """

    def __init__(self, raw: Any, delimiter: str, width: int):
        self.raw, self.delimiter, self.width = raw, delimiter, width
        self.delim = delimiter.encode()
        self.line = 0              # physical lines seen
        self.rows = 0              # data rows found
        self.header = True         # the first record names the columns
        self.partial = b""         # an unterminated last line
        self.record: list[bytes] = []
        self.start = 0             # the line the open record starts on
        self.starts: deque[tuple[int, int]] = deque()   # (row, line) not yet handed out
        self.broken = False        # lines could not be told apart: report none rather than wrong ones

    # the file-object interface pyarrow uses
    @property
    def closed(self) -> bool:
        """Whether the stream underneath is closed."""
        return bool(self.raw.closed)

    def read(self, size: int = -1) -> bytes:
        """Read from the stream underneath, noting the records in what passes."""
        data = self.raw.read(size)
        try:
            self._feed(data)
        except Exception:  # noqa: BLE001 - line numbers are a courtesy; never let them break the read
            self.broken = True
        return data

    def lines_for(self, rows: list[int]) -> list[int] | None:
        """The start lines of ``rows`` (increasing), or None when they are not all known."""
        out = []
        for row in rows:
            while self.starts and self.starts[0][0] < row:
                self.starts.popleft()
            if self.broken or not self.starts or self.starts[0][0] != row:
                return None
            out.append(self.starts.popleft()[1])
        return out

    def _feed(self, data: bytes) -> None:
        if not data:                                   # end of file: an unterminated last line
            if self.partial:
                self._line(self.partial)
                self.partial = b""
            if self.record:
                self._finish()
            return
        pieces = (self.partial + data).split(b"\n")
        self.partial = pieces.pop()
        for piece in pieces:
            self._line(piece + b"\n")

    def _line(self, line: bytes) -> None:
        self.line += 1
        if not self.record:
            self.start = self.line
        self.record.append(line)
        if b'"' not in line and len(self.record) == 1 or self._complete():
            self._finish()

    def _complete(self) -> bool:
        """Whether the open record (holding a quote) ends here: a strict CSV parse does not run out."""
        try:
            next(pycsv.reader([self._text_of(self.record)], delimiter=self.delimiter, strict=True), None)
        except pycsv.Error as exc:
            return "unexpected end of data" not in str(exc)
        return True

    def _finish(self) -> None:
        record, self.record = self.record, []
        if len(record) == 1 and record[0] in (b"\n", b"\r\n"):
            return                                    # a blank line is not a row
        if self.header:
            self.header = False
            return
        if self._fields(record) == self.width:
            self.starts.append((self.rows, self.start))
            self.rows += 1

    def _fields(self, record: list[bytes]) -> int:
        if len(record) == 1 and b'"' not in record[0]:
            return record[0].count(self.delim) + 1
        try:
            return len(next(pycsv.reader([self._text_of(record)], delimiter=self.delimiter), []))
        except pycsv.Error:
            return -1

    @staticmethod
    def _text_of(record: list[bytes]) -> str:
        return b"".join(record).decode("utf-8", errors="replace").rstrip("\r\n")


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
