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
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from ..errors import AuditError

T = TypeVar("T")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
# a URL inside any text: scheme://, then everything up to whitespace, a quote or an angle bracket
_URL_IN_TEXT = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<rest>[^\s\"'<>`]*)")
# well-known secret-bearing parameters, wherever they appear (a signed URL quoted by a library error)
_SECRET_PARAMS = re.compile(
    r"(?i)\b(x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|x-goog-credential"
    r"|signature|sig|token|access_token|api_key|apikey|password|passwd|secret|client_secret)=[^&#\s\"'<>`]+")
HIDDEN = "***"
#: environment variables whose values are credentials the remote protocols may read
SECRET_ENV = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "HF_TOKEN",
              "HUGGING_FACE_HUB_TOKEN", "GOOGLE_OAUTH_ACCESS_TOKEN", "AZURE_STORAGE_KEY", "RAY_AUTH_TOKEN")
MIN_SECRET = 8         # shorter values are not searched for literally (they would mangle ordinary words)
_SEEN_SECRETS: set[str] = set()
COMPRESSIONS = {".gz": "gz", ".zst": "zst", ".zstd": "zst", ".bz2": "bz2", ".xz": "xz"}
RETRIES = 4            # attempts for one remote operation
BACKOFF_S = 0.5        # first wait; doubles each attempt
TIMEOUT_ENV = "COLLAPSE_AUDIT_REMOTE_TIMEOUT"
DEFAULT_TIMEOUT_S = 30.0   # the longest one remote operation (all its retries included) may take


def is_remote(path: str) -> bool:
    """Whether a path is a URL read through fsspec (``file://`` counts as local)."""
    return bool(_URL.match(path)) and not path.startswith("file://")


def hide_url_secrets(text: str) -> str:
    """``text`` with the credentials of every URL in it replaced by ``***``: the user part
    (``s3://KEY:SECRET@bucket``, ``https://user:pass@host``) and every query-string value
    (``?X-Amz-Signature=...``), plus well-known secret parameters anywhere.

    The one place that makes a location fit to show: every message, report and annotations file
    goes through it, so a secret given on the command line never reaches an output or a CI log.
    A path whose ``@`` comes after a ``/`` and no ``:`` (``s3://bucket/me@example.com/x``) is kept."""
    if "://" in text:
        text = _URL_IN_TEXT.sub(_hide_in_url, text)
    text = _SECRET_PARAMS.sub(lambda m: f"{m.group(1)}={HIDDEN}", text)
    for secret in _known_secrets():
        if secret in text:
            text = text.replace(secret, HIDDEN)
    return text


def remember_secrets(url: str) -> None:
    """Note the credentials a URL carries (user part, query values), so a library's message that
    quotes one of them without the URL around it is cleaned too."""
    from urllib.parse import parse_qsl, unquote, urlsplit

    try:
        parts = urlsplit(url)
        found = [parts.username, parts.password, *(v for _, v in parse_qsl(parts.query))]
    except ValueError:
        return
    for value in found:
        for form in {value, unquote(value)} if value else ():
            if len(form) >= MIN_SECRET:
                _SEEN_SECRETS.add(form)


def _known_secrets() -> list[str]:
    env = (os.environ.get(k, "") for k in SECRET_ENV)
    return sorted({*_SEEN_SECRETS, *(v for v in env if len(v) >= MIN_SECRET)}, key=len, reverse=True)


def _hide_in_url(m: re.Match) -> str:
    rest = m.group("rest")
    cut = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    where, tail = rest[:cut], rest[cut:]
    at = where.find("@")
    if at >= 0 and (":" in where[:at] or "/" not in where[:at]):
        where = HIDDEN + where[at:]
    if tail.startswith("?"):
        tail = re.sub(r"(?<=[?&;=])([^=&;#]*)=([^&;#]*)", lambda q: f"{q.group(1)}={HIDDEN}", tail)
    return m.group("scheme") + where + tail


def local(path: str) -> str:
    """A local path with any ``file://`` prefix removed."""
    return path.removeprefix("file://")


