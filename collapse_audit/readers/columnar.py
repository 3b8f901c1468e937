"""Shared by the columnar readers (Parquet, Arrow IPC, CSV): which columns to read, and turning an
Arrow record batch into a ``RecordBatch`` with the same bad-record rules as the row readers.

A path that runs through struct columns only (``meta.provenance``) is projected as one column, so
only it is decoded. A path that steps into a list (``messages.0.content``), a chat column
(``messages: list<struct<role, content>>``) or a ``+``-joined text field is resolved per record
from the top-level column(s) it starts with. Strings that are not valid UTF-8 make a bad record
for their row, never a crash.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from ..errors import AuditError
from ..lazy import pc
from .base import BadRecord, BadRecordSink, InputFile, ReadOptions, RecordBatch
from .fields import get_path, has_index
from .records import TextError, record_text, safe, value_text
from .stats import ColumnHasher, InputStats


@dataclass(frozen=True)
class Plan:
    """How one requested path is read: projected (``parts`` through structs) or per record (``tops``)."""

    path: str
    parts: tuple[str, ...] | None = None
    tops: tuple[str, ...] = ()
    type: pa.DataType | None = None

    @property
    def key(self) -> str:
        """Name of the projected column for this path in a scanned batch (unique per requested path)."""
        return f"path:{self.path}"


def field_type(schema: pa.Schema, path: str) -> pa.DataType | None:
    """Type at a dotted path through struct columns, or None when absent."""
    if path in schema.names:
        return schema.field(path).type
    typ: Any = schema
    for part in path.split("."):
        if isinstance(typ, pa.Schema):
            if part not in typ.names:
                return None
            typ = typ.field(part).type
        elif pa.types.is_struct(typ):
            idx = typ.get_field_index(part)
            if idx < 0:
                return None
            typ = typ.field(idx).type
        else:
            return None
    return typ


def plan_for(schema: pa.Schema, path: str, is_text: bool = False) -> Plan | None:
    """How to read ``path`` from a schema (a column, a struct field, or joined fields), or None if absent."""
    if path in schema.names:
        return Plan(path, (path,), type=schema.field(path).type)
    if is_text and "+" in path:
        tops = tuple(dict.fromkeys(p.strip().split(".")[0] for p in path.split("+") if p.strip()))
        tops = tuple(t for t in tops if t in schema.names)
        return Plan(path, tops=tops) if tops else None
    if not has_index(path):
        typ = field_type(schema, path)
        if typ is not None:
            return Plan(path, tuple(path.split(".")), type=typ)
    top = path.split(".")[0]
    return Plan(path, tops=(top,)) if top in schema.names else None


def schema_columns(schema: pa.Schema, depth: int = 2) -> list[str]:
    """Column names of a schema, into structs up to ``depth`` levels: for the schema summary and error messages."""
    out: list[str] = []

    def walk(fields: Iterable[pa.Field], prefix: str, left: int) -> None:
        for f in fields:
            if pa.types.is_struct(f.type) and left > 1:
                walk(list(f.type), f"{prefix}{f.name}.", left - 1)
            else:
                out.append(f"{prefix}{f.name}")

    walk(list(schema), "", depth)
    return out


def _stringlike(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)
                or pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_binary_view(t))


def _listlike(t: pa.DataType) -> bool:
    return bool(pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_list_view(t))


class Columnar:
    """One columnar input being read: its plans, hasher and the RecordBatch builder."""

    def __init__(self, info: InputFile, file_index: int, schema: pa.Schema, options: ReadOptions,
                 sink: BadRecordSink, start: int, stats: InputStats, hash_columns: bool = True):
        self.info, self.file_index, self.options, self.sink = info, file_index, options, sink
        self.start, self.stats = start, stats
        self.hasher = ColumnHasher() if hash_columns else None
        stats.note_columns(schema_columns(schema))
        text = plan_for(schema, options.text_field, is_text=True)
        if text is None:
            found = ", ".join(safe(c) for c in schema_columns(schema)) or "none"
            raise AuditError(f"{info.path} has no column '{options.text_field}' (the text field); columns found: "
                             f"{found}; set fields.text or --text-field.")
        if text.parts is not None and not (_stringlike(text.type) or _listlike(text.type)):
            raise AuditError(f"Column '{options.text_field}' in {info.path} is {text.type}, not a string.")
        self.text = text
        self.fields = {f: plan_for(schema, f) for f in options.fields}
        self.unseen = [f for f, p in self.fields.items() if p is not None and f not in stats.present]
        self.row = 0

    def projection(self) -> dict[str, pc.Expression]:
        """Columns to ask a dataset scanner for (dotted struct paths as nested field references)."""
        out: dict[str, pc.Expression] = {}
        for plan in [self.text, *(p for p in self.fields.values() if p is not None)]:
            if plan.parts is not None:
                out[plan.key] = pc.field(*plan.parts) if len(plan.parts) > 1 else pc.field(plan.parts[0])
            for top in plan.tops:
                out[f"top:{top}"] = pc.field(top)
        return out

    def project(self, rb: pa.RecordBatch) -> dict[str, pa.Array]:
        """The same columns as ``projection`` taken from a whole record batch (IPC and CSV readers)."""
        out: dict[str, pa.Array] = {}
        for key in self.projection():
            if key.startswith("top:"):
                out[key] = rb.column(key[4:])
            else:
                plan = self.text if key == self.text.key else self.fields[key[5:]]
                assert plan is not None and plan.parts is not None
                arr = rb.column(plan.parts[0])
                for part in plan.parts[1:]:
                    arr = pc.struct_field(arr, [arr.type.get_field_index(part)])
                out[key] = arr
        return out

    def batch(self, arrays: dict[str, pa.Array], n: int) -> RecordBatch | None:
        """One Arrow batch (as projected columns) -> a RecordBatch of its good rows."""
        if self.hasher is not None:
            for key in sorted(arrays):
                self.hasher.update(key, arrays[key])
        bad: dict[int, str] = {}
        tops = {k[4:]: _pylist(a, f"column '{k[4:]}'", bad) for k, a in arrays.items() if k.startswith("top:")}
        texts = self._texts(arrays, tops, n, bad)
        values: dict[str, list[Any]] = {}
        for name, plan in self.fields.items():
            if plan is None:
                values[name] = [None] * n
            elif plan.parts is not None:
                values[name] = _pylist(arrays[plan.key], f"field '{name}'", bad)
            else:
                values[name] = [get_path({t: tops[t][i] for t in plan.tops}, name) for i in range(n)]
        for i in sorted(bad):
            self.sink.add(BadRecord(self.info.path, f"row {self.row + i}", bad[i]))
        keep = [i for i in range(n) if i not in bad] if bad else range(n)
        rows = [self.row + i for i in keep]
        self.row += n
        self._note_present(values)
        if not rows:
            return None
        if bad:
            texts = [texts[i] for i in keep]
            values = {f: [v[i] for i in keep] for f, v in values.items()}
        out = RecordBatch(self.info.path, self.file_index, self.start, rows, None, texts, values)
        self.start += len(texts)
        if self.options.text_field not in self.stats.present:
            self.stats.note_present(self.options.text_field)
        return out

    def _texts(self, arrays: dict[str, pa.Array], tops: dict[str, list[Any]], n: int, bad: dict[int, str]) -> list[Any]:
        field, roles = self.options.text_field, self.options.text_roles
        plan = self.text
        if plan.parts is not None:
            column = arrays[plan.key]
            raw = _pylist(column, f"the text field '{field}'", bad)
            if not bad and column.null_count == 0 and _stringlike(column.type):
                return raw  # the common case: every value is already the text
        else:
            raw = [{t: tops[t][i] for t in plan.tops} for i in range(n)]
        texts: list[Any] = [None] * n
        as_text = value_text if plan.parts is not None else record_text
        for i, value in enumerate(raw):
            if i in bad:
                continue
            if value is None:
                bad[i] = f"the text field '{field}' is null"
                continue
            try:
                texts[i] = as_text(value, field, roles)
            except TextError as exc:
                bad[i] = str(exc)
        return texts

    def _note_present(self, values: dict[str, list[Any]]) -> None:
        if not self.unseen:
            return
        still = []
        for f in self.unseen:
            if any(v is not None for v in values[f]):
                self.stats.note_present(f)
            else:
                still.append(f)
        self.unseen = still

    def finish(self, size: int | None) -> None:
        """Record the file's stored size and its fingerprint (ETag, or the hash of the columns read)."""
        entry = self.stats.file(self.file_index)
        entry.size = size
        if self.info.version:
            entry.fingerprint = {"algorithm": "etag", "value": self.info.version}
        elif self.hasher is not None:
            entry.fingerprint = self.hasher.fingerprint()


