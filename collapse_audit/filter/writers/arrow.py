"""Arrow IPC (``.arrow``/``.feather``/``.ipc``): the input's IPC format (file or stream), schema and
buffer compression (none, LZ4 frame or zstd), record batches of ``--row-group-size`` rows
(default: the input's first record batch's)."""

from __future__ import annotations

import struct
from typing import Any

import pyarrow as pa
from pyarrow import ipc

from ...readers import InputFile
from ...readers.arrow import open_ipc
from .base import Destinations, OnRecords, Route, Writer, register_writer
from .tables import TableShards, route_batches

_CODECS = {0: "lz4", 1: "zstd"}     # the IPC format's CompressionType


@register_writer
class ArrowWriter(Writer):
    """Writes kept rows of an Arrow IPC file or stream in the same IPC format, schema and compression."""

    format = "arrow"

    def write(self, info: InputFile, dest: Destinations, routes: dict[int, Route], row_group_size: int | None,
              on_records: OnRecords) -> None:
        """Stream the input's record batches, each row to the route its row is planned for."""
        codec = body_compression(info.path)
        with open_ipc(info) as (kind, reader):
            schema = reader.schema
            batches = _batches(kind, reader)
            first = next(batches, None)
            rows = row_group_size or (first.num_rows if first is not None and first.num_rows else 65536)
            options = ipc.IpcWriteOptions(compression=codec)
            new = ipc.new_file if kind == "file" else ipc.new_stream

            def open_writer(path: str) -> Any:
                return new(path, schema, options=options)

            def write_table(writer: Any, table: pa.Table) -> None:
                writer.write_table(table, max_chunksize=rows)

            shards = {k: TableShards(r, schema, open_writer, write_table, rows) for k, r in routes.items()}
            try:
                route_batches(info, _chain(first, batches), dest, shards, on_records)
            finally:
                for s in shards.values():
                    s.close()


def _batches(kind: str, reader: Any):
    if kind == "file":
        return (reader.get_batch(i) for i in range(reader.num_record_batches))
    return iter(reader)


def _chain(first: pa.RecordBatch | None, rest):
    if first is not None:
        yield first
    yield from rest


def body_compression(path: str) -> str | None:
    """The buffer compression of the first record batch of an IPC file or stream (None: uncompressed).

    pyarrow does not report it, so it is read from the batch's message header (a flatbuffer:
    ``Message.header`` -> ``RecordBatch.compression`` -> ``BodyCompression.codec``)."""
    with pa.OSFile(path, "rb") as f:
        if f.read(6) != b"ARROW1":
            f.seek(0)
        else:
            f.seek(8)
        reader = ipc.MessageReader.open_stream(f)
        for message in reader:
            if message.type == "record batch":
                return _codec(message.metadata.to_pybytes())
    return None


def _table(buf: bytes, pos: int) -> tuple[int, int]:
    """(table position, vtable position) of the flatbuffer table at ``pos``."""
    return pos, pos - struct.unpack_from("<i", buf, pos)[0]


def _field(buf: bytes, table: tuple[int, int], index: int) -> int | None:
    """The position of field ``index`` of ``table``, or None when it is absent (its default)."""
    pos, vtable = table
    size = struct.unpack_from("<H", buf, vtable)[0]
    slot = 4 + 2 * index
    if slot >= size:
        return None
    offset = struct.unpack_from("<H", buf, vtable + slot)[0]
    return pos + offset if offset else None


def _child(buf: bytes, table: tuple[int, int], index: int) -> tuple[int, int] | None:
    at = _field(buf, table, index)
    return None if at is None else _table(buf, at + struct.unpack_from("<I", buf, at)[0])


def _codec(meta: bytes) -> str | None:
    message = _table(meta, struct.unpack_from("<I", meta, 0)[0])
    batch = _child(meta, message, 2)              # Message.header (a RecordBatch here)
    compression = _child(meta, batch, 3) if batch is not None else None   # RecordBatch.compression
    if compression is None:
        return None
    at = _field(meta, compression, 0)             # BodyCompression.codec, default LZ4_FRAME
    return _CODECS.get(meta[at] if at is not None else 0)
