"""JSON files (``.json``): data only when the file holds an array of records.

The array is streamed element by element (``raw_decode`` over a sliding buffer), so a large file is
never loaded whole and one element may not exceed ``MAX_RECORD_BYTES``. Rows are 0-based element
indices; messages name the element and the line it starts on.

A ``.json`` file whose first line is a complete JSON object is JSON Lines under another name and is
read as such; any other JSON document (a pretty-printed object such as ``dataset_info.json``) is not
data: a directory scan lists it as skipped, naming it on the command line is an error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any, NamedTuple

from ..errors import AuditError
from .base import (
    MAX_RECORD_BYTES,
    BadRecordSink,
    InputFile,
    Reader,
    ReadOptions,
    RecordBatch,
)
from .batching import DictBatcher
from .jsonl import BOM, record_fingerprint, truncated
from .records import may_hold_surrogates, may_nest_deeply
from .stats import InputStats
from .streams import open_stream, stream_errors

STEP = 1 << 20
SNIFF = 1 << 20
_WS = b" \t\r\n"


class JsonArrayReader(Reader):
    """Reads a JSON file holding one array of records, streaming its elements without loading the file."""

    name = "json"
    suffixes = (".json",)
    compressions = ("gz", "zst", "bz2", "xz")
    description = "JSON file holding an array of records (or JSON Lines named .json)"

    def sniff(self, info: InputFile) -> InputFile | str:
        """Arrays stay here, JSON Lines named ``.json`` go to the JSONL reader; anything else is refused, with why."""
        fh, _ = open_stream(info.path, info.compression)
        try:
            with fh:
                head = fh.read(SNIFF)
        except stream_errors():
            return info  # the read reports the corruption with its location
        head = head.removeprefix(BOM)
        body = head.lstrip(_WS)
        if body.startswith(b"["):
            return info
        if body.startswith(b"{"):
            first, newline, _ = body.partition(b"\n")
            if not newline and len(head) >= SNIFF:
                return replace(info, format="jsonl")  # a first line over 1 MiB: only JSON Lines does that
            try:
                if isinstance(json.loads(first.decode("utf-8")), dict):
                    return replace(info, format="jsonl")
            except (ValueError, RecursionError):
                pass
            return "a JSON document that is not an array of records (metadata?)"
        if not body:
            return info  # empty: the read says so
        return "a JSON document that is not an array of records"

    def count_slots(self, info: InputFile) -> int:
        """Elements of the array (one streaming pass, parsing each element)."""
        n = 0
        try:
            for _ in _elements(info):
                n += 1
        except AuditError:
            pass
        return n

    def read(self, info: InputFile, file_index: int, options: ReadOptions, sink: BadRecordSink, start: int,
             stats: InputStats) -> Iterator[RecordBatch]:
        """Stream the array's elements as records, each located by element index and line."""
        batcher = DictBatcher(info, file_index, options, sink, start, stats)
        counter_box: list[Any] = []
        for row, line, value, raw in _elements(info, counter_box):
            done = batcher.add(value, row, line, f"element {row} (line {line})", may_hold_surrogates(raw),
                               may_nest_deeply(raw))
            if done is not None:
                yield done
        last = batcher.flush()
        if last is not None:
            yield last
        record_fingerprint(info, counter_box[0], stats, file_index)


class Element(NamedTuple):
    """One array element: its index, the line it starts on, its parsed value and its text as stored."""

    row: int
    line: int
    value: object
    raw: str


def _elements(info: InputFile, counter_box: list[Any] | None = None) -> Iterator[Element]:
    """Each element of the array, in order (see ``ArrayElements``)."""
    fh, counter = open_stream(info.path, info.compression, hash_bytes=True)
    if counter_box is not None:
        counter_box.append(counter)
    with fh:
        walker = ArrayElements(info, fh)
        yield from walker.elements()
        if walker.closed:
            counter.drain()   # the bytes after the closing bracket count towards the fingerprint too


def iter_elements(info: InputFile) -> Iterator[Element]:
    """Each element of the JSON array in ``info``, with its text as stored (the filter copies it)."""
    return _elements(info)


