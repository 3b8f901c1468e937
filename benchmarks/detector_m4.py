"""Cross-dataset evaluation of the shipped default detector on M4 (evaluation only).

    python benchmarks/detector_m4.py [--detector default] [--model PATH]

M4 (Wang et al., EACL 2024; llama-2-70b-chat example subset: 4 domains x 100 human/machine
pairs) is never used to train, select or threshold anything: this script scores it once with the
shipped weights and threshold. Per domain: AUROC with a 95% bootstrap interval (resampling
pairs), and TPR / FPR at the shipped threshold. Writes benchmarks/out/detector/m4_<version>.json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from collapse_audit.detectors import evaluate as E  # noqa: E402


def find_m4() -> Path:
    for up in [ROOT, *ROOT.parents]:
        p = up.parent / "shared" / "data" / "m4" / "m4_llama2.jsonl.gz"
        if p.is_file():
            return p
    raise SystemExit("M4 evaluation data not found (shared/data/m4/m4_llama2.jsonl.gz)")


def boot_auroc(y, s, pair, n=1000, seed=0):
    rng = np.random.default_rng(seed)
    ups = np.unique(pair)
    groups = [np.flatnonzero(pair == p) for p in ups]
    vals = []
    for _ in range(n):
        pick = rng.integers(0, len(groups), len(groups))
        idx = np.concatenate([groups[i] for i in pick])
        a = E.auroc(y[idx], s[idx])
        if a is not None:
            vals.append(a)
    return float(np.quantile(vals, 0.025)), float(np.quantile(vals, 0.975))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None, help="weights file (default: the shipped default.npz)")
    a = ap.parse_args()
    from collapse_audit.detectors.default import DefaultDetector

    det = DefaultDetector(model_path=a.model)
    with gzip.open(find_m4(), "rt", encoding="utf-8") as fh:
        rows = [json.loads(x) for x in fh]
    texts = [r["text"] for r in rows]
    y = np.array([r["label"] == "synthetic" for r in rows], np.int64)
    dom = np.array([r["domain"] for r in rows])
    pair = np.array([r["pair"] for r in rows])
    s = det.score(texts)
    out = {"detector": det.version, "threshold": det.threshold, "val_fpr": det.validation["fpr"],
           "val_tpr": det.validation["tpr"], "domains": {}}
    for name in [*sorted(set(dom.tolist())), "overall"]:
        m = np.ones(len(y), bool) if name == "overall" else dom == name
        tpr, fpr = E.rates_at(y[m], s[m], det.threshold)
        lo, hi = boot_auroc(y[m], s[m], pair[m])
        out["domains"][name] = {"auroc": E.auroc(y[m], s[m]), "auroc_ci95": [lo, hi], "tpr": tpr,
                                "fpr": fpr, "n_pos": int(y[m].sum()), "n_neg": int((y[m] == 0).sum())}
    path = ROOT / "benchmarks" / "out" / "detector" / f"m4_{det.version}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1))
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
