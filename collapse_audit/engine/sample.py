"""The detector's sample: chosen before the scan from record slots, so it is the same for any batching.

A slot is a (file, row) position: a Parquet row or a JSONL line. Choosing ``n`` slots uniformly
without replacement, seeded, gives a uniform sample of records that does not depend on batch sizes
or worker count; a chosen slot that turns out blank or unreadable is simply not scored, so at most
``n`` records are scored.
"""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq

from ..errors import AuditError
from ..readers.discover import InputFile
from ..readers.jsonl import _open, _stream_errors

CHUNK = 1 << 22


def count_slots(info: InputFile) -> int:
    """Rows of a Parquet file (from its footer) or lines of a JSONL file (one streaming pass)."""
    if info.format == "parquet":
        try:
            return pq.ParquetFile(info.path).metadata.num_rows
        except Exception as exc:  # noqa: BLE001 - any footer problem is the same user error
            raise AuditError(f"{info.path} is not a readable Parquet file ({str(exc).splitlines()[0][:160]}).") from None
    lines, last = 0, b"\n"
    try:
        with _open(info) as fh:
            while chunk := fh.read(CHUNK):
                lines += chunk.count(b"\n")
                last = chunk[-1:]
    except _stream_errors():
        pass  # the reader reports the truncation with its line number
    return lines + (last != b"\n")


def choose_sample(files: list[InputFile], n: int, seed: int) -> dict[int, np.ndarray] | None:
    """Rows to score per file index, or None to score everything (n == 0 or n >= all slots)."""
    if n <= 0:
        return None
    counts = np.array([count_slots(f) for f in files], dtype=np.int64)
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
