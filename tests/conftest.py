"""Fixtures shared by all tests; the plain helpers live in ``helpers.py`` (importable by name)."""

from __future__ import annotations

import gzip
import json
import os
import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import REPO, make_batches, words, write_jsonl  # noqa: E402

L2R_PATH = REPO.parent / "shared" / "data" / "l2r" / "l2r.jsonl.gz"

# The language-model witness costs ~0.3 s a record on two CPU cores: the suite runs with the trained
# witness alone unless a test opts in (monkeypatch the variable, or read the committed score cache).
os.environ.setdefault("COLLAPSE_AUDIT_WITNESSES", "trained")


@pytest.fixture
def clean_corpus(tmp_path: Path) -> Path:
    """20 distinct, tagged records."""
    return write_jsonl(tmp_path / "clean.jsonl",
                       [{"id": i, "text": words(i), "provenance": "human", "source": "s"} for i in range(20)])


@pytest.fixture
def batches():
    """The shared batch builder: ``batches(texts, batch_size, sources=..., fields=...)``."""
    return make_batches


_L2R_CACHE: list | None = None


@pytest.fixture(scope="session")
def l2r_records():
    """The L2R records (human and LLM-rewritten), shuffled with a fixed seed; skips when absent."""
    global _L2R_CACHE
    if not L2R_PATH.exists():
        pytest.skip("the L2R data set is not available (needed for known-answer tests)")
    if _L2R_CACHE is None:
        with gzip.open(L2R_PATH, "rt", encoding="utf-8") as fh:
            recs = [json.loads(line) for line in fh]
        random.Random(0).shuffle(recs)
        _L2R_CACHE = recs
    return _L2R_CACHE
