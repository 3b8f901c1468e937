"""Parquet: every column, the input's Arrow schema (with its metadata) and compression codec.

Row groups hold ``--row-group-size`` rows (default: the input's first row-group size), buffered up
to that many rows or ``BUFFER_BYTES``, whichever comes first.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from ...errors import AuditError
from ...readers import InputFile
from .base import Destinations, OnRecords, Route, Writer, register_writer
from .tables import TableShards, route_batches


@register_writer
class ParquetWriter(Writer):
    """Writes kept Parquet rows with the input's schema and codec."""

    format = "parquet"

    def write(self, info: InputFile, dest: Destinations, routes: dict[int, Route], row_group_size: int | None,
              on_records: OnRecords) -> None:
        """Stream the input's row batches, each row to the route its row is planned for."""
        try:
            pf = pq.ParquetFile(info.path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise AuditError(f"{info.path} is not a readable Parquet file ({str(exc).splitlines()[0][:160]}).") \
                from None
        meta = pf.metadata
        codec = "snappy"
        if meta.num_row_groups and meta.num_columns:
            codec = meta.row_group(0).column(0).compression.lower()
            codec = "none" if codec == "uncompressed" else codec
        rg = row_group_size or (meta.row_group(0).num_rows if meta.num_row_groups else 65536) or 65536
        schema = pf.schema_arrow

        def open_writer(path: str) -> pq.ParquetWriter:
            return pq.ParquetWriter(path, schema, compression=codec)

        def write_table(writer: pq.ParquetWriter, table: pa.Table) -> None:
            writer.write_table(table, row_group_size=rg)

        shards = {k: TableShards(r, schema, open_writer, write_table, rg) for k, r in routes.items()}
        try:
            route_batches(info, pf.iter_batches(batch_size=min(rg, 8192), use_threads=True), dest, shards,
                          on_records)
        finally:
            for s in shards.values():
                s.close()