class ArrayElements:
    """Walks a JSON array over a sliding text buffer, element by element.

    An element that cannot be parsed is bad input (AuditError naming element and line): without a
    parse, where the next element starts is unknown. Records that parse but are unusable (no text,
    not an object, lone surrogates) are bad records, judged by the batcher like JSONL lines."""

    def __init__(self, info: InputFile, fh: Any):
        self.info, self.fh = info, fh
        self.decoder = json.JSONDecoder()
        self.buf, self.pos, self.line, self.eof = "", 0, 1, False
        self.pending = b""
        self.closed = False    # the closing bracket was read

    def elements(self) -> Iterator[Element]:
        """The elements, then a check that nothing follows the closing bracket."""
        path = self.info.path
        self.skip_ws()
        if self.pos >= len(self.buf):
            return  # empty file: no records (the engine says the input is empty)
        if self.buf[self.pos] != "[":
            raise AuditError(f"{path}, line {self.line}: expected a JSON array of records.")
        self.pos += 1
        self.skip_ws()
        if self.pos < len(self.buf) and self.buf[self.pos] == "]":
            return
        row = 0
        while True:
            yield self.element(row)
            row += 1
            if self.after_element(row):
                return

    def element(self, row: int) -> Element:
        """Parse the element at the cursor and move past it."""
        self.skip_ws()
        if self.pos >= len(self.buf):
            raise AuditError(f"{self.info.path} is truncated after line {self.line} (the array is not closed).")
        start_line = self.line
        value, end, err = self.decode()
        if err is not None or end is None:
            if len(self.buf) - self.pos > MAX_RECORD_BYTES:
                err = f"the element is longer than {MAX_RECORD_BYTES >> 20} MiB, the cap on one record"
            raise AuditError(f"{self.info.path}, element {row} (line {start_line}): {err}; the rest of the "
                             "array cannot be located.")
        raw = self.buf[self.pos:end]
        self.line += raw.count("\n")
        self.pos = end
        return Element(row, start_line, value, raw)

    def decode(self) -> tuple[object, int | None, str | None]:
        """(value, end, error) of the element at the cursor, reading more text until it is complete."""
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buf, self.pos)
                err = None
            except RecursionError:
                value, end, err = None, None, "the JSON is nested too deeply to parse"
            except ValueError as exc:
                value, end, err = None, None, f"invalid JSON ({str(exc).splitlines()[0][:160]})"
            if end is not None and (end < len(self.buf) or self.eof):
                return value, end, err
            if end is None and (self.eof or len(self.buf) - self.pos > MAX_RECORD_BYTES):
                return value, end, err
            if not self.more() and end is not None:
                return value, end, err

    def after_element(self, row: int) -> bool:
        """Step over the ``,`` after an element (False) or the closing ``]`` (True)."""
        self.skip_ws()
        path = self.info.path
        if self.pos >= len(self.buf):
            raise AuditError(f"{path} is truncated after line {self.line} (the array is not closed).")
        if self.buf[self.pos] == ",":
            self.pos += 1
            return False
        if self.buf[self.pos] == "]":
            self.pos += 1
            self.skip_ws()
            if self.pos < len(self.buf):
                raise AuditError(f"{path}, line {self.line}: unexpected data after the end of the array.")
            self.closed = True
            return True
        raise AuditError(f"{path}, line {self.line}: expected ',' or ']' after element {row - 1}.")

    def skip_ws(self) -> None:
        """Move the cursor past whitespace, counting lines and reading more text as needed."""
        while True:
            buf = self.buf
            while self.pos < len(buf) and buf[self.pos] in " \t\r\n":
                if buf[self.pos] == "\n":
                    self.line += 1
                self.pos += 1
            if self.pos < len(buf) or not self.more():
                return

    def more(self) -> bool:
        """Append the next chunk of text to the buffer (False at the end of the file)."""
        if self.eof:
            return False
        try:
            chunk = self.fh.read(STEP)
        except stream_errors() as exc:
            raise truncated(self.info, self.line, exc) from None
        if not chunk:
            self.eof = True
            if self.pending:
                raise AuditError(f"{self.info.path}, line {self.line}: the file ends inside a UTF-8 character.")
            return False
        text = self._decode(self.pending + chunk)
        if not self.buf and self.line == 1 and text.startswith("\ufeff"):
            text = text[1:]
        self.buf = self.buf[self.pos:] + text
        self.pos = 0
        return True

    def _decode(self, data: bytes) -> str:
        """The text of ``data`` up to its last complete UTF-8 character (the rest waits in ``pending``)."""
        cut = len(data)
        while cut > 0 and cut > len(data) - 4 and (data[cut - 1] & 0xC0) == 0x80:
            cut -= 1
        if cut > 0 and data[cut - 1] >= 0xC0:
            cut -= 1
        data, self.pending = data[:cut], data[cut:]
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise AuditError(f"{self.info.path}, near line {self.line}: the file is not valid UTF-8 "
                             f"(byte {exc.start} of a chunk); a JSON array must be UTF-8 throughout.") from None
