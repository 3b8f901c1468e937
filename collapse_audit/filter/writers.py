"""Format-preserving, sharded, atomic writers for the filtered corpus.

* JSONL (plain, .gz, .zst): the kept lines are copied byte for byte from the input (a missing final
  newline is added), compressed like the input; blank and unreadable lines are not records and are
  not copied.
* Parquet: all columns, the input's Arrow schema (with its metadata) and compression codec; row groups
  of ``--row-group-size`` rows (default: the input's first row-group size), buffered up to that many
  rows or ``BUFFER_BYTES``, whichever comes first.

Everything is written under ``OUT/.tmp-XXXX/`` and renamed into ``OUT/`` only when the whole run has
succeeded, so an interrupted run leaves no shard that looks complete (``StagedDir``).
"""

from __future__ import annotations

import gzip
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, cast

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import AuditError
from ..outputs import check_output_directory
from ..readers import InputFile
from ..readers.streams import open_stream, stream_errors

BUFFER_BYTES = 64 << 20
SUFFIXES = (".jsonl.gz", ".jsonl.zst", ".jsonl.zstd", ".ndjson.gz", ".ndjson.zst", ".json.gz", ".json.zst",
            ".jsonl", ".ndjson", ".json", ".parquet", ".pq")


def check_output_dir(out: str, inputs: list[str], what: str = "output directory") -> None:
    """Refuse an OUT that is an input, contains an input, or lies inside an input directory
    (a later scan of that directory would read the output as input); and a non-empty OUT."""
    check_output_directory(out, inputs, what)  # the one output guard (outputs.py)
    if os.path.exists(out):
        if not os.path.isdir(out):
            raise AuditError(f"The {what} {out} exists and is not a directory.")
        if os.listdir(out):
            raise AuditError(f"The {what} {out} is not empty; choose a new or empty directory.")


class StagedDir:
    """Files are written in ``DIR/.tmp-XXXX`` and moved into ``DIR`` by ``commit()``; ``abort()``
    removes the staging folder (and ``DIR`` itself when this run created it and it is still empty)."""

    def __init__(self, directory: str):
        self.directory = directory
        self.created = not os.path.exists(directory)
        try:
            os.makedirs(directory, exist_ok=True)
            self.tmp = tempfile.mkdtemp(prefix=".tmp-", dir=directory)
        except OSError as exc:
            raise AuditError(f"Cannot create {directory}: {exc.strerror or exc}.") from None
        self.names: list[str] = []

    def path(self, name: str) -> str:
        """Where to write ``name`` inside the staging folder (parents created); it moves in on commit."""
        full = os.path.join(self.tmp, name)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        self.names.append(name)
        return full

    def commit(self) -> None:
        """Move every staged file into the output directory, then remove the staging folder."""
        for name in self.names:
            dest = os.path.join(self.directory, name)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            os.replace(os.path.join(self.tmp, name), dest)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def abort(self) -> None:
        """Drop everything staged, and the output directory too when this run created it."""
        shutil.rmtree(self.tmp, ignore_errors=True)
        if self.created:
            try:
                os.rmdir(self.directory)
            except OSError:
                pass


def split_name(name: str) -> tuple[str, str]:
    """(stem, suffix) of a file name, the suffix including compression (``.jsonl.gz``) so shards keep it."""
    low = name.lower()
    for suffix in SUFFIXES:
        if low.endswith(suffix):
            return name[: -len(suffix)], name[-len(suffix):]
    return name, ""


def output_names(files: list[InputFile]) -> list[str]:
    """Each input's path relative to the inputs' common folder: distinct names, familiar layout."""
    dirs = [os.path.dirname(os.path.abspath(f.path)) for f in files]
    base = os.path.commonpath(dirs) if dirs else ""
    return [os.path.relpath(os.path.abspath(f.path), base) for f in files]


def shard_names(name: str, records: int, max_per_file: int | None) -> list[str]:
    """Output names for ``records`` records: the name itself, or numbered shards of at most ``max_per_file``."""
    if not max_per_file or records <= max_per_file:
        return [name] if records else []
    stem, ext = split_name(name)
    n = -(-records // max_per_file)
    return [f"{stem}-{i:05d}-of-{n:05d}{ext}" for i in range(n)]


@dataclass
class Route:
    """Where one class of records of one input goes: shard files in a staged directory."""

    staged: StagedDir
    names: list[str]
    max_per_file: int | None
    written: list[tuple[str, int]] = field(default_factory=list)   # (name, records)

    def capacity(self) -> int:
        """Records one shard may hold (unbounded without ``--max-records-per-file``)."""
        return self.max_per_file or (1 << 62)


def write_input(info: InputFile, dest: np.ndarray, routes: dict[int, Route], row_group_size: int | None,
                on_records: Callable[[int], None] = lambda n: None) -> None:
    """Copy the records of one input to its routes: ``dest[row]`` is a route key (0 = not copied)."""
    try:
        if info.format == "jsonl":
            _write_jsonl(info, dest, routes, on_records)
        else:
            _write_parquet(info, dest, routes, row_group_size, on_records)
    except OSError as exc:
        raise AuditError(f"Cannot write the filtered copy of {info.path}: {exc.strerror or exc}.") from None


# ---- JSONL -------------------------------------------------------------------------------------

def _open_out(path: str, compression: str | None) -> tuple[IO[bytes], IO[bytes]]:
    """(stream to write lines to, the file under it); both are closed, in that order."""
    raw = open(path, "wb")  # noqa: SIM115 - closed by the shard writer, after the compressor
    if compression == "gz":
        return cast(IO[bytes], gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0)), raw
    if compression == "zst":
        import zstandard

        return zstandard.ZstdCompressor().stream_writer(raw, closefd=False), raw
    return raw, raw


