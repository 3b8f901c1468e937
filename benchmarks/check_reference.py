"""Near-duplicate results of the scan path == the single-process, unvectorised reference.

    python benchmarks/check_reference.py --corpus benchmarks/data/c100k.jsonl --workers 2

Scan path: ``ExactDuplicates`` + ``NearDuplicates`` through the engine's reader and worker pool
(``--workers``; batches of 4096, vectorised ``prepare`` in worker processes, numpy banding).

Reference: one record at a time, in input order, no batching and no worker: Python ``re`` tokens,
per-token hash in plain Python (memoised), shingle combination in Python integers, the
permutations in numpy over that record's shingles only (``reference_signature``), then
datasketch's own ``MinHashLSH`` (in-memory storage, same threshold and ``num_perm``) to find
candidates (query before insert), each candidate verified with the same rule (share of agreeing
verification values — the low 16 bits of each signature value — >= threshold), union-find with the lowest index as root.

Compares ``duplicate_of_row`` and ``near_cluster`` for every record; exit 0 when identical.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from datasketch import LeanMinHash, MinHashLSH  # noqa: E402

from collapse_audit.checks.near_duplicates import verification_values, verify  # noqa: E402
from collapse_audit.text.minhash import reference_signature  # noqa: E402


def reference(texts, threshold=0.8, num_perm=128, ngram=5, seed=0):
    """Cluster root per text, one record at a time through datasketch's LSH: the independent answer."""
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    parent = list(range(len(texts)))
    sig16 = []
    cache: dict = {}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, text in enumerate(texts):
        sig = reference_signature(text, num_perm, ngram, seed, cache=cache)
        s16 = verification_values(sig)
        sig16.append(s16)
        m = LeanMinHash(seed=seed, hashvalues=sig, scheme="legacy")   # a label only: LSH keys are the values
        for j in lsh.query(m):
            if verify(s16[None, :], sig16[j][None, :], threshold)[0]:
                a, b = find(i), find(j)
                if a != b:
                    parent[max(a, b)] = min(a, b)
        lsh.insert(i, m)
    roots = np.array([find(i) for i in range(len(texts))])
    return roots


def main(argv=None) -> int:
    """Run the scan path and the reference on one corpus; 0 when identical, 1 when they differ, 2 on error."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="first N records only (0 = all)")
    args = ap.parse_args(argv)
    corpus = args.corpus
    texts = []
    with open(corpus) as f:
        for line in f:
            texts.append(json.loads(line)["text"])
            if args.limit and len(texts) >= args.limit:
                break
    tmp = tempfile.mkdtemp()
    if args.limit:
        corpus = f"{tmp}/subset.jsonl"
        with open(args.corpus) as src, open(corpus, "w") as dst:
            for _, line in zip(range(args.limit), src, strict=False):  # the first --limit lines only
                dst.write(line)
    out = f"{tmp}/cols.parquet"
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, str(HERE / "run.py"), "_pipeline", corpus, str(args.workers), out],
                       capture_output=True, text=True)
    if r.returncode:
        print(r.stderr, file=sys.stderr)
        return 2
    t_scan = time.perf_counter() - t0
    import pyarrow.parquet as pq
    cols = pq.read_table(out)
    dup_of = cols["duplicate_of_row"].to_numpy(zero_copy_only=False)
    cluster = cols["near_cluster"].to_pylist()

    t0 = time.perf_counter()
    roots = reference(texts)
    t_ref = time.perf_counter() - t0
    n = len(texts)
    ref_dup = np.where(roots != np.arange(n), roots, -1)
    got_dup = np.nan_to_num(np.asarray(dup_of, dtype=float), nan=-1).astype(np.int64)
    sizes = np.bincount(roots, minlength=n)
    croots = np.flatnonzero(sizes >= 2)
    dense = {int(r): k for k, r in enumerate(croots)}
    ref_cluster = [dense.get(int(r)) if sizes[r] >= 2 else None for r in roots]
    bad_dup = np.flatnonzero(ref_dup != got_dup)
    bad_cluster = [i for i in range(n) if ref_cluster[i] != cluster[i]]
    print(f"records {n}; scan path (workers={args.workers}) {t_scan:.1f}s, reference {t_ref:.1f}s; "
          f"near duplicates: reference {int((ref_dup >= 0).sum())}, scan {int((got_dup >= 0).sum())}; "
          f"clusters: reference {len(croots)}")
    if len(bad_dup) or bad_cluster:
        print(f"DIFFERENT: duplicate_of_row differs on {len(bad_dup)} records (first {bad_dup[:10].tolist()}), "
              f"near_cluster on {len(bad_cluster)}")
        return 1
    print("IDENTICAL: duplicate_of_row and near_cluster match the reference on every record")
    return 0


if __name__ == "__main__":
    sys.exit(main())
