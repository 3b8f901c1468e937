"""Directory listings, local or remote, with every entry that is not a plain readable file already
classified: hidden, special (FIFO, socket, device: never opened), broken or directory links.
A directory or file that cannot be read is an error naming it, never a silent gap."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from typing import Any

from ..errors import AuditError
from .storage import filesystem, retrying, special_kind


@dataclass(frozen=True)
class Skipped:
    """A file a directory scan did not read, and why (reported in ``skipped_inputs``)."""

    path: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        """The entry as it appears in the result's ``skipped_inputs``."""
        return {"path": self.path, "reason": self.reason}


@dataclass
class Node:
    """A directory listing: files as (path, size, info) and subdirectories, in sorted order."""

    path: str
    files: list[tuple[str, int | None, dict[str, Any] | None]] = field(default_factory=list)
    dirs: list[Node] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def all_files(self) -> list[str]:
        """Every file path below this node, readable or skipped, so a claimed dataset folder accounts for all."""
        out = [p for p, _, _ in self.files] + [s.path for s in self.skipped]
        for d in self.dirs:
            out.extend(d.all_files())
        return out


def list_local(path: str) -> Node:
    """The tree under a local directory; hidden, special and linked-directory entries are listed as skipped."""
    node = Node(path)
    try:
        with os.scandir(path) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        raise AuditError(f"Cannot read directory {path} ({exc.strerror or exc}).") from None
    for e in entries:
        full = os.path.join(path, e.name)
        try:
            st = os.stat(full)
        except OSError as exc:
            if os.path.islink(full):
                node.skipped.append(Skipped(full, "broken symbolic link"))
                continue
            raise AuditError(f"Cannot read {full} ({exc.strerror or exc}).") from None
        if e.name.startswith("."):
            kind = "hidden directory" if stat.S_ISDIR(st.st_mode) else "hidden file"
            node.skipped.append(Skipped(full, kind))
        elif stat.S_ISDIR(st.st_mode):
            if e.is_symlink():
                node.skipped.append(Skipped(full, "symbolic link to a directory (not followed)"))
            else:
                node.dirs.append(list_local(full))
        elif stat.S_ISREG(st.st_mode):
            if not os.access(full, os.R_OK):
                raise AuditError(f"Cannot read {full} (permission denied).")
            node.files.append((full, st.st_size, None))
        else:
            node.skipped.append(Skipped(full, f"special file ({special_kind(st.st_mode)}), never opened"))
    return node


def list_remote(url: str) -> Node:
    """The tree under a remote prefix, rebuilt from one recursive listing of the object store."""
    fs, key = filesystem(url)
    found = retrying(url, lambda: fs.find(key, detail=True))
    root = Node(url.rstrip("/"))
    nodes = {"": root}
    base = key.rstrip("/")
    for full in sorted(found):
        info = found[full]
        if info.get("type") == "directory":
            continue
        rel = full[len(base):].lstrip("/")
        parts = rel.split("/")
        parent = root
        for i in range(len(parts) - 1):
            sub = "/".join(parts[: i + 1])
            if sub not in nodes:
                nodes[sub] = Node(f"{root.path}/{sub}")
                parent.dirs.append(nodes[sub])
            parent = nodes[sub]
        path = f"{root.path}/{rel}"
        if any(p.startswith(".") for p in parts):
            parent.skipped.append(Skipped(path, "hidden file"))
        else:
            parent.files.append((path, info.get("size"), info))
    return root
