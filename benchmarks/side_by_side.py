"""Near-duplicate detection at 1M records: collapse-audit, datatrove's MinHash pipeline and rensa,
side by side on the same data in the same run.

    python benchmarks/side_by_side.py --corpus benchmarks/data/c1m.jsonl --workers 2

What each row does (all from the JSONL file on disk, all 5-word shingles):

* ``collapse-audit dup-checks`` - reading, exact keys, MinHash (128 perms), LSH banding (9 x 13),
  verification and clusters, through the engine's worker pool (``run.py _pipeline``);
* ``collapse-audit scan`` - the whole audit (adds the detector on its 20,000 sample, provenance,
  PII, diversity), ``-f json -o /dev/null``;
* ``datatrove MinHash`` - its pipeline's first three stages (``MinhashDedupSignature`` ->
  ``MinhashDedupBuckets`` -> ``MinhashDedupCluster``: the duplicates found, before the filter
  stage rewrites the corpus) on a ``LocalPipelineExecutor`` with ``--workers`` processes,
  9 buckets x 13 hashes (our band/row choice), ``str.split`` words after its own text
  normalisation (its English tokenizer, and even its ``WhitespaceTokenizer``, load spaCy models,
  which this machine cannot download; splitting is cheaper, which only flatters it). datatrove parallelises over
  files, so it reads the same records split into ``--shards`` files (``_split``, made once);
* ``rensa`` - one process (rensa has no pool): read, ``\\w+`` shingles in Python, ``RMinHash``
  (128 perms) and ``RMinHashLSH`` (16 bands; 128 is not divisible by 9) insert + query per record
  (candidates, unverified).

Every row reports wall seconds, CPU seconds of its whole process tree (user + system, children
included), docs/s and docs per CPU-second, and peak RSS (main / tree). The machine is shared: the
load average is recorded at the start and end, and docs/CPU-s is the figure to compare.
Writes ``benchmarks/out/side_by_side.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
import unicodedata
from pathlib import Path

from run import PY, count_records, machine, run_measured  # benchmarks/run.py (this script's directory is on sys.path)

HERE = Path(__file__).resolve().parent

WORD = re.compile(r"\w+")


def shingles(text: str, k: int = 5) -> list[str]:
    """Our 5-word shingles as joined strings, so rensa hashes the same sets we do."""
    toks = WORD.findall(unicodedata.normalize("NFC", text).lower())
    if len(toks) < k:
        return [" ".join(toks)]
    return [" ".join(toks[i:i + k]) for i in range(len(toks) - k + 1)]


def split_main(path: str, out_dir: str, shards: int) -> None:
    """Split the corpus into ``shards`` JSONL files for datatrove's readers (kept when already there)."""
    out = Path(out_dir)
    if out.exists() and len(list(out.glob("*.jsonl"))) == shards:
        return
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    n = count_records(path)
    per = -(-n // shards)
    with open(path) as f:
        for s in range(shards):
            with open(out / f"part-{s:03d}.jsonl", "w") as part:
                for _ in range(per):
                    line = f.readline()
                    if not line:
                        break
                    part.write(line)


def rensa_main(path: str) -> None:
    """Stream the corpus through rensa's MinHash LSH in one process; print records and those with candidates."""
    from rensa import RMinHash, RMinHashLSH

    lsh = RMinHashLSH(threshold=0.8, num_perm=128, num_bands=16)
    n = flagged = 0
    with open(path) as f:
        for line in f:
            m = RMinHash(num_perm=128, seed=42)
            m.update(shingles(json.loads(line)["text"]))
            if lsh.query(m):
                flagged += 1
            lsh.insert(n, m)
            n += 1
    print(json.dumps({"records": n, "with_candidates": flagged}))


def _xxh64(text: str) -> int:
    import xxhash
    return xxhash.xxh64_intdigest(text.encode("utf-8"))


def datatrove_main(shard_dir: str, work: str, workers: int) -> None:
    """Run datatrove's MinHash dedup stages 1-3 over the shards; print each stage's seconds and records removed."""
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup import (
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.dedup.minhash import MinhashConfig
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.utils.word_tokenizers import WordTokenizer

    class SplitTokenizer(WordTokenizer):
        """``str.split`` words (datatrove's ``WhitespaceTokenizer`` itself loads a spaCy model)."""

        def word_tokenize(self, text):
            return text.split()

        def sent_tokenize(self, text):
            return [text]

        def span_tokenize(self, text):
            return [(0, len(text))]

    shutil.rmtree(work, ignore_errors=True)
    cfg = MinhashConfig(n_grams=5, num_buckets=9, hashes_per_bucket=13)
    shards = len(list(Path(shard_dir).glob("*.jsonl")))
    tok = SplitTokenizer()
    sig_step = MinhashDedupSignature(f"{work}/sigs", config=cfg, language=tok)
    # datatrove's xxhash64 helper hands ``str`` to xxhash, which xxhash 4 rejects: encode first
    sig_step._hash_func = _xxh64
    stages = [
        LocalPipelineExecutor(pipeline=[JsonlReader(shard_dir, glob_pattern="*.jsonl"),
                                        sig_step],
                              tasks=shards, workers=workers, logging_dir=f"{work}/logs/sigs"),
        LocalPipelineExecutor(pipeline=[MinhashDedupBuckets(f"{work}/sigs", f"{work}/buckets", config=cfg)],
                              tasks=cfg.num_buckets, workers=workers, logging_dir=f"{work}/logs/buckets"),
        LocalPipelineExecutor(pipeline=[MinhashDedupCluster(f"{work}/buckets", f"{work}/remove", config=cfg)],
                              tasks=1, workers=1, logging_dir=f"{work}/logs/cluster"),
    ]
    times = []
    for st in stages:
        t0 = time.perf_counter()
        st.run()
        times.append(round(time.perf_counter() - t0, 1))
    removed = 0
    for p in Path(f"{work}/remove").glob("*.remove"):
        removed += p.stat().st_size // 4          # one uint32 document index per removed record
    print(json.dumps({"stage_seconds": times, "removed": removed}))


def main(argv=None) -> int:
    """Measure the selected tools on the same corpus and save their rows as JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=str(HERE / "data" / "c1m.jsonl"))
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--shards", type=int, default=8)
    ap.add_argument("--only", default="ours,scan,datatrove,rensa")
    ap.add_argument("--out", default=str(HERE / "out" / "side_by_side.json"))
    args = ap.parse_args(argv)
    only = set(args.only.split(","))
    records = count_records(args.corpus)
    shard_dir = str(Path(args.corpus).with_suffix("")) + f"_shards{args.shards}"
    split_main(args.corpus, shard_dir, args.shards)
    info = machine()
    w = str(args.workers)
    jobs = [
        ("ours", f"collapse-audit dup-checks, {w} workers", [PY, str(HERE / "run.py"), "_pipeline", args.corpus, w]),
        ("rensa", "rensa RMinHash + RMinHashLSH, 1 process", [PY, __file__, "_rensa", args.corpus]),
        ("datatrove", f"datatrove MinHash stages 1-3, {w} workers",
         [PY, __file__, "_datatrove", shard_dir, str(HERE / "out" / "datatrove_work"), w]),
        ("scan", f"collapse-audit scan (whole audit), {w} workers",
         [PY, "-m", "collapse_audit", "scan", args.corpus, "-f", "json", "-o", "/dev/null", "--workers", w, "-q"]),
    ]
    rows = []
    for key, label, cmd in jobs:
        if key not in only:
            continue
        load0 = os.getloadavg()
        r = run_measured(cmd)
        detail = r["stdout"].strip().splitlines()[-1] if r["stdout"].strip() else ""
        row = {"what": label, "command": " ".join(cmd).replace(PY, "python"), "rc": r["rc"],
               "wall_s": round(r["wall"], 1), "cpu_s": round(r["cpu"], 1), "docs_s": round(records / r["wall"]),
               "docs_cpu_s": round(records / r["cpu"]) if r["cpu"] else None,
               "rss_main_mib": round(r["rss_main"]), "rss_tree_mib": round(r["rss_tree"]),
               "load_start": [round(x, 2) for x in load0], "load_end": [round(x, 2) for x in os.getloadavg()],
               "detail": detail}
        if r["rc"] not in ((0, 1) if key == "scan" else (0,)):     # scan: 1 = policy failed
            row["stderr_tail"] = r["stderr"][-1500:]
        print(json.dumps(row), file=sys.stderr)
        rows.append(row)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps({"machine": info, "records": records, "rows": rows}, indent=1))
    print("| what | wall s | CPU s | docs/s | docs/CPU-s | peak RSS main / tree MiB | load at start |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in rows:
        print(f"| {r['what']} | {r['wall_s']} | {r['cpu_s']} | {r['docs_s']} | {r['docs_cpu_s']} | "
              f"{r['rss_main_mib']} / {r['rss_tree_mib']} | {r['load_start']} |")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_rensa":
        rensa_main(sys.argv[2])
        sys.exit(0)
    if len(sys.argv) > 1 and sys.argv[1] == "_datatrove":
        datatrove_main(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        sys.exit(0)
    sys.exit(main())
