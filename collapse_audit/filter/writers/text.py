"""Shards of a text format (JSON Lines, CSV/TSV, JSON arrays), compressed as their input was.

Records are copied as the bytes they were stored as; a shard starts with the format's prologue
(the CSV header, ``[`` of a JSON array), separates records as the format does and ends with its
epilogue, so every shard is a complete file of the input's format on its own.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
from dataclasses import dataclass
from typing import IO, cast

from .base import Route


def open_out(path: str, compression: str | None) -> tuple[IO[bytes], IO[bytes]]:
    """(stream to write to, the file under it), compressed with the input's codec; close both, in that order.

    gzip is written with mtime 0, so the same records give the same bytes."""
    raw = open(path, "wb")  # noqa: SIM115 - closed by the shard writer, after the compressor
    if compression == "gz":
        return cast(IO[bytes], gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0)), raw
    if compression == "zst":
        import zstandard

        return zstandard.ZstdCompressor().stream_writer(raw, closefd=False), raw
    if compression == "bz2":
        return cast(IO[bytes], bz2.BZ2File(raw, "wb")), raw
    if compression == "xz":
        return cast(IO[bytes], lzma.LZMAFile(raw, "wb")), raw
    if compression is not None:
        raise ValueError(f"no writer for compression {compression!r}")
    return raw, raw


@dataclass(frozen=True)
class Framing:
    """How records sit in a file of the format: before the first, between two, after the last."""

    prologue: bytes = b""
    separator: bytes = b""
    epilogue: bytes = b""
    lines: bool = True        # each record is a line (ends with a newline, added when missing)


class TextShards:
    """The shard files of one route: opened on demand, each holding at most the route's capacity."""

    def __init__(self, route: Route, compression: str | None, framing: Framing = Framing()):
        self.route, self.compression, self.framing = route, compression, framing
        self.fh: IO[bytes] | None = None
        self.raw: IO[bytes] | None = None
        self.count = 0
        self.shard = -1

    def write(self, record: bytes) -> None:
        """Append one record (a line-based record that lacks its newline gets one)."""
        if self.fh is None or self.count >= self.route.capacity():
            self.close()
            self.shard += 1
            self.fh, self.raw = open_out(self.route.staged.path(self.route.names[self.shard]), self.compression)
            self.fh.write(self.framing.prologue)
            self.count = 0
        elif self.framing.separator:
            self.fh.write(self.framing.separator)
        self.fh.write(record if not self.framing.lines or record.endswith(b"\n") else record + b"\n")
        self.count += 1

    def close(self) -> None:
        """Finish the open shard (epilogue, compressor, file) and record what it holds."""
        if self.fh is not None:
            self.fh.write(self.framing.epilogue)
            self.fh.close()
            if self.raw is not None and self.raw is not self.fh:
                self.raw.close()
            self.route.written.append((self.route.names[self.shard], self.count))
            self.fh = self.raw = None


def intact_lines(fh, limit: int | None = None):
    """The stream's lines (the first ``limit`` of them); a stream that breaks ends them - the scan or the
    planning pass already counted the truncation as an unreadable record."""
    from itertools import count

    from ...readers.streams import stream_errors

    it = iter(fh)
    for _ in (count() if limit is None else range(limit)):
        try:
            yield next(it)
        except StopIteration:
            return
        except stream_errors():
            return
