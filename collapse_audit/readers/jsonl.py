"""JSON Lines reader (plain, .gz, .zst), streaming line by line.

Row numbers are 0-based line indices (row N is line N+1), so blank lines keep record rows aligned
with what ``sed -n`` shows. Every line that cannot become a record goes to the bad-record sink with
its line number; a truncated or corrupt compressed stream is reported where it broke.
"""

from __future__ import annotations

import gzip
import io
import json
import zlib
from collections.abc import Iterator
from typing import IO

from ..errors import AuditError
from .base import BadRecord, BadRecordSink, RecordBatch
from .discover import InputFile
from .fields import get_path


def _open(info: InputFile) -> IO[bytes]:
    try:
        if info.compression == "gz":
            return gzip.open(info.path, "rb")
        if info.compression == "zst":
            import zstandard

            raw = open(info.path, "rb")
            return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw, closefd=True))
        return open(info.path, "rb")
    except OSError as exc:
        raise AuditError(f"Cannot open {info.path}: {exc.strerror or exc}.") from None


def _stream_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [EOFError, OSError, zlib.error]
    try:
        import zstandard

        errors.append(zstandard.ZstdError)
    except ImportError:  # pragma: no cover - zstandard is a core dependency
        pass
    return tuple(errors)


def read_jsonl(
    info: InputFile,
    file_index: int,
    text_field: str,
    fields: list[str],
    batch_size: int,
    sink: BadRecordSink,
    start: int,
) -> Iterator[RecordBatch]:
    """Yield batches of records from one JSONL file; ``start`` is the global index of its first record."""
    stream_errors = _stream_errors()
    texts: list[str] = []
    rows: list[int] = []
    lines: list[int] = []
    values: dict[str, list] = {f: [] for f in fields}

    def flush() -> RecordBatch:
        nonlocal texts, rows, lines, values, start
        batch = RecordBatch(info.path, file_index, start, rows, lines, texts, values)
        start += len(texts)
        texts, rows, lines, values = [], [], [], {f: [] for f in fields}
        return batch

    line_no = 0
    with _open(info) as fh:
        it = iter(fh)
        while True:
            try:
                raw = next(it)
            except StopIteration:
                break
            except stream_errors as exc:
                sink.add(BadRecord(info.path, f"after line {line_no}",
                                   f"the file is truncated or corrupt ({_short(exc)}); the rest of it cannot be read"))
                break
            line_no += 1
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except UnicodeDecodeError:
                sink.add(BadRecord(info.path, f"line {line_no}", "the line is not valid UTF-8"))
                continue
            except ValueError as exc:
                sink.add(BadRecord(info.path, f"line {line_no}", f"invalid JSON ({_short(exc)})"))
                continue
            if not isinstance(record, dict):
                sink.add(BadRecord(info.path, f"line {line_no}",
                                   f"expected a JSON object, found {type(record).__name__}"))
                continue
            text = get_path(record, text_field)
            if text is None:
                sink.add(BadRecord(info.path, f"line {line_no}", f"the text field '{text_field}' is missing"))
                continue
            if not isinstance(text, str):
                sink.add(BadRecord(info.path, f"line {line_no}",
                                   f"the text field '{text_field}' is {type(text).__name__}, not a string"))
                continue
            texts.append(text)
            rows.append(line_no - 1)
            lines.append(line_no)
            for f in fields:
                values[f].append(get_path(record, f))
            if len(texts) >= batch_size:
                yield flush()
    if texts:
        yield flush()


def _short(exc: BaseException) -> str:
    msg = str(exc).strip() or type(exc).__name__
    return msg.split("\n")[0][:160]
