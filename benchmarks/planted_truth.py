"""Known-answer check of `collapse-audit scan` on a 20k-record corpus with planted truth (issue 2).

Builds a corpus from the shared L2R data (real human and LLM-written texts): 65% human-written
(L2R human texts plus sentence-level splices of them, which create realistic partial overlaps),
35% LLM-written, a share of them declared; then plants exact duplicates (re-spaced, NFD-encoded
copies), near duplicates (a few words edited) and untagged records. It runs the scan with
--annotations and compares against truth computed independently here:

* records.total and the untagged count, from the file;
* exact duplicates: repeats after NFC + whitespace collapsing, counted directly;
* near duplicates: *exact* Jaccard of 5-word shingle sets for every pair that can reach the
  threshold (prefix filtering finds all pairs with J >= 0.7 exactly, no sampling), then
  recall over pairs with J >= 0.9 (both records in one reported cluster) and precision of the
  reported (record, duplicate_of_row) links against pairs with J >= 0.7.

Usage: python benchmarks/planted_truth.py [--records 20000] [--workdir benchmarks/out/planted]
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import re
import subprocess
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import xxhash

REPO = Path(__file__).resolve().parent.parent
L2R = REPO.parent / "shared" / "data" / "l2r" / "l2r.jsonl.gz"
TOKEN = re.compile(r"\w+")


def build(n: int, out: Path, seed: int = 11) -> dict:
    """Write the planted corpus to ``out`` (human, LLM, duplicates, untagged) and return its true figures."""
    rng = random.Random(seed)
    rows = [json.loads(line) for line in gzip.open(L2R, "rt", encoding="utf-8")]
    seen, human, synth = set(), [], []
    for r in rows:  # L2R repeats some texts (TravelTourism); keep one copy so truth is ours alone
        key = " ".join(r["text"].split())
        if key in seen:
            continue
        seen.add(key)
        (human if r["label"] == "human" else synth).append(r["text"])
    rng.shuffle(human)
    rng.shuffle(synth)
    n_exact, n_near, n_untagged = n // 60, n // 40, n // 100
    n_base = n - n_exact - n_near
    n_synth = round(0.35 * n_base)
    n_human = n_base - n_synth
    sentences = [s for t in human for s in re.split(r"(?<=[.!?])\s+", t) if len(s.split()) >= 4]
    texts = human[:n_human]
    while len(texts) < n_human:  # splice sentences of different human texts into new documents
        texts.append(" ".join(rng.choice(sentences) for _ in range(rng.randint(4, 12))))
    records = [{"text": t, "provenance": "human", "source": "crawl", "truth": "human"} for t in texts]
    for i, t in enumerate(synth[:n_synth]):
        declared = i % 3 == 0
        records.append({"text": t, "provenance": "synthetic" if declared else "human",
                        "source": "vendor" if declared else "crawl", "truth": "synthetic"})
    rng.shuffle(records)
    for _ in range(n_exact):
        src = dict(rng.choice(records[:n_base]))
        src["text"] = unicodedata.normalize("NFD", "  " + src["text"].replace(" ", " \t ", 5) + "\n")
        records.insert(rng.randrange(len(records) + 1), src)
    for _ in range(n_near):
        src = dict(rng.choice(records[:n_base]))
        words = src["text"].split()
        if len(words) < 60:
            words = words + words  # short texts: duplicate the body so a single edit keeps J high
        for _ in range(max(1, len(words) // 150)):
            k = rng.randrange(len(words))
            words[k] = words[k] + "s"
        src["text"] = " ".join(words)
        records.insert(rng.randrange(len(records) + 1), src)
    for i in rng.sample(range(len(records)), n_untagged):
        records[i] = {k: v for k, v in records[i].items() if k != "provenance"}
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as fh:
        for i, r in enumerate(records):
            fh.write(json.dumps({"id": f"p{i}", **r}, ensure_ascii=False) + "\n")
    return {"records": len(records), "synthetic_truth": sum(r["truth"] == "synthetic" for r in records) / len(records)}


def normalise(text: str) -> str:
    """The text as the exact-duplicate truth compares it: NFC with whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def shingles(text: str, n: int = 5) -> np.ndarray:
    """Distinct hashes of the text's 5-word shingles, for the exact Jaccard of the near-duplicate truth."""
    toks = TOKEN.findall(unicodedata.normalize("NFC", text).lower())
    grams = [" ".join(toks[i:i + n]) for i in range(max(1, len(toks) - n + 1))]
    hashes = (xxhash.xxh3_64_intdigest(g.encode()) for g in grams)
    return np.unique(np.fromiter(hashes, dtype=np.uint64, count=len(grams)))


