"""Where bytes come from: local files and fsspec URLs (s3://, gs://, hf://...), streamed, never copied.

Everything a reader opens goes through here, so every format gets the same guarantees: special
files are never opened, remote reads are retried with backoff on transient errors, the bytes as
stored are counted (and hashed when asked), and a compressed stream that ends before its end
marker raises ``EOFError`` instead of looking like a short file.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import hashlib
import io
import lzma
import os
import re
import stat
import time
import zlib
from collections.abc import Callable
from typing import IO, Any, TypeVar

from ..errors import AuditError

T = TypeVar("T")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
COMPRESSIONS = {".gz": "gz", ".zst": "zst", ".zstd": "zst", ".bz2": "bz2", ".xz": "xz"}
RETRIES = 4            # attempts for one remote operation
BACKOFF_S = 0.5        # first wait; doubles each attempt
_ZSTD_FEED = 4096      # compressed bytes fed to zstd at once: bounds one call's output (RLE bombs)


def is_remote(path: str) -> bool:
    return bool(_URL.match(path)) and not path.startswith("file://")


def local(path: str) -> str:
    return path.removeprefix("file://")


def filesystem(url: str) -> tuple[Any, str]:
    """(fsspec filesystem, path inside it) for a URL; a missing protocol package is a clear error."""
    try:
        import fsspec
    except ImportError:  # pragma: no cover - fsspec is a core dependency
        raise AuditError(f"Reading {url} needs fsspec (pip install fsspec).") from None
    try:
        return fsspec.core.url_to_fs(url)
    except ImportError as exc:
        raise AuditError(f"Reading {url} needs an extra package ({_short(exc)}); "
                         "install collapse-audit[remote].") from None
    except ValueError as exc:
        raise AuditError(f"{url} is not a URL this tool can read ({_short(exc)}).") from None


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)):
        return False
    return isinstance(exc, (ConnectionError, TimeoutError, OSError))


def retrying(what: str, fn: Callable[[], T]) -> T:
    """``fn()`` with retries and exponential backoff on transient errors; the last one is an AuditError."""
    delay = BACKOFF_S
    for attempt in range(RETRIES):
        try:
            return fn()
        except Exception as exc:
            if isinstance(exc, AuditError):
                raise
            if not _transient(exc) or attempt == RETRIES - 1:
                raise AuditError(f"Cannot read {what} ({_describe(exc)}).") from None
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")  # pragma: no cover


class RemoteFile(io.RawIOBase):
    """A remote object read sequentially; a failed read reopens it at the same offset (with backoff)."""

    def __init__(self, url: str):
        self.url = url
        self.fs, self.key = filesystem(url)
        self.pos = 0
        self._fh: Any = retrying(url, lambda: self.fs.open(self.key, "rb"))

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        def once() -> bytes:
            try:
                return self._fh.read(len(b))
            except Exception:
                self._reopen()
                raise

        data = retrying(self.url, once)
        n = len(data)
        b[:n] = data
        self.pos += n
        return n

    def _reopen(self) -> None:
        with contextlib.suppress(Exception):  # the handle is already broken
            self._fh.close()
        self._fh = self.fs.open(self.key, "rb")
        self._fh.seek(self.pos)

    def close(self) -> None:
        try:
            self._fh.close()
        finally:
            super().close()


class CountingReader(io.RawIOBase):
    """Passes bytes through, counting them and (optionally) hashing them with SHA-256 as they stream."""

    def __init__(self, raw: IO[bytes], hash_bytes: bool = True):
        self.raw = raw
        self.size = 0
        self.sha256 = hashlib.sha256() if hash_bytes else None

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
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
        try:
            self.raw.close()
        finally:
            super().close()


class ZstdReader(io.RawIOBase):
    """Zstandard frames (one or several) decoded in small steps; a stream cut inside a frame raises
    ``EOFError`` (``zstandard``'s own stream reader returns a silently short result instead)."""

    def __init__(self, raw: IO[bytes]):
        import zstandard

        self.raw = raw
        self._zstd = zstandard
        self._dctx = zstandard.ZstdDecompressor()
        self._dobj = self._dctx.decompressobj()
        self._in_frame = False
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
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
        try:
            self.raw.close()
        finally:
            super().close()


def stream_errors() -> tuple[type[BaseException], ...]:
    """Errors a decoding stream raises when the bytes are truncated or corrupt."""
    import zstandard

    return (EOFError, OSError, zlib.error, lzma.LZMAError, zstandard.ZstdError)


def check_regular(path: str) -> int:
    """Size of a local regular file; anything else (FIFO, socket, device, directory) is an error."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise AuditError(f"Cannot read {path} ({_describe(exc)}).") from None
    if not stat.S_ISREG(st.st_mode):
        raise AuditError(f"{path} is not a regular file ({special_kind(st.st_mode)}); it is never opened.")
    return st.st_size


def special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "a special file"


def open_raw(path: str) -> IO[bytes]:
    """The bytes as stored, unbuffered-ish: a local regular file or a remote object stream."""
    if is_remote(path):
        return RemoteFile(path)
    path = local(path)
    check_regular(path)
    try:
        return open(path, "rb")
    except OSError as exc:
        raise AuditError(f"Cannot open {path} ({_describe(exc)}).") from None


def decoded(raw: IO[bytes], compression: str | None) -> IO[bytes]:
    """A buffered stream of the decompressed bytes of ``raw``."""
    if compression == "gz":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if compression == "bz2":
        return bz2.BZ2File(raw, "rb")
    if compression == "xz":
        return lzma.LZMAFile(raw, "rb")
    if compression == "zst":
        return io.BufferedReader(ZstdReader(raw), 1 << 20)
    return io.BufferedReader(raw, 1 << 20) if not isinstance(raw, io.BufferedIOBase) else raw


def open_stream(path: str, compression: str | None, hash_bytes: bool = False) -> tuple[IO[bytes], CountingReader]:
    """(decompressed buffered stream, the counter of stored bytes under it)."""
    counter = CountingReader(open_raw(path), hash_bytes=hash_bytes)
    return decoded(counter, compression), counter


def remote_info(url: str) -> dict:
    fs, key = filesystem(url)
    return retrying(url, lambda: fs.info(key))


def remote_version(info: dict) -> str | None:
    """An object's ETag (and version id) from fsspec's ``info``, whatever the backend calls them."""
    etag = next((info[k] for k in ("ETag", "etag", "md5Hash", "blob_id", "sha") if info.get(k)), None)
    version = info.get("VersionId") or info.get("generation")
    if etag is None and version is None:
        return None
    etag = str(etag).strip('"') if etag is not None else ""
    return f"{etag}@{version}" if version else etag


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return _short(exc)


def _short(exc: BaseException) -> str:
    return (str(exc).strip() or type(exc).__name__).split("\n")[0][:160]


def arrow_location(path: str) -> tuple[Any, str]:
    """(pyarrow filesystem or None, path in it) for pyarrow's random-access readers."""
    if not is_remote(path):
        return None, local(path)
    from pyarrow.fs import FSSpecHandler, PyFileSystem

    fs, key = filesystem(path)
    return PyFileSystem(FSSpecHandler(fs)), key


def stored_size(info_path: str, known: int | None) -> int | None:
    if known is not None:
        return known
    if is_remote(info_path):
        return remote_info(info_path).get("size")
    try:
        return os.path.getsize(local(info_path))
    except OSError:
        return None
