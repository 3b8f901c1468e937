"""Shards of a columnar format (Parquet, Arrow IPC): record batches routed row by row, buffered into
row groups (or IPC record batches) of a fixed size, every shard with the input's schema."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pyarrow as pa

from ...errors import AuditError
from ...readers import InputFile
from .base import Destinations, OnRecords, Route

BUFFER_BYTES = 64 << 20


class TableShards:
    """The shard files of one route: rows buffered up to ``group_rows`` (or ``BUFFER_BYTES``) per write."""

    def __init__(self, route: Route, schema: pa.Schema, open_writer: Callable[[str], Any],
                 write_table: Callable[[Any, pa.Table], None], group_rows: int):
        self.route, self.schema = route, schema
        self.open_writer, self.write_table, self.group_rows = open_writer, write_table, group_rows
        self.writer: Any = None
        self.count = 0
        self.shard = -1
        self.buffer: list[pa.RecordBatch] = []
        self.buffered_rows = 0
        self.buffered_bytes = 0

    def add(self, batch: pa.RecordBatch) -> None:
        """Buffer the rows of ``batch``, starting a new shard whenever the open one is full."""
        while batch.num_rows:
            room = self.route.capacity() - (self.count + self.buffered_rows)
            if self.writer is None or room <= 0:
                self._next_shard()
                room = self.route.capacity()
            part = batch.slice(0, room)
            batch = batch.slice(part.num_rows)
            self.buffer.append(part)
            self.buffered_rows += part.num_rows
            self.buffered_bytes += part.nbytes
            if self.buffered_rows >= self.group_rows or self.buffered_bytes >= BUFFER_BYTES:
                self._flush()

    def _flush(self) -> None:
        if self.buffered_rows:
            assert self.writer is not None, "rows are buffered only after a shard is open"
            self.write_table(self.writer, pa.Table.from_batches(self.buffer, schema=self.schema))
            self.count += self.buffered_rows
        self.buffer, self.buffered_rows, self.buffered_bytes = [], 0, 0

    def _next_shard(self) -> None:
        self.close()
        self.shard += 1
        self.writer = self.open_writer(self.route.staged.path(self.route.names[self.shard]))
        self.count = 0

    def close(self) -> None:
        """Write what is buffered, close the open shard and record what it holds."""
        if self.writer is not None:
            self._flush()
            self.writer.close()
            self.route.written.append((self.route.names[self.shard], self.count))
            self.writer = None


def route_batches(info: InputFile, batches: Iterable[pa.RecordBatch], dest: Destinations,
                  shards: dict[int, TableShards], on_records: OnRecords) -> None:
    """Send each row of ``batches`` (rows numbered from 0) to the shards of its route key in ``dest``."""
    row = 0
    try:
        for batch in batches:
            keys = np.zeros(batch.num_rows, dtype=np.uint8)
            lim = min(len(dest), row + batch.num_rows)
            if lim > row:
                keys[: lim - row] = dest[row:lim]
            for k, s in shards.items():
                sel = np.flatnonzero(keys == k)
                if len(sel):
                    s.add(batch.take(pa.array(sel)))
                    on_records(len(sel))
            row += batch.num_rows
    except (pa.ArrowInvalid, pa.ArrowIOError) as exc:
        raise AuditError(f"{info.path} is corrupt near row {row} ({str(exc).splitlines()[0][:160]}).") from None
