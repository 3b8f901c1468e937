"""Output safety: an audit never modifies its input and never leaves a half-written file.

``check_outputs`` runs before anything is read: an output path that is one of the inputs (the
same file, also through a symlink or hard link) or a file an input directory/glob would read is an
error, so ``scan c.jsonl -o c.jsonl`` cannot replace the corpus with its report.

``atomic_output`` writes to a temporary file in the destination's directory and renames it over
the destination only when the write finished; on any error or interrupt the temporary file is
removed and the previous file (if any) is left exactly as it was.
"""

from __future__ import annotations

import glob
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from .errors import AuditError


def _identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _would_read(name: str) -> bool:
    """Whether a directory scan would pick up a file with this name (same rule as discovery)."""
    from .readers.discover import classify

    return not os.path.basename(name).startswith(".") and classify(name) is not None


def _inside(path: str, directory: str) -> bool:
    try:
        return os.path.commonpath([path, directory]) == directory
    except ValueError:  # different drives
        return False


def _input_files(inputs: list[str]) -> tuple[list[str], list[str]]:
    """(files, directories) named by the inputs; globs are expanded like discovery does."""
    files: list[str] = []
    dirs: list[str] = []
    for arg in inputs:
        if os.path.isdir(arg):
            dirs.append(arg)
        elif os.path.exists(arg):
            files.append(arg)
        elif any(ch in arg for ch in "*?["):
            files.extend(p for p in glob.glob(arg, recursive=True) if os.path.isfile(p))
    return files, dirs


def check_outputs(outputs: list[str | None], inputs: list[str]) -> None:
    """Raise AuditError when an output would overwrite an input or land where an input directory
    is read from. ``None`` and ``-`` (stdout) outputs are ignored."""
    targets = [o for o in outputs if o not in (None, "-", "")]
    if not targets:
        return
    files, dirs = _input_files(inputs)
    ids = {i: f for f in files if (i := _identity(f)) is not None}
    reals = {os.path.realpath(f): f for f in files}
    real_dirs = [(os.path.realpath(d), d) for d in dirs]
    seen: dict[str, str] = {}
    for out in targets:
        real = os.path.realpath(out)
        clash = reals.get(real)
        ident = _identity(out)
        if clash is None and ident is not None:
            clash = ids.get(ident)
        if clash is None and ident is not None:
            for f in _walk_ids(real_dirs):
                if _identity(f) == ident:
                    clash = f
                    break
        if clash is not None:
            raise AuditError(f"The output {out} is the input file {clash}; refusing to overwrite an input "
                             f"(choose another output path).")
        for rd, d in real_dirs:
            if _inside(real, rd) and _would_read(real):
                raise AuditError(f"The output {out} is inside the input directory {d}, where later scans "
                                 f"would read it as data; choose a path outside it.")
        if real in seen:
            raise AuditError(f"The outputs {seen[real]} and {out} are the same file; choose different paths.")
        seen[real] = out


def _walk_ids(real_dirs: list[tuple[str, str]]) -> Iterator[str]:
    """Files under the input directories (for hard links to an input from elsewhere)."""
    for rd, _ in real_dirs:
        for root, _dirs, names in os.walk(rd):
            for n in names:
                yield os.path.join(root, n)


@contextmanager
def atomic_path(path: str) -> Iterator[str]:
    """Yield a temporary path next to ``path``; rename it over ``path`` when the block succeeds.

    For writers that insist on opening the file themselves. Any exception (KeyboardInterrupt and
    SystemExit included) removes the temporary file and leaves ``path`` untouched."""
    if _is_stream(path):  # /dev/stdout, a named pipe: nothing to rename, write straight through
        try:
            yield path
        except OSError as exc:
            raise AuditError(f"Cannot write {path}: {exc.strerror or exc}.") from None
        return
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{base}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise AuditError(f"Cannot write {path}: {exc.strerror or exc}.") from None
    os.close(fd)
    try:
        yield tmp
        _fsync(tmp)
        _keep_mode(path, tmp)
        os.replace(tmp, path)
    except OSError as exc:
        _remove(tmp)
        raise AuditError(f"Cannot write {path}: {exc.strerror or exc}.") from None
    except BaseException:
        _remove(tmp)
        raise


@contextmanager
def atomic_output(path: str, mode: str = "w") -> Iterator[IO]:
    """Open a temporary file next to ``path`` for writing (``"w"`` text UTF-8 or ``"wb"``) and rename
    it over ``path`` on success. A failed write (disk full, ``ulimit -f``) is an AuditError naming
    the file; the previous file stays as it was."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_output mode must be 'w' or 'wb', not {mode!r}")
    with atomic_path(path) as tmp:
        try:
            fh = open(tmp, mode, encoding="utf-8" if mode == "w" else None)  # noqa: SIM115
        except OSError as exc:
            raise AuditError(f"Cannot write {path}: {exc.strerror or exc}.") from None
        try:
            with fh:
                yield fh
        except OSError as exc:
            raise AuditError(f"Cannot write {path}: {exc.strerror or exc}.") from None


def _is_stream(path: str) -> bool:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def _fsync(tmp: str) -> None:
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _keep_mode(path: str, tmp: str) -> None:
    """A replaced file keeps its permissions; a new one gets the usual umask-based mode."""
    try:
        mode = os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(tmp, mode)


def _remove(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except OSError:
        pass