def _pylist(arr: pa.Array | pa.ChunkedArray, what: str, bad: dict[int, str]) -> list[Any]:
    """Python values of a column; binary is decoded as UTF-8; undecodable values mark their row bad."""
    binary = pa.types.is_binary(arr.type) or pa.types.is_large_binary(arr.type) or pa.types.is_binary_view(arr.type)
    try:
        values: list[Any] = arr.to_pylist()
        if not binary:
            return values
        return [_decode(v, i, what, bad) for i, v in enumerate(values)]
    except UnicodeDecodeError:
        pass
    out = []
    for i in range(len(arr)):
        try:
            out.append(arr[i].as_py())
        except UnicodeDecodeError as exc:
            bad.setdefault(i, f"{safe(what)} is not valid UTF-8 (byte {exc.start})")
            out.append(None)
    return out


def _decode(v: Any, i: int, what: str, bad: dict[int, str]) -> Any:
    if v is None:
        return None
    try:
        return v.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad.setdefault(i, f"{safe(what)} is not valid UTF-8 (byte {exc.start})")
        return None


def arrow_errors() -> tuple[type[BaseException], ...]:
    """The exceptions pyarrow raises for unreadable or corrupt data, caught to name the file."""
    return (pa.ArrowInvalid, pa.ArrowIOError, OSError, pa.ArrowNotImplementedError, pa.ArrowTypeError)


def batches_from(col: Columnar, source: Iterator[pa.RecordBatch], projected: bool) -> Iterator[RecordBatch]:
    """Drive ``col`` over Arrow batches (already projected by a scanner, or whole)."""
    for rb in source:
        arrays = ({name: rb.column(name) for name in rb.schema.names} if projected else col.project(rb))
        out = col.batch(arrays, rb.num_rows)
        if out is not None:
            yield out