def remote_timeout() -> float:
    """Seconds one remote operation may take, retries included (``COLLAPSE_AUDIT_REMOTE_TIMEOUT``)."""
    text = os.environ.get(TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < 86_400:
        raise AuditError(f"{TIMEOUT_ENV}={text!r} must be a number of seconds between 0 and 86400.")
    return value


def _timeouts(protocol: str, seconds: float) -> dict[str, Any]:
    """The protocol's own connect/read timeouts, so a dead network fails inside the library too."""
    if protocol in ("s3", "s3a"):
        return {"config_kwargs": {"connect_timeout": seconds, "read_timeout": seconds,
                                  "retries": {"max_attempts": 2, "mode": "standard"}}}
    if protocol in ("gs", "gcs"):
        return {"timeout": seconds}
    if protocol in ("http", "https"):
        return {"client_kwargs": {"timeout": _aiohttp_timeout(seconds)}}
    return {}


def _aiohttp_timeout(seconds: float) -> Any:
    try:
        import aiohttp
    except ImportError:  # pragma: no cover - fsspec's http protocol needs it anyway
        return None
    return aiohttp.ClientTimeout(total=None, connect=seconds, sock_connect=seconds, sock_read=seconds)


def within_deadline(what: str, fn: Callable[[], T], seconds: float | None = None) -> T:
    """``fn()``, given up after ``seconds`` with one sentence (a library that retries for minutes or
    blocks on a dead network cannot hold the scan). ``fn`` runs in a daemon thread, which an exit
    does not wait for."""
    seconds = remote_timeout() if seconds is None else seconds
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=run, name="collapse-audit-remote", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise AuditError(f"No answer from {what} within {seconds:g} s (is the network or the endpoint "
                         f"reachable? set {TIMEOUT_ENV} to wait longer).")
    if "error" in box:
        raise box["error"]
    return box["value"]


def filesystem(url: str) -> tuple[Any, str]:
    """(fsspec filesystem, path inside it) for a URL, with bounded connect/read timeouts; a missing
    protocol package is a clear error."""
    try:
        import fsspec
    except ImportError:  # pragma: no cover - fsspec is a core dependency
        raise AuditError(f"Reading {url} needs fsspec (pip install fsspec).") from None
    remember_secrets(url)
    seconds = remote_timeout()
    protocol = url.split("://", 1)[0].lower()
    try:
        fs, key = within_deadline(url, lambda: fsspec.core.url_to_fs(url, **_timeouts(protocol, seconds)), seconds)
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


def retrying(what: str, fn: Callable[[], T], bounded: bool = True) -> T:
    """``fn()`` with retries and exponential backoff on transient errors, all within the remote
    timeout; the last error is an AuditError. ``bounded=False`` runs each attempt in this thread
    (for the many small reads of an open object, which the protocol's read timeout bounds)."""
    delay = BACKOFF_S
    seconds = remote_timeout()
    end = time.monotonic() + seconds
    for attempt in range(RETRIES):
        try:
            if not bounded:
                return fn()
            return within_deadline(what, fn, max(end - time.monotonic(), 0.001))
        except Exception as exc:
            if isinstance(exc, AuditError):
                raise
            if not _transient(exc) or attempt == RETRIES - 1 or time.monotonic() + delay >= end:
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
        forget_listing(self.fs, self.key)
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

        data = retrying(self.url, once, bounded=False)
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


def forget_listing(fs: Any, key: str) -> None:
    """Drop what the filesystem remembers of ``key`` from a listing, so it is opened as the object it is.

    An object that is also a prefix (``both.jsonl`` beside ``both.jsonl/inner.jsonl``) is a
    *directory* of size 0 in the cached listing of its parent; opened through that cache it reads
    as empty - 0 records, silently. Asked afresh, the store answers with the object itself."""
    with contextlib.suppress(Exception):  # no cache to drop is fine
        fs.invalidate_cache(key)


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
    forget_listing(fs, key)
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
