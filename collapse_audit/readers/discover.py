"""Turn the PATH arguments (files, directories, globs, URLs) into the inputs to read - and say what
was not read, and why.

Nothing is dropped silently: every file a directory or glob scan does not read is listed in
``Discovery.skipped`` with its reason (unsupported type, hidden, metadata, special file, not part
of a saved dataset). A directory or file that cannot be listed or read is an error naming it; a
FIFO, socket or device is never opened (a named one is an error). A directory that a reader claims
(a Hugging Face ``save_to_disk`` folder) is one dataset read through that reader.
"""

from __future__ import annotations

import functools
import glob
import os
import posixpath
import stat
from dataclasses import dataclass, field
from typing import Any

from ..errors import AuditError
from .base import InputFile, Reader
from .listing import Node, Skipped, list_local, list_remote
from .registry import reader_for_suffix, registered_readers, supported_suffixes
from .storage import (
    COMPRESSIONS,
    filesystem,
    is_remote,
    local,
    remote_version,
    retrying,
    special_kind,
    within_deadline,
)

METADATA_FILES = frozenset({
    "dataset_info.json", "state.json", "dataset_dict.json", "dataset_infos.json",  # HF datasets
    "_success", "_metadata", "_common_metadata",                                   # Spark / Parquet sidecars
    "readme.md", "license", "license.txt", ".gitattributes", "manifest.json",
})
SIDECAR_SUFFIXES = (".crc", ".md5", ".sha256", ".sha1", ".lock", ".idx", ".index.json")

__all__ = ["Discovery", "InputFile", "Skipped", "classify", "discover", "discover_inputs"]


@dataclass
class Discovery:
    """What a set of PATHs expands to: the files to read and every file passed over, with why."""

    files: list[InputFile] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def classify(path: str) -> InputFile | None:
    """Format of a file from its name, or None when no reader takes it (no content sniffing)."""
    found = reader_for_suffix(posixpath.basename(path))
    return None if found is None else InputFile(path, found[0].name, found[1])


def _why_not(name: str) -> str:
    low = name.lower()
    if low in METADATA_FILES or low.endswith(SIDECAR_SUFFIXES):
        return "metadata file"
    for suffix in COMPRESSIONS:
        if low.endswith(suffix) and reader_for_suffix(low[: -len(suffix)]) is not None:
            inner = reader_for_suffix(low[: -len(suffix)])[0]  # type: ignore[index]
            return f"unsupported: {inner.name} files cannot be read through {suffix} compression"
    return "unsupported file type"


def _to_input(path: str, size: int | None, info: dict[str, Any] | None) -> InputFile | str:
    """The input for a data file, or the reason it is not one."""
    name = posixpath.basename(path.rstrip("/"))
    if name.lower() in METADATA_FILES:
        return "metadata file"
    found = reader_for_suffix(name)
    if found is None:
        return _why_not(name)
    reader, compression = found
    entry = InputFile(path, reader.name, compression, size, remote_version(info) if info else None)
    sniffed = reader.sniff(entry)
    return sniffed


def _claimer(node: Node) -> Reader | None:
    names = {posixpath.basename(p) for p, _, _ in node.files}
    for reader in registered_readers():
        if type(reader).claims_directory is Reader.claims_directory:
            continue
        if reader.marker_files and not names.intersection(reader.marker_files):
            continue
        if reader.claims_directory(node.path):
            return reader
    return None


def _expand(node: Node, split: str | None, out: Discovery) -> None:
    reader = _claimer(node)
    if reader is not None:
        files, skipped = reader.expand_directory(node.path, split)
        out.files.extend(files)
        out.skipped.extend(Skipped(p, r) for p, r in skipped)
        known = {f.path for f in files} | {p for p, _ in skipped}
        covered = tuple(p.rstrip("/") + "/" for p, _ in skipped)
        for path in node.all_files():
            if path not in known and not path.startswith(covered):
                out.skipped.append(Skipped(path, f"not part of the saved dataset in {node.path}"))
        return
    out.skipped.extend(node.skipped)
    for path, size, info in node.files:
        result = _to_input(path, size, info)
        if isinstance(result, str):
            out.skipped.append(Skipped(path, result))
        else:
            out.files.append(result)
    for sub in node.dirs:
        _expand(sub, split, out)


def _is_glob(arg: str) -> bool:
    return any(ch in arg for ch in "*?[")


def _one(arg: str, split: str | None) -> tuple[Discovery, str]:
    """Discovery for one PATH argument, and how to name it in messages."""
    if is_remote(arg):
        return _one_remote(arg, split)
    out = Discovery()
    path = local(arg)
    if os.path.isdir(path):
        _expand(list_local(path), split, out)
        return out, f"directory {arg}"
    if os.path.lexists(path):
        _add_named(path, _readable_size(arg, path), None, out)
        return out, arg
    if _is_glob(path):
        for match in sorted(glob.glob(path, recursive=True)):
            _add_local_match(match, split, out)
        return out, f"glob {arg}"
    raise AuditError(f"Input path not found: {arg}.")


