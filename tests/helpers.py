"""Shared test helpers: run the real CLI in a subprocess, build small corpora on disk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "sample_data"
L2R = REPO.parent / "shared" / "data" / "l2r" / "l2r.jsonl.gz"


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `python -m collapse_audit ARGS` and capture its output (text)."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("GITHUB_STEP_SUMMARY", None) if env is None or "GITHUB_STEP_SUMMARY" not in env else None
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


def need_l2r() -> Path:
    if not L2R.exists():
        pytest.skip(f"shared L2R data not found at {L2R} (only present in the project's workspace)")
    return L2R
