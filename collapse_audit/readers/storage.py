"""Where bytes come from: local files and fsspec URLs (s3://, gs://, hf://...), streamed, never copied.

Everything a reader opens goes through here, so every format gets the same guarantees: special
files are never opened, remote reads are retried with backoff on transient errors (a dropped
connection resumes at the byte where it broke), and remote objects carry their ETag.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import stat
import time
from collections.abc import Callable
from typing import Any, TypeVar

from ..errors import AuditError

T = TypeVar("T")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
COMPRESSIONS = {".gz": "gz", ".zst": "zst", ".zstd": "zst", ".bz2": "bz2", ".xz": "xz"}
RETRIES = 4            # attempts for one remote operation
BACKOFF_S = 0.5        # first wait; doubles each attempt


def is_remote(path: str) -> bool:
    """Whether a path is a URL read through fsspec (``file://`` counts as local)."""
    return bool(_URL.match(path)) and not path.startswith("file://")


def local(path: str) -> str:
    """A local path with any ``file://`` prefix removed."""
    return path.removeprefix("file://")


def filesystem(url: str) -> tuple[Any, str]:
    """(fsspec filesystem, path inside it) for a URL; a missing protocol package is a clear error."""
    try:
        import fsspec
    except ImportError:  # pragma: no cover - fsspec is a core dependency
        raise AuditError(f"Reading {url} needs fsspec (pip install fsspec).") from None
    try:
        fs, key = fsspec.core.url_to_fs(url)
        return fs, str(key)
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
        """Always true: the object is opened for reading."""
        return True

    def readinto(self, b: Any) -> int:
        """Fill ``b`` from the object, reopening at the current offset when a read fails."""
        def once() -> bytes:
            try:
                data: bytes = self._fh.read(len(b))
                return data
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
        """Close the remote handle, then this stream."""
        try:
            self._fh.close()
        finally:
            super().close()


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
    """What a non-regular file is, in words for an error message."""
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "a special file"


def open_raw(path: str) -> io.RawIOBase | io.BufferedIOBase:
    """The bytes as stored, unbuffered-ish: a local regular file or a remote object stream."""
    if is_remote(path):
        return RemoteFile(path)
    path = local(path)
    check_regular(path)
    try:
        return open(path, "rb")
    except OSError as exc:
        raise AuditError(f"Cannot open {path} ({_describe(exc)}).") from None


def remote_info(url: str) -> dict[str, Any]:
    """fsspec's metadata of a remote object (size, ETag...), retried on transient errors."""
    fs, key = filesystem(url)
    return retrying(url, lambda: fs.info(key))


def remote_version(info: dict[str, Any]) -> str | None:
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
    """Bytes stored for an input: the size already known, else asked of the filesystem; None if unknown."""
    if known is not None:
        return known
    if is_remote(info_path):
        return remote_info(info_path).get("size")
    try:
        return os.path.getsize(local(info_path))
    except OSError:
        return None
