"""Default detector throughput on one core (docs/s), for the code on PYTHONPATH.

    taskset -c 0 python benchmarks/detector_speed.py [--model PATH] [--repeat 3]

Two inputs: the first 3,000 L2R texts (about 510 characters each) and 3,000 longer documents
(consecutive L2R texts joined in fours, about 2,000 characters). Best of ``--repeat`` passes after a
warm-up, timed in process CPU time (so other jobs on the machine distort it less). Run it with PYTHONPATH pointing at the checkout to measure (e.g. before/after a change)
and pin it to one core; the numbers move with the machine's load, so compare runs made together.
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path


def l2r_texts(n: int) -> list[str]:
    here = Path(__file__).resolve().parents[1]
    for up in [here, *here.parents]:
        p = up.parent / "shared" / "data" / "l2r" / "l2r.jsonl.gz"
        if p.is_file():
            out = []
            with gzip.open(p, "rt", encoding="utf-8") as fh:
                for line in fh:
                    out.append(json.loads(line)["text"])
                    if len(out) >= n:
                        break
            return out
    raise SystemExit("L2R data not found (shared/data/l2r/l2r.jsonl.gz)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    from collapse_audit.detectors.default import DefaultDetector

    det = DefaultDetector(model_path=a.model)
    raw = l2r_texts(12000)
    sets = {"l2r": raw[:3000], "long": ["\n\n".join(raw[i:i + 4]) for i in range(0, 12000, 4)]}
    det.score(raw[:200])
    out = {"detector": det.version}
    for name, texts in sets.items():
        best = 0.0
        for _ in range(a.repeat):
            t = time.process_time()
            det.score(texts)
            best = max(best, len(texts) / (time.process_time() - t))
        out[name] = {"docs_per_s": round(best), "mean_chars": round(sum(map(len, texts)) / len(texts))}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
