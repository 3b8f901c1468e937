"""Byte streams: stored bytes counted and hashed as they pass, then decompressed (gz, bz2, xz, zst).

A compressed stream that ends before its end marker raises ``EOFError`` (zstd included, whose own
stream reader returns a silently short result instead), so a cut file is never a short file.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import zlib
from typing import IO, Any, cast

from .storage import open_raw

_ZSTD_FEED = 1024      # compressed bytes fed to zstd at once: bounds one call's output to ~32 MiB (RLE bombs)


class CountingReader(io.RawIOBase):
    """Passes bytes through, counting them and (optionally) hashing them with SHA-256 as they stream."""

    def __init__(self, raw: io.RawIOBase | io.BufferedIOBase, hash_bytes: bool = True):
        self.raw = raw
        self.size = 0
        self.sha256 = hashlib.sha256() if hash_bytes else None

    def readable(self) -> bool:
        """Always true: the stream is read-only."""
        return True

    def readinto(self, b: Any) -> int:
        """Read into ``b`` from the underlying stream, counting (and hashing) the bytes."""
        n = self.raw.readinto(b)
        if n:
            self.size += n
            if self.sha256 is not None:
                self.sha256.update(memoryview(b)[:n])
        return n or 0

    def drain(self) -> None:
        """Read what the decoder left (trailing bytes) so size and hash cover the whole object."""
        buf = bytearray(1 << 20)
        while self.readinto(buf):
            pass

    def close(self) -> None:
        """Close the underlying stream, then this one."""
        try:
            self.raw.close()
        finally:
            super().close()


class ZstdReader(io.RawIOBase):
    """Zstandard frames (one or several) decoded in small steps; a stream cut inside a frame raises
    ``EOFError`` (``zstandard``'s own stream reader returns a silently short result instead)."""

    def __init__(self, raw: io.RawIOBase | io.BufferedIOBase):
        import zstandard

        self.raw = raw
        self._zstd = zstandard
        self._dctx = zstandard.ZstdDecompressor()
        self._dobj = self._dctx.decompressobj()
        self._in_frame = False
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        """Always true: the stream is read-only."""
        return True

    def readinto(self, b: Any) -> int:
        """Decode into ``b``; the end of input inside a frame is an error, not a silent short read."""
        while not self._pending:
            chunk = self.raw.read(_ZSTD_FEED)
            if not chunk:
                if self._in_frame:
                    raise EOFError("the zstd stream ended before the end of its frame")
                return 0
            self._pending = memoryview(self._feed(chunk))
        n = min(len(b), len(self._pending))
        b[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def _feed(self, chunk: bytes) -> bytes:
        out = []
        while chunk:
            self._in_frame = True
            out.append(self._dobj.decompress(chunk))
            if not self._dobj.eof:
                break
            chunk = self._dobj.unused_data
            self._dobj = self._dctx.decompressobj()
            self._in_frame = False
        return b"".join(out)

    def close(self) -> None:
        """Close the compressed stream, then this one."""
        try:
            self.raw.close()
        finally:
            super().close()


def stream_errors() -> tuple[type[BaseException], ...]:
    """Errors a decoding stream raises when the bytes are truncated or corrupt."""
    import zstandard

    return (EOFError, OSError, zlib.error, lzma.LZMAError, zstandard.ZstdError)


def decoded(raw: io.RawIOBase, compression: str | None) -> io.BufferedIOBase:
    """A buffered stream of the decompressed bytes of ``raw``."""
    if compression == "gz":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if compression == "bz2":
        return bz2.BZ2File(raw, "rb")
    if compression == "xz":
        return lzma.LZMAFile(cast("IO[bytes]", raw), "rb")  # typeshed wants IO; any raw stream works
    if compression == "zst":
        return io.BufferedReader(ZstdReader(raw), 1 << 20)
    return io.BufferedReader(raw, 1 << 20)


def open_stream(path: str, compression: str | None,
                hash_bytes: bool = False) -> tuple[io.BufferedIOBase, CountingReader]:
    """(decompressed buffered stream, the counter of stored bytes under it)."""
    counter = CountingReader(open_raw(path), hash_bytes=hash_bytes)
    return decoded(counter, compression), counter


def count_lines(path: str, compression: str | None, chunk: int = 1 << 22) -> int:
    """Lines of a (possibly compressed) text file in one streaming pass, a last unterminated line
    included; a truncated stream counts what could be read (the reader reports the truncation)."""
    lines, last = 0, b"\n"
    fh, _ = open_stream(path, compression)
    try:
        with fh:
            while block := fh.read(chunk):
                lines += block.count(b"\n")
                last = block[-1:]
    except stream_errors():
        pass
    return lines + (last != b"\n")