class _LineShards:
    def __init__(self, route: Route, compression: str | None):
        self.route, self.compression = route, compression
        self.fh: IO[bytes] | None = None
        self.raw: IO[bytes] | None = None
        self.count = 0
        self.shard = -1

    def write(self, line: bytes) -> None:
        if self.fh is None or self.count >= self.route.capacity():
            self.close()
            self.shard += 1
            name = self.route.names[self.shard]
            self.fh, self.raw = _open_out(self.route.staged.path(name), self.compression)
            self.count = 0
        self.fh.write(line if line.endswith(b"\n") else line + b"\n")
        self.count += 1

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()
            if self.raw is not None and self.raw is not self.fh:
                self.raw.close()
            self.route.written.append((self.route.names[self.shard], self.count))
            self.fh = self.raw = None


def _write_jsonl(info: InputFile, dest: np.ndarray, routes: dict[int, Route], on_records) -> None:
    shards = {k: _LineShards(r, info.compression) for k, r in routes.items()}
    errors = stream_errors()
    row = 0
    try:
        with open_stream(info.path, info.compression)[0] as fh:
            it = iter(fh)
            while row < len(dest):
                try:
                    line = next(it)
                except StopIteration:
                    break
                except errors:
                    break    # the planning pass already counted the truncation as an unreadable record
                key = int(dest[row])
                if key:
                    shards[key].write(line)
                    on_records(1)
                row += 1
    finally:
        for s in shards.values():
            s.close()


# ---- Parquet -----------------------------------------------------------------------------------

class _TableShards:
    def __init__(self, route: Route, schema: pa.Schema, compression: str, row_group_size: int):
        self.route, self.schema, self.compression = route, schema, compression
        self.row_group_size = row_group_size
        self.writer: pq.ParquetWriter | None = None
        self.count = 0
        self.shard = -1
        self.buffer: list[pa.RecordBatch] = []
        self.buffered_rows = 0
        self.buffered_bytes = 0

    def add(self, batch: pa.RecordBatch) -> None:
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
            if self.buffered_rows >= self.row_group_size or self.buffered_bytes >= BUFFER_BYTES:
                self._flush()

    def _flush(self) -> None:
        if self.buffered_rows:
            table = pa.Table.from_batches(self.buffer, schema=self.schema)
            assert self.writer is not None, "rows are buffered only after a shard is open"
            self.writer.write_table(table, row_group_size=self.row_group_size)
            self.count += self.buffered_rows
        self.buffer, self.buffered_rows, self.buffered_bytes = [], 0, 0

    def _next_shard(self) -> None:
        self.close()
        self.shard += 1
        path = self.route.staged.path(self.route.names[self.shard])
        self.writer = pq.ParquetWriter(path, self.schema, compression=self.compression)
        self.count = 0

    def close(self) -> None:
        if self.writer is not None:
            self._flush()
            self.writer.close()
            self.route.written.append((self.route.names[self.shard], self.count))
            self.writer = None


def _write_parquet(info: InputFile, dest: np.ndarray, routes: dict[int, Route], row_group_size: int | None,
                   on_records) -> None:
    try:
        pf = pq.ParquetFile(info.path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise AuditError(f"{info.path} is not a readable Parquet file ({str(exc).splitlines()[0][:160]}).") from None
    meta = pf.metadata
    codec = "snappy"
    if meta.num_row_groups and meta.num_columns:
        codec = meta.row_group(0).column(0).compression.lower()
        codec = "none" if codec == "uncompressed" else codec
    rg = row_group_size or (meta.row_group(0).num_rows if meta.num_row_groups else 65536) or 65536
    schema = pf.schema_arrow
    shards = {k: _TableShards(r, schema, codec, rg) for k, r in routes.items()}
    row = 0
    try:
        for batch in pf.iter_batches(batch_size=min(rg, 8192), use_threads=True):
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
    finally:
        for s in shards.values():
            s.close()
