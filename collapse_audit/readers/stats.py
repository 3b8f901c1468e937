"""What the readers learn about each input while reading it: size, fingerprint, and the schema seen.

The engine creates one ``InputStats`` per scan and passes it to the reading loop. After the scan,
``entry(i)`` gives input ``i``'s ``{"size", "fingerprint"}`` for the result's ``inputs[]`` and
``missing_field_message`` explains a field that exists in none of the inputs, listing the columns
that do (sampled and bounded, so a wide or ragged corpus cannot grow it).

Fingerprints (``{"algorithm", "value"}``):
- ``sha256``: SHA-256 of the bytes as stored (compressed files: the compressed bytes), for formats
  read whole (JSONL, CSV, JSON arrays) - ``sha256sum FILE`` gives the same value;
- ``columns-xxh3-128``: for columnar files read in part (Parquet, Arrow), see ``ColumnHasher``;
- ``etag``: a remote object's ETag (``@version`` appended when the store has versions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import xxhash

from .records import safe

MAX_COLUMNS = 200          # distinct column/key names remembered over all inputs
SCHEMA_SAMPLE = 1000       # records per file whose keys are looked at
KEY_DEPTH = 2              # nested keys listed as 'meta.source', not deeper


@dataclass
class FileStats:
    """What is known about one input file for the result: stored size, fingerprint, records sampled."""

    size: int | None = None
    fingerprint: dict[str, Any] | None = None
    sampled: int = 0


@dataclass
class InputStats:
    """Per-input size and fingerprint, plus which requested fields were ever present."""

    fields: tuple[str, ...] = ()
    files: dict[int, FileStats] = field(default_factory=dict)
    columns: dict[str, None] = field(default_factory=dict)   # ordered set
    present: set[str] = field(default_factory=set)

    def file(self, index: int) -> FileStats:
        """The stats of file ``index``, created on first use."""
        return self.files.setdefault(index, FileStats())

    def entry(self, index: int) -> dict[str, Any]:
        """The ``size`` and ``fingerprint`` of file ``index`` as its ``inputs[]`` entry carries them."""
        f = self.files.get(index) or FileStats()
        return {"size": f.size, "fingerprint": f.fingerprint}

    # -- schema ---------------------------------------------------------------------------------
    def wants_keys(self, index: int) -> bool:
        """Whether records of file ``index`` should still be sampled for their keys (bounded per file)."""
        return self.file(index).sampled < SCHEMA_SAMPLE and len(self.columns) < MAX_COLUMNS

    def note_record(self, index: int, record: dict[str, Any]) -> None:
        """Remember the keys of one record (first ``SCHEMA_SAMPLE`` per file)."""
        self.file(index).sampled += 1
        self.note_columns(_keys(record, "", KEY_DEPTH))

    def note_columns(self, names: list[str]) -> None:
        """Remember column names seen, up to ``MAX_COLUMNS``, so memory stays bounded on wide data."""
        for name in names:
            if len(self.columns) >= MAX_COLUMNS:
                return
            self.columns.setdefault(name, None)

    def note_present(self, name: str) -> None:
        """Remember that some record had the requested field ``name``."""
        self.present.add(name)

    def missing_fields(self) -> list[str]:
        """Requested fields (in request order) that no record of any input had."""
        return [f for f in self.fields if f not in self.present]

    def missing_field_message(self, field_name: str, policy_key: str, flag: str | None = None) -> str | None:
        """E.g. "fields.provenance 'provenance' exists in none of the inputs; columns found: id, text,
        meta.source; set fields.provenance or --provenance-field." - or None when the field was seen."""
        if field_name in self.present:
            return None
        found = ", ".join(safe(c) for c in self.columns) or "none"
        how = f"set {policy_key}" + (f" or {flag}" if flag else "")
        return f"{policy_key} '{field_name}' exists in none of the inputs; columns found: {found}; {how}."


def _keys(record: Any, prefix: str, depth: int) -> list[str]:
    out: list[str] = []
    if not isinstance(record, dict):
        return out
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value and depth > 1:
            out.extend(_keys(value, name + ".", depth - 1))
        else:
            out.append(name)
    return out


class ColumnHasher:
    """``columns-xxh3-128``: a hash of the audited column values, independent of batch boundaries.

    For every projected column (keyed by its dotted path, the text column by ``text:PATH``) two
    xxh3-128 streams are kept: the value lengths (int64 little-endian; -1 for null) and the value
    bytes (strings/binary as stored; integers as int64 and floats as float64, little-endian, length
    8; other values as compact sorted-key JSON). The fingerprint is xxh3-128 over
    ``key \\0 lengths-digest data-digest`` for the keys in sorted order. Two files with the same
    values in the audited columns get the same fingerprint whatever their row groups or encodings.
    """

    def __init__(self) -> None:
        self.streams: dict[str, tuple[Any, Any]] = {}

    def update(self, key: str, array: Any) -> None:
        """Feed one column's values to its length and data hashes, so the fingerprint covers what was read."""
        import numpy as np
        import pyarrow as pa

        lengths, data = self.streams.setdefault(key, (xxhash.xxh3_128(), xxhash.xxh3_128()))
        if isinstance(array, pa.ChunkedArray):
            for chunk in array.chunks:
                self.update(key, chunk)
            return
        typ = array.type
        if pa.types.is_string_view(typ) or pa.types.is_binary_view(typ):
            array = array.cast(pa.large_binary())
            typ = array.type
        stringlike = (pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_binary(typ)
                      or pa.types.is_large_binary(typ))
        if stringlike and array.null_count == 0:
            off_type = np.int64 if (pa.types.is_large_string(typ) or pa.types.is_large_binary(typ)) else np.int32
            buffers = array.buffers()
            offsets = np.frombuffer(buffers[1], dtype=off_type)[array.offset: array.offset + len(array) + 1]
            if len(array):
                lengths.update(np.diff(offsets).astype("<i8").tobytes())
                data.update(memoryview(buffers[2])[int(offsets[0]):int(offsets[-1])])
            return
        if pa.types.is_integer(typ) or pa.types.is_floating(typ):
            numbers = array.cast(pa.float64() if pa.types.is_floating(typ) else pa.int64())
            valid = np.asarray(numbers.is_valid())
            lengths.update(np.where(valid, 8, -1).astype("<i8").tobytes())
            data.update(np.asarray(numbers.drop_null()).astype("<f8" if pa.types.is_floating(typ) else "<i8").tobytes())
            return
        if stringlike:
            values = array.cast(pa.large_binary()).to_pylist()
        else:
            import json

            try:
                values = [None if v is None else json.dumps(v, separators=(",", ":"), sort_keys=True, default=str,
                                                              ensure_ascii=False).encode("utf-8", "surrogatepass")
                          for v in array.to_pylist()]
            except (UnicodeDecodeError, ValueError, RecursionError):  # invalid UTF-8 nested in a struct
                values = [None if not array[i].is_valid else array.slice(i, 1).to_string().encode()
                          for i in range(len(array))]
        lens = np.fromiter((-1 if v is None else len(v) for v in values), dtype="<i8", count=len(values))
        lengths.update(lens.tobytes())
        data.update(b"".join(v for v in values if v is not None))

    def fingerprint(self) -> dict[str, Any]:
        """One hash over every column's streams, in name order, independent of batch boundaries."""
        total = xxhash.xxh3_128()
        for key in sorted(self.streams):
            lengths, data = self.streams[key]
            total.update(key.encode("utf-8", "surrogatepass") + b"\0" + lengths.digest() + data.digest())
        return {"algorithm": "columns-xxh3-128", "value": total.hexdigest()}
