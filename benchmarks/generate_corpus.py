"""Deterministic synthetic corpus for the scan benchmarks.

    python benchmarks/generate_corpus.py --records 100000 --out benchmarks/data/c100k.jsonl

Records: ``id``, ``text``, ``provenance`` (human / synthetic; missing for ~2%), ``source``,
``license``. Texts are words drawn from a Zipfian vocabulary (s = 1.1, 60k words, a few with
punctuation or non-ASCII letters) with a log-normal length spread (50-2000 words, mean ~300).
Planted: exact duplicates (copies of an earlier record, some with different whitespace) and near
duplicates (an earlier record with 1-3 word substitutions), each at a known rate. A sidecar
``FILE.truth.json`` lists the planted counts. Generation is vectorised per chunk of records
(numpy), so 1M records take a few minutes; the same ``--seed`` gives byte-identical files.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time

import numpy as np

LETTERS = np.frombuffer(b"etaoinshrdlcumwfgypbvkjxqz", dtype=np.uint8)
LETTER_P = np.array([12.7, 9.1, 8.2, 7.5, 7.0, 6.7, 6.3, 6.1, 6.0, 4.3, 4.0, 2.8, 2.8, 2.4, 2.4, 2.2,
                     2.0, 2.0, 1.9, 1.5, 1.0, 0.8, 0.2, 0.2, 0.1, 0.1])
EXTRA = ["café", "naïve", "résumé", "“quoted”", "don't", "well-known", "e.g.", "—", "straße", "日本"]


def vocabulary(rng, size):
    """Distinct random words by English letter frequency, some punctuated and a few non-ASCII."""
    lens = np.clip(rng.poisson(5, size) + 1, 1, 14)
    chars = rng.choice(LETTERS, size=int(lens.sum()), p=LETTER_P / LETTER_P.sum())
    words, pos = [], 0
    for n in lens.tolist():
        words.append(chars[pos:pos + n].tobytes().decode())
        pos += n
    words = list(dict.fromkeys(words))             # distinct, in first-seen order
    for i in range(0, len(words), 40):            # punctuated variants, tokenised to the same word
        words[i] = words[i] + ("," if i % 80 else ".")
    words[150:150 + 13 * len(EXTRA):13] = EXTRA
    return words


def main(argv=None) -> int:
    """Write the corpus and its ``.truth.json`` sidecar of planted counts."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--exact-rate", type=float, default=0.03)
    ap.add_argument("--near-rate", type=float, default=0.04)
    ap.add_argument("--vocab", type=int, default=60000)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    words = vocabulary(rng, args.vocab)
    V = len(words)
    wb = [w.encode() + b" " for w in words]
    wlen = np.array([len(b) for b in wb], dtype=np.int64)
    woff = np.concatenate(([0], np.cumsum(wlen)[:-1]))
    wbytes = np.frombuffer(b"".join(wb), dtype=np.uint8)
    cdf = np.cumsum(1.0 / np.arange(1, V + 1) ** 1.1)
    cdf /= cdf[-1]
    opener = gzip.open if args.out.endswith(".gz") else open
    kinds = np.array(["human", "synthetic"])
    sources = np.array(["web", "books", "forums", "news"])
    licenses = np.array(["cc-by-4.0", "cc0-1.0", "mit", "apache-2.0"])
    truth = {"records": args.records, "seed": args.seed, "exact_planted": 0, "near_planted": 0,
             "exact_rate": args.exact_rate, "near_rate": args.near_rate, "missing_provenance": 0}
    recent: list[np.ndarray] = []            # token ids of recent originals (near-dup sources)
    recent_text: list[str] = []
    window = 5000
    chunk = 5000
    with opener(args.out, "wt", encoding="utf-8") as out:
        for c0 in range(0, args.records, chunk):
            n = min(chunk, args.records - c0)
            lens = np.clip(rng.lognormal(np.log(300) - 0.245, 0.7, n), 50, 2000).astype(np.int64)
            ids = np.searchsorted(cdf, rng.random(int(lens.sum())))
            ids = np.minimum(ids, V - 1)
            kind = rng.random(n)
            prov = rng.random(n)
            src = rng.integers(0, 4, n)
            lic = rng.integers(0, 4, n)
            doc_off = np.concatenate(([0], np.cumsum(lens)))
            lines = []
            for i in range(n):
                r = c0 + i
                tok = ids[doc_off[i]:doc_off[i + 1]]
                if kind[i] < args.exact_rate and recent_text:
                    text = recent_text[int(rng.integers(len(recent_text)))]
                    if kind[i] < args.exact_rate / 3:
                        text = "  " + text.replace(" ", "\n", 2) + " "
                    truth["exact_planted"] += 1
                else:
                    if kind[i] < args.exact_rate + args.near_rate and recent:
                        tok = recent[int(rng.integers(len(recent)))].copy()
                        k = int(rng.integers(1, 4))
                        tok[rng.integers(0, len(tok), k)] = rng.integers(0, V, k)
                        truth["near_planted"] += 1
                    starts, ln = woff[tok], wlen[tok]
                    idx = np.repeat(starts - np.cumsum(ln) + ln, ln) + np.arange(int(ln.sum()))
                    text = wbytes[idx].tobytes().decode()[:-1]
                    text = text[:1].upper() + text[1:]
                    if len(recent) < window:
                        recent.append(tok)
                        recent_text.append(text)
                    else:
                        j = int(rng.integers(window))
                        recent[j], recent_text[j] = tok, text
                rec = {"id": f"doc-{r:07d}", "text": text}
                if prov[i] >= 0.02:
                    rec["provenance"] = str(kinds[int(prov[i] < 0.27)])
                else:
                    truth["missing_provenance"] += 1
                rec["source"] = str(sources[src[i]])
                rec["license"] = str(licenses[lic[i]])
                lines.append(json.dumps(rec, ensure_ascii=False))
            out.write("\n".join(lines) + "\n")
            if c0 and c0 % 100000 == 0:
                print(f"{c0} records, {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    with open(args.out + ".truth.json", "w") as f:
        json.dump(truth, f, indent=2)
    print(f"wrote {args.records} records to {args.out} in {time.perf_counter() - t0:.1f}s; {truth}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
