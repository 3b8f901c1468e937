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
