"""Build the bundled sample_data/ corpus from the shared L2R data (deterministic).

The demo corpus must show every part of the report and fail the default policy for visible
reasons: ~40% synthetic (some declared, some tagged human), planted exact and near duplicates,
a few untagged records, a disallowed licence, and one record carrying an HTML/script payload to
prove reports escape dataset strings. Usage: python scripts/make_sample_data.py ../shared/data/l2r/l2r.jsonl.gz
"""

from __future__ import annotations

import gzip
import json
import random
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

OUT = Path(__file__).resolve().parent.parent / "sample_data"


def main(src: str) -> None:
    """Build sample_data/ from L2R: the planted duplicates, synthetic and untagged records its README lists."""
    rng = random.Random(7)
    with gzip.open(src, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    rows = [r for r in rows if 60 <= len(r["text"].split()) <= 260 and r["domain"] != "TravelTourism"]
    human = [r for r in rows if r["label"] == "human"]
    synth = [r for r in rows if r["label"] == "synthetic"]
    rng.shuffle(human)
    rng.shuffle(synth)
    human, synth = human[:190], synth[:120]

    def rec(i: int, r: dict, source: str, tag: str | None, license: str | None) -> dict:
        out = {"id": f"doc-{i:04d}", "text": r["text"], "source": source, "license": license,
               "meta": {"domain": r["domain"], "generator": r["generator"]}}
        if tag is not None:
            out["provenance"] = tag
        return out

    crawl: list[dict] = []
    i = 0
    for r in human[:150]:
        crawl.append(rec(i, r, "web-crawl", "human", "cc-by-4.0"))
        i += 1
    # undeclared synthetic: LLM rewrites that arrived tagged as human
    for r in synth[:40]:
        crawl.append(rec(i, r, "web-crawl", "human", "cc-by-4.0"))
        i += 1
    # untagged records
    for r in human[150:158]:
        crawl.append(rec(i, r, "web-crawl", None, "cc-by-4.0"))
        i += 1
    # planted exact duplicates (whitespace / case-preserving re-spacing still counts as exact)
    for j in range(6):
        src_rec = dict(crawl[j * 7])
        src_rec["id"] = f"doc-{i:04d}"
        src_rec["text"] = "  " + src_rec["text"].replace(" ", "  ", 3) + "\n"
        crawl.append(src_rec)
        i += 1
    # planted near duplicates: a few words changed
    for j in range(12):
        base = dict(crawl[j * 5 + 1])
        words = base["text"].split()
        k = rng.randrange(10, max(11, len(words) - 10))
        words[k] = words[k].upper() + "!"
        base["text"] = " ".join(words) + " (updated)"
        base["id"] = f"doc-{i:04d}"
        crawl.append(base)
        i += 1
    # a record carrying markup: reports must show it as text
    crawl.append({"id": f"doc-{i:04d}", "provenance": "human", "source": "forum", "license": "cc-by-sa-4.0",
                  "text": "Forum post quoting markup: <script>alert('xss')</script> <img src=x onerror=alert(1)> "
                          "and \"quotes\" & ampersands should render as text in every report."})
    i += 1
    rng.shuffle(crawl)

    vendor: list[dict] = []
    for r in synth[40:120]:
        vendor.append(rec(i, r, "vendor-synth", "synthetic", "vendor-eula"))
        i += 1
    for r in human[158:190]:
        vendor.append(rec(i, r, "vendor-synth", "human", "vendor-eula"))
        i += 1
    rng.shuffle(vendor)

    OUT.mkdir(exist_ok=True)
    with open(OUT / "crawl.jsonl", "w", encoding="utf-8") as fh:
        for r in crawl:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    pq.write_table(pa.Table.from_pylist(vendor), OUT / "vendor.parquet")
    print(f"crawl.jsonl: {len(crawl)} records; vendor.parquet: {len(vendor)} records")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/l2r/l2r.jsonl.gz")