def _one_remote(arg: str, split: str | None) -> tuple[Discovery, str]:
    """Discovery for a URL: a glob, a directory or one object."""
    out = Discovery()
    fs, key = filesystem(arg)
    if _is_glob(key):
        for match in sorted(retrying(arg, lambda: fs.glob(key))):
            url = fs.unstrip_protocol(match)
            info: dict[str, Any] = retrying(url, functools.partial(fs.info, match))
            if info.get("type") == "directory":
                _expand(list_remote(url), split, out)
            else:
                _add_file(url, info, out)
        return out, f"glob {arg}"
    info = _remote_info(fs, key, arg)
    if info.get("type") == "directory" or arg.endswith("/"):   # a trailing slash asks for the prefix
        _expand(list_remote(arg), split, out)
        return out, f"directory {arg}"
    _add_named(arg, info.get("size"), info, out)
    return out, arg


def _readable_size(arg: str, path: str) -> int:
    """The size of a local file named on the command line, refusing what cannot or must not be read."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise AuditError(f"Cannot read {arg} ({exc.strerror or exc}).") from None
    if not stat.S_ISREG(st.st_mode):
        raise AuditError(f"{arg} is {special_kind(st.st_mode)}, not a regular file; it is never opened.")
    if not os.access(path, os.R_OK):
        raise AuditError(f"Cannot read {arg} (permission denied).")
    return st.st_size


def _add_local_match(match: str, split: str | None, out: Discovery) -> None:
    """One match of a local glob: a folder is expanded, a special or hidden file listed as skipped."""
    if os.path.isdir(match):
        _expand(list_local(match), split, out)
        return
    try:
        st = os.stat(match)
    except OSError as exc:
        raise AuditError(f"Cannot read {match} ({exc.strerror or exc}).") from None
    if not stat.S_ISREG(st.st_mode):
        out.skipped.append(Skipped(match, f"special file ({special_kind(st.st_mode)}), never opened"))
    elif posixpath.basename(match).startswith("."):
        out.skipped.append(Skipped(match, "hidden file"))
    else:
        _add_file(match, {"size": st.st_size}, out, local_info=True)


def _remote_info(fs: Any, key: str, url: str) -> dict[str, Any]:
    try:
        info: dict[str, Any] = within_deadline(url, lambda: fs.info(key))
        return info
    except FileNotFoundError:
        raise AuditError(f"Input path not found: {url}.") from None
    except Exception:  # noqa: BLE001 - retried and classified by ``retrying``
        return retrying(url, lambda: fs.info(key))


def _add_file(path: str, info: dict[str, Any], out: Discovery, local_info: bool = False) -> None:
    result = _to_input(path, info.get("size"), None if local_info else info)
    if isinstance(result, str):
        out.skipped.append(Skipped(path, result))
    else:
        out.files.append(result)


def _add_named(path: str, size: int | None, info: dict[str, Any] | None, out: Discovery) -> None:
    """A file named on the command line must be data: anything else is an error, not a skip."""
    result = _to_input(path, size, info)
    if isinstance(result, str):
        if result == "unsupported file type":
            raise AuditError(f"{path} is not a supported input (supported: {supported_suffixes()}).")
        raise AuditError(f"{path} is not a supported input ({result}).")
    out.files.append(result)


def discover_inputs(paths: list[str], split: str | None = None) -> Discovery:
    """Expand PATHs in the order given (directories recursively and globs sorted, each file once)
    into the inputs to read and the files not read, with reasons."""
    if not paths:
        raise AuditError("No input path given.")
    total = Discovery()
    seen: set[str] = set()
    seen_skipped: set[str] = set()
    for arg in paths:
        found, where = _one(str(arg), split)
        new = 0
        for info in found.files:
            key = info.path if is_remote(info.path) else os.path.realpath(info.path)
            if key not in seen:
                seen.add(key)
                total.files.append(info)
                new += 1
        for s in found.skipped:
            if s.path not in seen_skipped:
                seen_skipped.add(s.path)
                total.skipped.append(s)
        if not found.files:
            example = f" (skipped: {found.skipped[0].path}: {found.skipped[0].reason})" if found.skipped else ""
            raise AuditError(f"No data files found in {where}{example}; readable: {supported_suffixes()}.")
    return total


def discover(paths: list[str], split: str | None = None) -> list[InputFile]:
    """The inputs to read (see ``discover_inputs`` for the files skipped and why)."""
    return discover_inputs(paths, split).files
