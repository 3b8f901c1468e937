"""JSON Lines reader (plain, .gz, .zst, .bz2, .xz), streaming line by line.

Row numbers are 0-based line indices (row N is line N+1), so blank lines keep record rows aligned
with what ``sed -n`` shows. Every line that cannot become a record goes to the bad-record sink with
its line number: invalid JSON or UTF-8 (CESU-8 surrogate bytes included), lone ``\\uD800`` escapes,
nesting too deep to parse, a line over ``MAX_RECORD_BYTES``. A truncated or corrupt compressed
stream is bad input naming the last good line: the rest of the file cannot be read, and auditing
the part before it without saying so would be a silently partial audit.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from typing import Any

from ..errors import AuditError
from .base import (
    MAX_RECORD_BYTES,
    BadRecord,
    BadRecordSink,
    InputFile,
    Reader,
    ReadOptions,
    RecordBatch,
)
from .batching import DictBatcher
from .records import may_hold_surrogates, may_nest_deeply
from .stats import InputStats
from .storage import is_remote
from .streams import CountingReader, count_lines, open_stream, stream_errors

BOM = b"\xef\xbb\xbf"


def truncated(info: InputFile, line_no: int, exc: BaseException) -> AuditError:
    """The bad-input error for a stream that breaks: names the file and the last good line."""
    detail = _short(exc)
    if line_no:
        return AuditError(f"{info.path} is truncated or corrupt after line {line_no} (the last complete line; "
                          f"{detail}); the rest of the file cannot be read.")
    return AuditError(f"{info.path} is truncated or corrupt before its first line ({detail}); "
                      "nothing in it can be read.")


def record_fingerprint(info: InputFile, counter: CountingReader, stats: InputStats, file_index: int) -> None:
    """Size and fingerprint of a file read whole: SHA-256 of the stored bytes, or a remote ETag."""
    entry = stats.file(file_index)
    entry.size = counter.size
    if is_remote(info.path) and info.version:
        entry.fingerprint = {"algorithm": "etag", "value": info.version}
    elif counter.sha256 is not None:
        entry.fingerprint = {"algorithm": "sha256", "value": counter.sha256.hexdigest()}


def read_lines(fh: io.BufferedIOBase, info: InputFile, on_long: Callable[[int], None],
               line_no: int = 0) -> Iterator[tuple[int, bytes]]:
    """(1-based line number, raw line) with the line length capped; stream errors become AuditError."""
    errors = stream_errors()
    while True:
        try:
            raw = fh.readline(MAX_RECORD_BYTES + 1)
            if not raw:
                return
            line_no += 1
            if len(raw) > MAX_RECORD_BYTES and not raw.endswith(b"\n"):
                while (rest := fh.readline(1 << 20)) and not rest.endswith(b"\n"):
                    pass
                on_long(line_no)
                continue
        except errors as exc:
            raise truncated(info, line_no, exc) from None
        yield line_no, raw


class JsonlReader(Reader):
    """Reads JSON Lines (optionally compressed), one record per line, with over-long lines refused."""

    name = "jsonl"
    suffixes = (".jsonl", ".ndjson", ".jsonlines")
    compressions = ("gz", "zst", "bz2", "xz")
    description = "JSON Lines, one object per line"

    def count_slots(self, info: InputFile) -> int:
        """Lines of the file (one streaming pass); a truncation is reported by ``read`` with its line."""
        return count_lines(info.path, info.compression)

    def read(self, info: InputFile, file_index: int, options: ReadOptions, sink: BadRecordSink, start: int,
             stats: InputStats) -> Iterator[RecordBatch]:
        """Stream the lines as records, each bad line reported by its number, hashing the stored bytes."""
        batcher = DictBatcher(info, file_index, options, sink, start, stats)
        fh, counter = open_stream(info.path, info.compression, hash_bytes=True)

        def too_long(line_no: int) -> None:
            batcher.bad(f"line {line_no}", f"the line is longer than {MAX_RECORD_BYTES >> 20} MiB, "
                                           "the cap on one record")

        last_line = 0
        with fh:
            for line_no, raw in read_lines(fh, info, too_long):
                last_line = line_no
                if line_no == 1 and raw.startswith(BOM):
                    raw = raw[len(BOM):]
                if not raw.strip():
                    continue
                parsed = parse_json(raw, info, f"line {line_no}", sink)
                if parsed is None:
                    continue
                done = batcher.add(parsed[0], line_no - 1, line_no, f"line {line_no}", *parsed[1:])
                if done is not None:
                    yield done
            try:
                counter.drain()
            except stream_errors() as exc:
                raise truncated(info, last_line, exc) from None
        last = batcher.flush()
        if last is not None:
            yield last
        record_fingerprint(info, counter, stats, file_index)


def parse_json(raw: bytes, info: InputFile, where: str, sink: BadRecordSink) -> tuple[Any, bool, bool] | None:
    """Strict UTF-8 decode + JSON parse: (value, may hold surrogates, may nest too deep), or None
    after reporting it."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        sink.add(BadRecord(info.path, where, f"the line is not valid UTF-8 (byte {exc.start})"))
        return None
    try:
        return json.loads(line), may_hold_surrogates(line), may_nest_deeply(line)
    except RecursionError:
        sink.add(BadRecord(info.path, where, "the JSON is nested too deeply to parse"))
    except ValueError as exc:
        sink.add(BadRecord(info.path, where, f"invalid JSON ({_short(exc)})"))
    return None


def _short(exc: BaseException) -> str:
    msg = str(exc).strip() or type(exc).__name__
    return msg.split("\n")[0][:160]
