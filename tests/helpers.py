"""Shared test helpers: run the real CLI in a subprocess, build small corpora on disk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "sample_data"


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `python -m collapse_audit ARGS` and capture its output (text)."""
    # an outer GitHub Actions run must not leak its step summary into the scans under test
    full_env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "collapse_audit", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd or REPO, env=full_env, timeout=600)


def write_jsonl(path: Path, records: list) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for r in records:
            fh.write((r if isinstance(r, str) else json.dumps(r)) + "\n")
    return path


def words(i: int, n: int = 40) -> str:
    """A distinct, deterministic text of n words for record i (no accidental near-duplicates)."""
    import random

    rng = random.Random(i)
    vocab = [f"w{k}" for k in range(5000)]
    return " ".join(rng.choice(vocab) for _ in range(n))


def make_batches(texts, batch_size=512, file="train.jsonl", sources=None, start=0, ids=None, fields=None,
                 file_index=0, lines=True):
    """RecordBatch objects over ``texts`` as a JSONL reader would produce them (rows 0.., lines 1..).

    ``sources``/``ids`` fill the ``source``/``id`` fields; ``fields`` maps any other field name to
    one value per record. The one batch builder every check test uses.
    """
    from collapse_audit.readers.base import RecordBatch

    columns = dict(fields or {})
    if sources is not None:
        columns["source"] = sources
    if ids is not None:
        columns["id"] = ids
    out = []
    for s in range(0, len(texts), batch_size):
        chunk = list(texts[s:s + batch_size])
        rows = list(range(s, s + len(chunk)))
        out.append(RecordBatch(file=file, file_index=file_index, start=start + s, rows=rows,
                               lines=[r + 1 for r in rows] if lines else None, texts=chunk,
                               fields={k: list(v[s:s + batch_size]) for k, v in columns.items()}))
    return out


def make_check(cls, options=None, resources=None, seed=0, fields=None):
    """A check built as the engine builds it; ``options`` is a dict of its policy section's keys."""
    from collapse_audit.checks.base import CheckContext
    from collapse_audit.config import FieldMap

    opts = cls.Options(**options) if options else None
    return cls(CheckContext(fields=fields or FieldMap(), options=opts, seed=seed, resources=resources or {}))


def run_check(check, batches):
    """prepare + observe every batch in order, then finish."""
    for b in batches:
        check.observe(b, check.prepare(b))
    return check.finish()


def zipf_texts(n_records: int, vocab: int, length: int = 60, seed: int = 0, a: float = 1.1) -> list[str]:
    """Synthetic Zipfian texts (for sketch and size tests without the L2R data)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    ranks = np.minimum(rng.zipf(a, size=n_records * length), vocab) - 1
    vocab_words = np.array([f"t{k}" for k in range(vocab)], dtype=object)
    toks = vocab_words[ranks].reshape(n_records, length)
    return [" ".join(row) for row in toks]


# ---- processes, read from /proc (Linux): the signal tests check that no worker outlives a scan ----

def _children_by_parent() -> dict[int, list[int]]:
    """Every live process's children, by parent pid."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(d))
    return children


def child_pids(pid: int) -> list[int]:
    """The direct children of ``pid``."""
    return _children_by_parent().get(pid, [])


def descendant_pids(pid: int) -> set[int]:
    """Every process below ``pid`` (children, their children, ...)."""
    children = _children_by_parent()
    out, stack = set(), [pid]
    while stack:
        for c in children.get(stack.pop(), []):
            out.add(c)
            stack.append(c)
    return out


def alive(pid: int) -> bool:
    """Whether ``pid`` is a running process (not gone, not a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def process_names(pids: set[int]) -> list[str]:
    """The command names of those of ``pids`` still running."""
    out = []
    for p in pids:
        try:
            with open(f"/proc/{p}/comm") as fh:
                out.append(fh.read().strip())
        except OSError:
            pass
    return out
