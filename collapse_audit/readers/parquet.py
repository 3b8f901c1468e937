"""Parquet reader: pyarrow's dataset API, projecting only the policy's fields, streaming by batch.

A 10 GB file is never loaded whole: the scanner reads row groups batch by batch and only the
projected (possibly nested, ``meta.provenance``) columns are decoded. Its fingerprint is a hash of
the audited column values (``columns-xxh3-128``), since the other columns are never read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow.parquet as pq

from ..errors import AuditError
from ..lazy import ds
from .base import BadRecordSink, InputFile, Reader, ReadOptions, RecordBatch
from .columnar import Columnar, arrow_errors, batches_from
from .stats import InputStats
from .storage import arrow_location, check_regular, is_remote, stored_size


class ParquetReader(Reader):
    """Reads Parquet files, local or remote, fetching only the columns the scan needs."""

    name = "parquet"
    suffixes = (".parquet", ".pq")
    description = "Apache Parquet"

    def count_slots(self, info: InputFile) -> int:
        """Rows from the footer: no data page is read."""
        fs, path = _location(info)
        try:
            return int(pq.ParquetFile(path, filesystem=fs).metadata.num_rows)
        except arrow_errors() as exc:
            raise AuditError(f"{info.path} is not a readable Parquet file ({_short(exc)}).") from None

    def read(self, info: InputFile, file_index: int, options: ReadOptions, sink: BadRecordSink, start: int,
             stats: InputStats) -> Iterator[RecordBatch]:
        """Stream the records through a projected dataset scan; an unreadable file is one clear error."""
        fs, path = _location(info)
        try:
            dataset = ds.dataset(path, format="parquet", filesystem=fs)
            schema = dataset.schema
        except arrow_errors() as exc:
            raise AuditError(f"{info.path} is not a readable Parquet file ({_short(exc)}).") from None
        col = Columnar(info, file_index, schema, options, sink, start, stats)
        try:
            scanner = dataset.to_batches(columns=col.projection(), batch_size=options.batch_size, use_threads=True)
            yield from batches_from(col, scanner, projected=True)
        except arrow_errors() as exc:
            raise AuditError(f"{info.path} is corrupt near row {col.row} ({_short(exc)}).") from None
        col.finish(stored_size(info.path, info.size))


def _location(info: InputFile) -> tuple[Any, str]:
    if not is_remote(info.path):
        check_regular(info.path)
    return arrow_location(info.path)


def _short(exc: BaseException) -> str:
    return (str(exc).strip() or type(exc).__name__).split("\n")[0][:160]
