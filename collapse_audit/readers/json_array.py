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
from typing import Any

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
        for row, line, value, surrogates, deep in _elements(info, counter_box):
            done = batcher.add(value, row, line, f"element {row} (line {line})", surrogates, deep)
            if done is not None:
                yield done
        last = batcher.flush()
        if last is not None:
            yield last
        record_fingerprint(info, counter_box[0], stats, file_index)


def _elements(info: InputFile, counter_box: list[Any] | None = None) -> Iterator[tuple[int, int, object, bool, bool]]:
    """(element index, line it starts on, parsed value, may hold surrogates, may nest too deep) for
    each array element.

    An element that cannot be parsed is bad input (AuditError naming element and line): without a
    parse, where the next element starts is unknown. Records that parse but are unusable (no text,
    not an object, lone surrogates) are bad records, judged by the batcher like JSONL lines."""
    fh, counter = open_stream(info.path, info.compression, hash_bytes=True)
    if counter_box is not None:
        counter_box.append(counter)
    decoder = json.JSONDecoder()
    with fh:
        buf, pos, line, eof = "", 0, 1, False
        pending = b""

        def more() -> bool:
            nonlocal buf, pos, eof, pending
            if eof:
                return False
            try:
                chunk = fh.read(STEP)
            except stream_errors() as exc:
                raise truncated(info, line, exc) from None
            if not chunk:
                eof = True
                if pending:
                    raise AuditError(f"{info.path}, line {line}: the file ends inside a UTF-8 character.")
                return False
            data = pending + chunk
            cut = len(data)
            while cut > 0 and cut > len(data) - 4 and (data[cut - 1] & 0xC0) == 0x80:
                cut -= 1
            if cut > 0 and data[cut - 1] >= 0xC0:
                cut -= 1
            data, pending = data[:cut], data[cut:]
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise AuditError(f"{info.path}, near line {line}: the file is not valid UTF-8 "
                                 f"(byte {exc.start} of a chunk); a JSON array must be UTF-8 throughout.") from None
            if not buf and line == 1 and text.startswith("\ufeff"):
                text = text[1:]
            buf = buf[pos:] + text
            pos = 0
            return True

        def skip_ws() -> None:
            nonlocal pos, line
            while True:
                while pos < len(buf) and buf[pos] in " \t\r\n":
                    if buf[pos] == "\n":
                        line += 1
                    pos += 1
                if pos < len(buf) or not more():
                    return

        skip_ws()
        if pos >= len(buf):
            return  # empty file: no records (the engine says the input is empty)
        if buf[pos] != "[":
            raise AuditError(f"{info.path}, line {line}: expected a JSON array of records.")
        pos += 1
        row = 0
        skip_ws()
        if pos < len(buf) and buf[pos] == "]":
            return
        while True:
            skip_ws()
            if pos >= len(buf):
                raise AuditError(f"{info.path} is truncated after line {line} (the array is not closed).")
            start_line = line
            while True:
                try:
                    value, end = decoder.raw_decode(buf, pos)
                    err = None
                except RecursionError:
                    value, end, err = None, None, "the JSON is nested too deeply to parse"
                except ValueError as exc:
                    value, end, err = None, None, f"invalid JSON ({str(exc).splitlines()[0][:160]})"
                if end is not None and end < len(buf) or end is not None and eof:
                    break
                if end is None and (eof or len(buf) - pos > MAX_RECORD_BYTES):
                    break
                if not more():
                    if end is not None:
                        break
                    continue
            if err is not None or end is None:
                if len(buf) - pos > MAX_RECORD_BYTES:
                    err = f"the element is longer than {MAX_RECORD_BYTES >> 20} MiB, the cap on one record"
                raise AuditError(f"{info.path}, element {row} (line {start_line}): {err}; the rest of the "
                                 "array cannot be located.")
            raw = buf[pos:end]
            line += raw.count("\n")
            pos = end
            yield row, start_line, value, may_hold_surrogates(raw), may_nest_deeply(raw)
            row += 1
            skip_ws()
            if pos >= len(buf):
                raise AuditError(f"{info.path} is truncated after line {line} (the array is not closed).")
            if buf[pos] == ",":
                pos += 1
                continue
            if buf[pos] == "]":
                pos += 1
                skip_ws()
                if pos < len(buf):
                    raise AuditError(f"{info.path}, line {line}: unexpected data after the end of the array.")
                counter.drain()
                return
            raise AuditError(f"{info.path}, line {line}: expected ',' or ']' after element {row - 1}.")
