"""Shared by the hostile-input modules: the shape of a clean refusal, and small corpora on disk."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from helpers import run_cli, words, write_jsonl


def assert_refused(proc, *fragments: str) -> None:
    """Exit 2, exactly one line on stderr naming what is wrong, no traceback, nothing on stdout."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr[-2000:]
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert proc.stdout == ""
    for f in fragments:
        assert str(f) in proc.stderr, (f, proc.stderr)


def corpus(path: Path, n: int = 40, start: int = 0, source: str | None = None) -> Path:
    """``n`` distinct tagged records (ids r{start}..)."""
    recs = [{"id": f"r{i}", "text": words(i), "provenance": "human", **({"source": source} if source else {})}
            for i in range(start, start + n)]
    return write_jsonl(path, recs)


def tree(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` with its bytes (to assert nothing was written or changed)."""
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def scan_json(*args) -> tuple[object, dict | None]:
    """Run ``scan ARGS -f json -q``; (process, parsed result or None)."""
    proc = run_cli("scan", *args, "-f", "json", "-q")
    return proc, (json.loads(proc.stdout) if proc.returncode in (0, 1) else None)


def rewrite_manifest(directory: Path, **changes) -> None:
    """Change fields of a partial's manifest and re-seal its producer digest (a consistent but other producer)."""
    from collapse_audit.engine.partials import producer_digest

    path = directory / "manifest.json"
    m = json.loads(path.read_text())
    m.update(changes)
    m["producer_sha256"] = producer_digest(m)
    path.write_text(json.dumps(m))


def sha(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()

