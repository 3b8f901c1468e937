"""Turn the PATH arguments (files, directories, globs) into an ordered list of input files."""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass

from ..errors import AuditError

JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
COMPRESSIONS = {".gz": "gz", ".zst": "zst", ".zstd": "zst"}


@dataclass(frozen=True)
class InputFile:
    path: str
    format: str              # "jsonl" | "parquet"
    compression: str | None  # None | "gz" | "zst"


def classify(path: str) -> InputFile | None:
    """Format of a file from its name, or None when it is not one we read."""
    name = path.lower()
    compression = None
    for suffix, comp in COMPRESSIONS.items():
        if name.endswith(suffix):
            compression, name = comp, name[: -len(suffix)]
            break
    if name.endswith(".parquet") or name.endswith(".pq"):
        return None if compression else InputFile(path, "parquet", None)
    if name.endswith(JSONL_SUFFIXES):
        return InputFile(path, "jsonl", compression)
    return None


def _walk(directory: str) -> list[str]:
    found = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(os.path.join(root, f) for f in sorted(files) if not f.startswith("."))
    return found


def discover(paths: list[str]) -> list[InputFile]:
    """Expand PATHs in the order given; directories recursively and globs sorted, duplicates once."""
    if not paths:
        raise AuditError("No input path given.")
    out: list[InputFile] = []
    seen: set[str] = set()
    for arg in paths:
        if os.path.isdir(arg):
            candidates = _walk(arg)
            where = f"directory {arg}"
        elif os.path.isfile(arg):
            info = classify(arg)
            if info is None:
                raise AuditError(
                    f"{arg} is not a supported input (expected .parquet, .jsonl, .jsonl.gz or .jsonl.zst)."
                )
            candidates = [arg]
            where = arg
        elif any(ch in arg for ch in "*?["):
            candidates = sorted(p for p in glob.glob(arg, recursive=True) if os.path.isfile(p))
            where = f"glob {arg}"
        else:
            raise AuditError(f"Input path not found: {arg}.")
        matched = [c for c in (classify(p) for p in candidates) if c is not None]
        if not matched:
            raise AuditError(f"No Parquet or JSONL files found in {where}.")
        for info in matched:
            key = os.path.realpath(info.path)
            if key not in seen:
                seen.add(key)
                out.append(info)
    return out