def exact_pairs(sets: list[np.ndarray], t: float) -> dict[tuple[int, int], float]:
    """All pairs with Jaccard >= t, exactly (prefix filtering under the global order of hash values)."""
    index: dict[int, list[int]] = defaultdict(list)
    for doc, s in enumerate(sets):
        prefix = len(s) - math.ceil(t * len(s)) + 1
        for h in s[:prefix].tolist():
            index[h].append(doc)
    cands = set()
    for docs in index.values():
        if len(docs) > 1:
            cands.update((a, b) for i, a in enumerate(docs) for b in docs[i + 1:])
    out = {}
    for a, b in cands:
        inter = len(np.intersect1d(sets[a], sets[b], assume_unique=True))
        j = inter / (len(sets[a]) + len(sets[b]) - inter)
        if j >= t:
            out[(a, b)] = j
    return out


def main() -> None:
    """Build the corpus, scan it, compare with the truth computed here; exit 1 when the check fails."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=20000)
    ap.add_argument("--workdir", default=str(REPO / "benchmarks" / "out" / "planted"))
    args = ap.parse_args()
    work = Path(args.workdir)
    corpus = work / "corpus.jsonl"
    info = build(args.records, corpus)
    recs = [json.loads(line) for line in open(corpus, encoding="utf-8")]

    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "collapse_audit", "scan", str(corpus), "-f", "json", "-q",
                           "--annotations", str(work / "ann.parquet"), "-o", str(work / "result.json")],
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode == 2:
        sys.exit(proc.stderr)
    result = json.loads((work / "result.json").read_text())
    ann = pq.read_table(work / "ann.parquet").to_pydict()
    m = result["metrics"]

    counts = Counter(normalise(r["text"]) for r in recs)
    exact_truth = sum(c - 1 for c in counts.values())
    untagged_truth = sum(1 for r in recs if "provenance" not in r)
    sets = [shingles(r["text"]) for r in recs]
    truth = exact_pairs(sets, 0.7)
    strong = [p for p, j in truth.items() if j >= 0.9]
    cluster = ann["near_cluster"]
    found_strong = sum(1 for a, b in strong if cluster[a] is not None and cluster[a] == cluster[b])
    links = [(min(i, d), max(i, d)) for i, d in enumerate(ann["duplicate_of_row"]) if d is not None]
    good_links = sum(1 for p in links if p in truth)
    report = {
        "records": {"truth": len(recs), "reported": m["records.total"]},
        "exact_duplicates": {"truth": exact_truth, "reported": m["duplicates.exact_count"]},
        "untagged": {"truth": untagged_truth, "reported": m["provenance.missing_count"]},
        "near_pairs_j_ge_0.9": len(strong), "near_pairs_j_ge_0.7": len(truth),
        "near_recall_j_ge_0.9": found_strong / max(1, len(strong)),
        "near_link_precision_vs_j_ge_0.7": good_links / max(1, len(links)),
        "near_count_reported": m["duplicates.near_count"],
        "synthetic_truth": info["synthetic_truth"],
        "synthetic_estimated": [m["synthetic.estimated_fraction"], m["synthetic.estimated_fraction_ci_low"],
                                m["synthetic.estimated_fraction_ci_high"]],
        "exit_code": proc.returncode, "verdict": result["verdict"],
        "failed_rules": [r["id"] for r in result["rules"] if r["status"] == "fail"],
        "ca101_status": next((r["status"] for r in result["rules"] if r["id"] == "CA101"), None),
        "scan_seconds": round(elapsed, 2),
    }
    print(json.dumps(report, indent=2))
    ok = (report["records"]["truth"] == report["records"]["reported"]
          and report["exact_duplicates"]["truth"] == report["exact_duplicates"]["reported"]
          and report["untagged"]["truth"] == report["untagged"]["reported"]
          and report["near_recall_j_ge_0.9"] >= 0.95 and report["near_link_precision_vs_j_ge_0.7"] >= 0.95
          # the truth (35%) is over the 30% cap: CA101 must not pass, and the estimate must be within
          # 0.05 of the truth with the truth inside its interval (in-distribution accuracy)
          and proc.returncode == 1 and report["ca101_status"] in ("fail", "inconclusive")
          and abs(m["synthetic.estimated_fraction"] - info["synthetic_truth"]) <= 0.05
          and m["synthetic.estimated_fraction_ci_low"] <= info["synthetic_truth"]
          <= m["synthetic.estimated_fraction_ci_high"])
    print("PLANTED-TRUTH CHECK:", "PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
