"""Truncation by measurement: the witness's curvature AUROC at 64 vs 128 tokens on the same texts.

Scores the ``base`` pool of ``benchmarks/lm_pools.py`` (every base-model generator and its human pairs)
and the L2R validation pool at 64 tokens, and compares with the cached 128-token scores:

    python benchmarks/lm_pools.py && python benchmarks/lm_truncation.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from witness_eval import auroc, load  # noqa: E402

from collapse_audit.detectors import lm_witness as W  # noqa: E402


def main() -> None:
    """Print the AUROC table at both truncations and the scoring rate at 64 tokens."""
    import pyarrow.parquet as pq

    texts = dict(zip(pq.read_table(HERE / "data" / "pools.parquet").column("key").to_pylist(),
                     pq.read_table(HERE / "data" / "pools.parquet").column("text").to_pylist(), strict=True))
    d = load()
    pick = np.flatnonzero(np.isin(d["pool"], ["base", "l2r-val"]))
    witness = W.LMWitness("cpu", max_tokens=64, batch_size=W.BATCH_SIZE)
    t0 = time.perf_counter()
    c64 = witness.features([texts[k] for k in d["key"][pick]])[:, 0]
    rate = len(pick) / (time.perf_counter() - t0)
    c128 = d["curvature"][pick].astype(np.float64)
    print("| set | AUROC at 64 tokens | AUROC at 128 tokens |\n|---|---|---|")
    pool, gen, lab = d["pool"][pick], d["generator"][pick], d["label"][pick]
    for g in sorted(set(gen[(pool == "base") & (lab != "human")])):
        pos, neg = (pool == "base") & (gen == g), (pool == "base") & (lab == "human")
        print(f"| base {g} | {auroc(c64[pos], c64[neg]):.3f} | {auroc(c128[pos], c128[neg]):.3f} |")
    pos, neg = (pool == "l2r-val") & (lab != "human"), (pool == "l2r-val") & (lab == "human")
    print(f"| L2R val (chat) | {auroc(c64[pos], c64[neg]):.3f} | {auroc(c128[pos], c128[neg]):.3f} |")
    print(f"\n64-token scoring rate here: {rate:.2f} records/s ({len(pick)} records)")


if __name__ == "__main__":
    main()
