"""Score the named evaluation pools with both witnesses, once, into a cache.

The language-model witness costs ~0.3 s per record on two CPU cores, so the evaluation works on
named, seeded, stratified subsamples ("pools") of the shared data sets, each text scored once and
cached by (weights SHA-256, text SHA-256). Every figure in benchmarks/DETECTOR.md's
"Language-model witness" section and the verdict grid (benchmarks/verdict_eval.py) draws from these
pools, so re-running is cheap after the first time.

Pools: ``l2r-val`` (human + the four chat generators of L2R's validation split, which the trained
detector never fitted on: the chat and human reference distributions; its scores on its own training
split are overconfident), ``l2r-train`` (reported only), ``l2r-test`` (the held-out split: controls
and the test fixture), ``base`` (every generator x domain of ../shared/data/base_models: the
base-model reference, graded leave-one-generator-out), ``m4`` (evaluation only).

    python benchmarks/lm_pools.py                 # score what is missing, write benchmarks/data/pools.parquet
    python benchmarks/lm_pools.py --only l2r-test --limit 200
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import xxhash

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from collapse_audit.detectors import lm_witness as W  # noqa: E402
from collapse_audit.detectors.score_cache import ScoreCache, text_key  # noqa: E402
from collapse_audit.text.limits import clip_for_analysis  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
OUT = HERE / "data"
CACHE = OUT / "lm_cache.parquet"
POOLS_FILE = OUT / "pools.parquet"
SEED = 17
FIXTURE_SYNTHETIC = 600  # tests/fixtures/l2r-test/make_fixture.py: the rewrites it keeps
#: records per stratum (label x generator x domain where the data set has them)
PER_STRATUM = {"l2r-train": 20, "l2r-val": 20, "l2r-test": 33, "base": 8, "m4": 15}
#: human records per L2R pool (the test pool's are enough for a 10% control corpus of >= 300 records)
HUMAN = {"l2r-train": 80, "l2r-val": 80, "l2r-test": 290}


def _read(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def _stratified(rows: list[dict], key, per: int, seed: int) -> list[dict]:
    groups: dict = defaultdict(list)
    for r in rows:
        groups[key(r)].append(r)
    rng = random.Random(seed)
    out = []
    for k in sorted(groups):
        g = groups[k]
        rng.shuffle(g)
        out += g[:per]
    return out


def _l2r_pool(l2r: list[dict], name: str, split: str) -> list[dict]:
    """Human records (4 x PER_STRATUM) and PER_STRATUM rewrites of each chat generator from one split."""
    rows = [r for r in l2r if r["split"] == split]
    if split == "test":   # inside the shipped test fixture (tests/fixtures/l2r-test), so its scores can ship
        ranked = sorted((r for r in rows if r["label"] == "synthetic"),
                        key=lambda r: xxhash.xxh64_intdigest(r["text"].encode("utf-8"), seed=1))
        rows = [r for r in rows if r["label"] == "human"] + ranked[:FIXTURE_SYNTHETIC]
    human = _stratified([r for r in rows if r["label"] == "human"], lambda r: "h", HUMAN[name], SEED)
    synth = _stratified([r for r in rows if r["label"] != "human"], lambda r: r["generator"], PER_STRATUM[name], SEED)
    by_gen: dict = defaultdict(list)
    for r in synth:
        by_gen[r["generator"]].append(r)
    interleaved = [r for group in zip(*(by_gen[g] for g in sorted(by_gen)), strict=False) for r in group]
    return [{**r, "pool": name} for r in human + interleaved]


def build_pools() -> list[dict]:
    """Every pool's records: text, label, generator, domain, pool (deterministic for a seed)."""
    from collapse_audit.detectors.train import MERGE, split_of

    pools: list[dict] = []
    l2r = _read(SHARED / "l2r" / "l2r.jsonl.gz")
    for r in l2r:
        r["domain"] = MERGE.get(r["domain"], r["domain"])
        r["split"] = split_of(r["text"])
    pools += _l2r_pool(l2r, "l2r-train", "train")
    pools += _l2r_pool(l2r, "l2r-val", "val")
    base = _read(SHARED / "base_models" / "base_models.jsonl.gz")
    machine = _stratified([r for r in base if r["label"] != "human"], lambda r: (r["generator"], r["domain"]),
                          PER_STRATUM["base"], SEED)
    pairs = {(r["pair"], r["domain"]) for r in machine}
    human = [r for r in base if r["label"] == "human" and (r["pair"], r["domain"]) in pairs]
    seen: set = set()
    for r in machine + human:
        if r["text"] not in seen:
            seen.add(r["text"])
            pools.append({**r, "pool": "base"})
    pools += _l2r_pool(l2r, "l2r-test", "test")
    m4 = _read(SHARED / "m4" / "m4_llama2.jsonl.gz")
    pools += [{**r, "pool": "m4"} for r in _stratified(m4, lambda r: (r["label"], r["domain"]),
                                                        PER_STRATUM["m4"], SEED)]
    for r in pools:
        r["clipped"] = clip_for_analysis([r["text"]])[0]
        r["key"] = text_key(r["clipped"])
    return pools


