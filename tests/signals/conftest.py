"""Helpers for the collapse-signal tests: RecordBatches built in memory, the L2R corpus."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest

from collapse_audit.readers.base import RecordBatch

REPO = Path(__file__).resolve().parents[2]
L2R_PATH = REPO / ".." / "shared" / "data" / "l2r" / "l2r.jsonl.gz"


def make_batches(texts, batch_size=512, file="train.jsonl", sources=None, start=0, ids=None):
    """RecordBatch objects over ``texts`` as a JSONL reader would produce them (rows 0.., lines 1..)."""
    out = []
    for s in range(0, len(texts), batch_size):
        chunk = list(texts[s:s + batch_size])
        rows = list(range(s, s + len(chunk)))
        fields = {}
        if sources is not None:
            fields["source"] = list(sources[s:s + batch_size])
        if ids is not None:
            fields["id"] = list(ids[s:s + batch_size])
        out.append(RecordBatch(file=file, file_index=0, start=start + s, rows=rows, lines=[r + 1 for r in rows],
                               texts=chunk, fields=fields))
    return out


def run_check(check, batches):
    for b in batches:
        check.observe(b, check.prepare(b))
    return check.finish()


_L2R_CACHE: list | None = None


@pytest.fixture(scope="session")
def l2r():
    """The L2R records (human and LLM-rewritten), shuffled with a fixed seed; skips when absent."""
    global _L2R_CACHE
    if not L2R_PATH.exists():
        pytest.skip(f"L2R data not found at {L2R_PATH} (the shared data set is needed for known-answer tests)")
    if _L2R_CACHE is None:
        with gzip.open(L2R_PATH, "rt", encoding="utf-8") as fh:
            recs = [json.loads(line) for line in fh]
        random.Random(0).shuffle(recs)
        _L2R_CACHE = recs
    return _L2R_CACHE


def zipf_texts(n_records: int, vocab: int, length: int = 60, seed: int = 0, a: float = 1.1) -> list[str]:
    """Synthetic Zipfian texts (for sketch and size tests without the L2R data)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    ranks = np.minimum(rng.zipf(a, size=n_records * length), vocab) - 1
    words = np.array([f"t{k}" for k in range(vocab)], dtype=object)
    toks = words[ranks].reshape(n_records, length)
    return [" ".join(row) for row in toks]
