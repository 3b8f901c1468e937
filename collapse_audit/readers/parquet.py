"""Parquet reader: pyarrow's dataset API, projecting only the policy's fields, streaming by batch.

A 10 GB file is never loaded whole: the scanner reads row groups batch by batch and only the
projected (possibly nested, ``meta.provenance``) columns are decoded.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from ..errors import AuditError
from .base import BadRecord, BadRecordSink, RecordBatch
from .discover import InputFile


def _field_type(schema: pa.Schema, path: str) -> pa.DataType | None:
    """Type at a dotted path through struct columns, or None when absent."""
    if path in schema.names:
        return schema.field(path).type
    typ: pa.DataType | None = None
    fields = schema
    for part in path.split("."):
        if isinstance(fields, pa.Schema):
            if part not in fields.names:
                return None
            typ = fields.field(part).type
        elif pa.types.is_struct(fields):
            idx = fields.get_field_index(part)
            if idx < 0:
                return None
            typ = fields.field(idx).type
        else:
            return None
        fields = typ
    return typ


def _expr(schema: pa.Schema, path: str) -> pc.Expression:
    return pc.field(path) if path in schema.names else pc.field(*path.split("."))


def read_parquet(
    info: InputFile,
    file_index: int,
    text_field: str,
    fields: list[str],
    batch_size: int,
    sink: BadRecordSink,
    start: int,
) -> Iterator[RecordBatch]:
    try:
        dataset = ds.dataset(info.path, format="parquet")
        schema = dataset.schema
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as exc:
        raise AuditError(f"{info.path} is not a readable Parquet file ({_short(exc)}).") from None
    text_type = _field_type(schema, text_field)
    if text_type is None:
        raise AuditError(f"{info.path} has no column '{text_field}' (the text field).")
    if not (pa.types.is_string(text_type) or pa.types.is_large_string(text_type)
            or pa.types.is_string_view(text_type)):
        raise AuditError(f"Column '{text_field}' in {info.path} is {text_type}, not a string.")
    present = [f for f in fields if _field_type(schema, f) is not None]
    columns = {"__text": _expr(schema, text_field), **{f: _expr(schema, f) for f in present}}
    row = 0
    try:
        for rb in dataset.to_batches(columns=columns, batch_size=batch_size, use_threads=True):
            texts = rb.column("__text").to_pylist()
            values = {f: (rb.column(f).to_pylist() if f in present else [None] * rb.num_rows) for f in fields}
            if rb.column("__text").null_count:
                keep = []
                for i, t in enumerate(texts):
                    if t is None:
                        sink.add(BadRecord(info.path, f"row {row + i}", f"the text field '{text_field}' is null"))
                    else:
                        keep.append(i)
                texts = [texts[i] for i in keep]
                values = {f: [v[i] for i in keep] for f, v in values.items()}
                rows = [row + i for i in keep]
            else:
                rows = list(range(row, row + rb.num_rows))
            row += rb.num_rows
            if texts:
                yield RecordBatch(info.path, file_index, start, rows, None, texts, values)
                start += len(texts)
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as exc:
        raise AuditError(f"{info.path} is corrupt near row {row} ({_short(exc)}).") from None


def _short(exc: BaseException) -> str:
    return (str(exc).strip() or type(exc).__name__).split("\n")[0][:160]
