"""Output safety: an audit never modifies its input and never leaves a half-written file.

``check_outputs`` is the one guard every written path goes through (reports, annotations,
accepted-findings files, the GitHub job summary, partial state directories, ``merge -o``, the
Python API), and it runs before anything is read: an output path that is one of the inputs (the
same file, also through a symlink or hard link) or a file an input directory/glob would read is an
error, so ``scan c.jsonl -o c.jsonl`` cannot replace the corpus with its report. An output
*directory* (``scan --partial DIR``) may not be an input, contain one or lie inside an input
directory; nothing may be written inside a state directory being read (``--against STATE``, the
partials of a merge). ``check_scan_outputs`` lists a scan's inputs and outputs once, for the CLI
and the API alike.

``atomic_output`` writes to a temporary file in the destination's directory and renames it over
the destination only when the write finished; on any error or interrupt the temporary file is
removed and the previous file (if any) is left exactly as it was.
"""

from __future__ import annotations

import glob
import os
import stat
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any

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


def _input_files(inputs: Sequence[str]) -> tuple[list[str], list[str]]:
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


def check_scan_outputs(opts: Any, extra: Sequence[str | None] = ()) -> None:
    """The guard for a scan's options (``engine.ScanOptions``, from the CLI or the API): every file it
    reads (corpus, policy, baseline, eval sets, accept and calibration files, the ``--against`` state)
    against every path it writes (``extra`` = the report and the job summary, annotations,
    ``--write-accept``, the ``--partial`` directory)."""
    policy = opts.policy if isinstance(opts.policy, str) else None
    reads = [*opts.paths, policy, opts.baseline, *opts.eval_sets, opts.accept, opts.calibration,
             opts.human_reference, opts.against]
    check_outputs([*extra, opts.annotations, opts.write_accept], [r for r in reads if r],
                  directories=[opts.partial] if opts.partial else (),
                  protected=[opts.against] if opts.against else ())


def check_outputs(outputs: Sequence[str | None], inputs: Sequence[str], directories: Sequence[str] = (),
                  protected: Sequence[str] = ()) -> None:
    """Raise AuditError when an output would overwrite an input or land where an input directory
    is read from. ``None`` and ``-`` (stdout) outputs are ignored. ``directories`` are output
    directories (checked by ``check_output_directory``); ``protected`` are directories read as a
    whole (state directories), inside which nothing may be written."""
    for d in directories:
        check_output_directory(d, inputs)
    targets = [o for o in outputs if o not in (None, "-", "")]
    _outside_states(targets, [*protected, *directories])
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


def _outside_states(targets: Sequence[str], states: Sequence[str]) -> None:
    """Nothing is written inside a state directory that is read or written as a whole."""
    for out in targets:
        real = os.path.realpath(out)
        for p in states:
            if _inside(real, os.path.realpath(p)):
                raise AuditError(f"The output {out} lies inside the state directory {p}; choose a path "
                                 "outside it.")


def check_output_directory(out: str, inputs: Sequence[str], what: str = "partial state directory") -> None:
    """Refuse an output directory that is an existing file, is an input, contains an input, or lies
    inside an input directory (the next scan of it would read the output as data)."""
    if os.path.exists(out) and not os.path.isdir(out):
        raise AuditError(f"The {what} {out} exists and is not a directory; choose a directory path.")
    real_out = os.path.realpath(out)
    for path in inputs:
        if "://" in path:  # a remote input cannot be a local directory
            continue
        real_in = os.path.realpath(path)
        if real_out == real_in:
            raise AuditError(f"The {what} {out} is the input {path}; choose a new directory.")
        if _inside(real_in, real_out):
            raise AuditError(f"The {what} {out} contains the input {path}; choose a directory outside the "
                             "inputs.")
        if os.path.isdir(real_in) and _inside(real_out, real_in):
            raise AuditError(f"The {what} {out} lies inside the input directory {path}, where later scans would "
                             "read it as data; choose a directory outside it.")


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