def score_missing(pools: list[dict], only: set[str], limit: int | None, save_every: int = 32,
                  cache_path: Path = CACHE, reverse: bool = False) -> None:
    """LM-score every pool text not in the cache yet, saving the cache as it goes."""
    witness = W.shared_witness("cpu")
    cache = ScoreCache.load(cache_path, witness.sha256, W.VERSION, witness.max_tokens, W.FEATURES)
    todo = [r for r in pools if (not only or r["pool"] in only) and r["key"] not in cache.rows]
    todo = todo[::-1] if reverse else todo
    todo = todo[:limit] if limit else todo
    print(f"{len(todo)} texts to score ({len(cache.rows)} cached)", flush=True)
    t0 = time.perf_counter()
    for i in range(0, len(todo), save_every):
        chunk = todo[i:i + save_every]
        cache.add([r["key"] for r in chunk], witness.features([r["clipped"] for r in chunk]))
        cache.save(cache_path)
        done = i + len(chunk)
        rate = done / (time.perf_counter() - t0)
        print(f"  {done}/{len(todo)}  {rate:.2f} records/s  eta {(len(todo) - done) / rate / 60:.1f} min", flush=True)


def merge_caches(into: Path, others: list[Path]) -> None:
    """Fold other score caches (same weights and truncation) into ``into``."""
    cache = ScoreCache.load(into, W.GGUF_SHA256, W.VERSION, W.MAX_TOKENS, W.FEATURES)
    for p in others:
        other = ScoreCache.load(p, W.GGUF_SHA256, W.VERSION, W.MAX_TOKENS, W.FEATURES)
        cache.rows.update(other.rows)
    cache.save(into)
    print(f"merged {len(others)} cache(s): {len(cache.rows)} texts in {into}")


def write_pools(pools: list[dict], cache_path: Path = CACHE) -> None:
    """pools.parquet: metadata, the default detector's score and the cached LM features per record."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from collapse_audit.detectors.default import DefaultDetector

    det = DefaultDetector()
    default = det.score([r["clipped"] for r in pools])
    cache = ScoreCache.load(cache_path, W.GGUF_SHA256, W.VERSION, W.MAX_TOKENS, W.FEATURES)
    _, lm = cache.lookup([r["key"] for r in pools])
    cols = {k: [str(r.get(k, "")) for r in pools] for k in ("pool", "label", "generator", "domain", "key")}
    cols["default"] = np.asarray(default, np.float64)
    cols.update({f: lm[:, j] for j, f in enumerate(W.FEATURES)})
    cols["text"] = [r["clipped"] for r in pools]
    pq.write_table(pa.table(cols), POOLS_FILE)
    print(f"wrote {POOLS_FILE} ({len(pools)} records, {int(np.isfinite(lm[:, 0]).sum())} LM-scored)")


def main() -> None:
    """Score the pools (or some) and write pools.parquet."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help="comma-separated pool names")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--no-score", action="store_true", help="only write pools.parquet from the cache")
    ap.add_argument("--cache", default=str(CACHE), help="score cache to read and extend")
    ap.add_argument("--reverse", action="store_true", help="score from the end (a second process)")
    ap.add_argument("--merge", default="", help="comma-separated caches to merge into --cache first")
    args = ap.parse_args()
    pools = build_pools()
    counts: dict = defaultdict(int)
    for r in pools:
        counts[r["pool"]] += 1
    print("pools:", dict(counts))
    if args.merge:
        merge_caches(Path(args.cache), [Path(p) for p in args.merge.split(",") if p])
    if not args.no_score:
        score_missing(pools, {p for p in args.only.split(",") if p}, args.limit, cache_path=Path(args.cache),
                      reverse=args.reverse)
    write_pools(pools, Path(args.cache))


if __name__ == "__main__":
    main()
