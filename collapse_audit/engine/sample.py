"""The detector's sample: chosen before the scan from record slots, so it is the same for any batching.

A slot is a (file, row) position: a Parquet row, a JSONL line...; each reader counts its own
(``Reader.count_slots``). Choosing ``n`` slots uniformly without replacement, seeded, gives a
uniform sample of records that does not depend on batch sizes or worker count; a chosen slot that
turns out blank or unreadable is simply not scored, so at most ``n`` records are scored.
"""

from __future__ import annotations

import numpy as np

from ..readers import InputFile, reader_named


def choose_subsample(files: list[InputFile], base: dict[int, np.ndarray] | None, n: int,
                     seed: int) -> dict[int, np.ndarray] | None:
    """``n`` rows drawn (seeded, uniform) from the rows of ``base`` (or from every slot when ``base`` is
    None): the language-model witness's sample, inside the trained detector's so both score it."""
    if base is None:
        return choose_sample(files, n, seed)
    flat = [(i, r) for i in sorted(base) for r in np.asarray(base[i]).tolist()]
    if n <= 0 or n >= len(flat):
        return base
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(len(flat), size=n, replace=False))
    out: dict[int, np.ndarray] = {i: np.zeros(0, dtype=np.int64) for i in base}
    for i in base:
        rows = [flat[k][1] for k in chosen if flat[k][0] == i]
        out[i] = np.asarray(rows, dtype=np.int64)
    return out


def choose_sample(files: list[InputFile], n: int, seed: int) -> dict[int, np.ndarray] | None:
    """Rows to score per file index, or None to score everything (n == 0 or n >= all slots)."""
    if n <= 0:
        return None
    counts = np.array([reader_named(f.format).count_slots(f) for f in files], dtype=np.int64)
    total = int(counts.sum())
    if total <= n:
        return None
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(total, size=n, replace=False))
    bounds = np.concatenate([[0], np.cumsum(counts)])
    out: dict[int, np.ndarray] = {}
    for i in range(len(files)):
        lo, hi = np.searchsorted(chosen, [bounds[i], bounds[i + 1]])
        out[i] = (chosen[lo:hi] - bounds[i]).astype(np.int64)
    return out
