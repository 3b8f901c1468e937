"""The annotations Parquet file: one row per audited record, the records behind every number.

Columns (the annotations contract, README "annotations"): file, row, id, then every registered
check's declared columns in check order (exact_group, near_cluster, duplicate_of_row,
synthetic_score, provenance, ...), then issues. Only the small per-record keys (file index, row, id)
are collected while streaming; everything else comes from the checks' per-record columns at the end."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..checks.exact_duplicates import batch_keys
from ..checks.registry import annotation_columns
from ..outputs import atomic_output
from ..readers.storage import hide_url_secrets

INPUTS_KEY = b"collapse_audit.inputs"   # schema metadata: the scanned inputs' sizes and fingerprints
ARROW_TYPES = {"int64": pa.int64(), "float64": pa.float64(), "string": pa.string(), "bool": pa.bool_()}


class AnnotationCollector:
    """Collects each record's file, row and id while streaming (compact arrays, no texts)."""

    def __init__(self, id_field: str | None):
        self.id_field = id_field
        self.files: list[str] = []
        self.file_idx: list[np.ndarray] = []
        self.rows: list[np.ndarray] = []
        self.ids: list[pa.Array] = []     # compact Arrow strings, not one Python object per record
        self.fps: list[np.ndarray] = []   # (n, 2) uint64 content fingerprints: the exact-duplicate keys

    def observe(self, batch) -> None:
        """Keep the batch's file index, rows and ids (called in input order)."""
        while len(self.files) <= batch.file_index:
            self.files.append("")
        self.files[batch.file_index] = batch.file
        self.file_idx.append(np.full(len(batch), batch.file_index, dtype=np.int32))
        self.rows.append(np.asarray(batch.rows, dtype=np.int64))
        if self.id_field:
            vals = batch.fields.get(self.id_field, [None] * len(batch))
            self.ids.append(pa.array([None if v is None else str(v) for v in vals], type=pa.string()))
        else:
            self.ids.append(pa.nulls(len(batch), type=pa.string()))
        # what accepted findings are bound to: a record reusing an accepted id, or shifted into an accepted
        # row, has other content and stays a finding (computed once per batch; the exact check shares it)
        self.fps.append(np.asarray(batch_keys(batch), dtype=np.uint64).reshape(-1, 2))

    def keys(self) -> tuple[list[str], np.ndarray, np.ndarray, list[str | None], np.ndarray]:
        """(files, file index per record, row per record, id per record, (n, 2) content fingerprint per
        record) in record order."""
        file_index = np.concatenate(self.file_idx) if self.file_idx else np.zeros(0, np.int32)
        rows = np.concatenate(self.rows) if self.rows else np.zeros(0, np.int64)
        ids = pa.chunked_array(self.ids, type=pa.string()).to_pylist() if self.ids else []
        fps = np.concatenate(self.fps) if self.fps else np.zeros((0, 2), np.uint64)
        return list(self.files), file_index, rows, ids, fps

    def write(self, path: str, results: dict[str, Any], issues: pa.Array,
              inputs: list[dict[str, Any]] | None = None) -> None:
        """Write the annotations Parquet file: the keys, each check's columns and the issues; ``inputs``
        (each input's path, size and fingerprint) goes into the file's metadata, so ``filter
        --from-annotations`` can refuse a corpus that changed since (same row count, other content)."""
        indices = pa.array(np.concatenate(self.file_idx), type=pa.int32())
        columns: dict[str, pa.Array] = {
            "file": pa.DictionaryArray.from_arrays(
                indices, pa.array([hide_url_secrets(f) for f in self.files], type=pa.string())),
            "row": pa.array(np.concatenate(self.rows), type=pa.int64()),
            "id": pa.chunked_array(self.ids, type=pa.string()).combine_chunks(),
        }
        n = len(columns["row"])
        found: dict[str, Any] = {}
        for res in results.values():
            found.update(res.columns)
        for col in annotation_columns():
            columns[col.name] = _as_array(found.get(col.name), ARROW_TYPES[col.type], n)
        columns["issues"] = issues
        table = pa.table(columns)
        if inputs is not None:
            table = table.replace_schema_metadata({INPUTS_KEY: json.dumps(inputs, sort_keys=True)})
        with atomic_output(path, "wb") as fh:  # never a half-written file, never a clobbered input
            pq.write_table(table, fh)


def _as_array(col: Any, typ: pa.DataType, n: int) -> pa.Array:
    if col is None:
        return pa.nulls(n, type=typ)
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if isinstance(col, pa.Array):
        arr = col if col.type == typ else col.cast(typ)
    elif isinstance(col, np.ma.MaskedArray):
        arr = pa.array(col.data, type=typ, mask=np.ma.getmaskarray(col))
    elif isinstance(col, np.ndarray) and col.dtype.kind == "f":
        arr = pa.array(col, type=typ, from_pandas=True)  # NaN -> null
    else:
        arr = pa.array(col, type=typ)
    if len(arr) != n:
        raise RuntimeError(f"annotation column has {len(arr)} rows for {n} records")  # a bug, not user error
    return arr
