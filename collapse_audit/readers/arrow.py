"""Arrow IPC reader: ``.arrow``/``.feather``/``.ipc`` in the file (random access) or stream format.

Hugging Face ``save_to_disk`` shards are IPC *streams* named ``.arrow``; Feather v2 files are IPC
*files*. Both are read batch by batch, memory-mapped when local, so a shard is never loaded whole;
the fingerprint is a hash of the audited column values, as for Parquet.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyarrow as pa
from pyarrow import ipc

from ..errors import AuditError
from .base import BadRecordSink, InputFile, Reader, ReadOptions, RecordBatch
from .columnar import Columnar, arrow_errors, batches_from
from .stats import InputStats
from .storage import arrow_location, check_regular, stored_size


@contextmanager
def open_ipc(info: InputFile) -> Iterator[tuple[str, Any]]:
    """(kind, reader) where kind is "file" (random access) or "stream"."""
    fs, path = arrow_location(info.path)
    try:
        if fs is None:
            check_regular(path)
            source = pa.memory_map(path, "r")
        else:
            source = fs.open_input_file(path)
    except arrow_errors() as exc:
        raise AuditError(f"Cannot open {info.path} ({_short(exc)}).") from None
    try:
        try:
            yield "file", ipc.open_file(source)
            return
        except pa.ArrowInvalid:
            source.seek(0)
        try:
            reader = ipc.open_stream(source)
        except arrow_errors() as exc:
            raise AuditError(f"{info.path} is not a readable Arrow IPC file or stream ({_short(exc)}).") from None
        yield "stream", reader
    finally:
        source.close()


def _batches(kind: str, reader: Any) -> Iterator[pa.RecordBatch]:
    if kind == "file":
        for i in range(reader.num_record_batches):
            yield reader.get_batch(i)
    else:
        yield from reader


def _sized(batches: Iterator[pa.RecordBatch], size: int) -> Iterator[pa.RecordBatch]:
    for rb in batches:
        for offset in range(0, rb.num_rows, size):
            yield rb.slice(offset, size)


class ArrowReader(Reader):
    """Reads Arrow IPC files and streams, memory-mapped when local so only the batches in use are paged in."""

    name = "arrow"
    suffixes = (".arrow", ".feather", ".ipc", ".arrows")
    description = "Arrow IPC file or stream (Feather v2)"

    def count_slots(self, info: InputFile) -> int:
        """Rows of every record batch (batch headers only when memory-mapped)."""
        with open_ipc(info) as (kind, reader):
            try:
                return sum(rb.num_rows for rb in _batches(kind, reader))
            except arrow_errors() as exc:
                raise AuditError(f"{info.path} is not a readable Arrow IPC file or stream ({_short(exc)}).") from None

    def read(self, info: InputFile, file_index: int, options: ReadOptions, sink: BadRecordSink, start: int,
             stats: InputStats) -> Iterator[RecordBatch]:
        """Stream the records in batches of ``batch_size``; a corrupt file is an error naming the row near it."""
        with open_ipc(info) as (kind, reader):
            col = Columnar(info, file_index, reader.schema, options, sink, start, stats)
            try:
                yield from batches_from(col, _sized(_batches(kind, reader), options.batch_size), projected=False)
            except arrow_errors() as exc:
                raise AuditError(f"{info.path} is corrupt near row {col.row} ({_short(exc)}).") from None
        col.finish(stored_size(info.path, info.size))


def _short(exc: BaseException) -> str:
    return (str(exc).strip() or type(exc).__name__).split("\n")[0][:160]

