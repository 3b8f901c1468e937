"""Leave-one-domain-out / leave-one-generator-out folds of the default detector's design.

    python benchmarks/detector_folds.py --ship               # retrain the shipped weights (same as
                                                             # `collapse-audit detector train`) and
                                                             # write the out-of-fold scores
    python benchmarks/detector_folds.py --frac 0.3 --only lodo --C 4 --weighting domain --tag x
                                                             # model selection on a fixed 30% subset

``--ship`` writes ``collapse_audit/detectors/models/default.npz`` + ``MODEL_CARD.md`` and
``benchmarks/out/oof_default.parquet``: one row per held-out record and fold (fold, domain,
generator, label, score, n_chars), the score being P(synthetic) from the model fitted without
that fold's domain or generator. Exploration runs write
``benchmarks/out/detector/folds_<tag>.json`` (per-fold AUROC; tpr/fpr at the shipped threshold).
Features are cached per design in ``benchmarks/out/detector/``. Needs the L2R data, scikit-learn,
scipy and pyarrow. Fold protocols: see ``train.fold_sets``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from collapse_audit.detectors import train as T  # noqa: E402

OUT = ROOT / "benchmarks" / "out"


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def features(d: T.L2R):
    """(sparse block, dense block) of every L2R text for the current design, cached on disk."""
    import scipy.sparse as sp

    cache = OUT / "detector" / f"feat_{T.DESIGN}.npz"
    dcache = OUT / "detector" / f"dense_{T.DESIGN}.npy"
    if cache.is_file() and dcache.is_file():
        return sp.load_npz(cache).tocsr(), np.load(dcache)
    t0 = time.time()
    X, D = T.raw_design(d.texts)
    cache.parent.mkdir(parents=True, exist_ok=True)
    sp.save_npz(cache, X)
    np.save(dcache, D)
    log(f"featurised {len(d.texts)} texts in {time.time() - t0:.0f}s -> {X.shape}, nnz {X.nnz}")
    return X, D


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ship", action="store_true", help="retrain the shipped weights + card, write the OOF file")
    ap.add_argument("--frac", type=float, default=1.0, help="fixed fraction of records to use")
    ap.add_argument("--C", type=float, default=T.C)
    ap.add_argument("--weighting", default=T.WEIGHTING, choices=["class", "domain"])
    ap.add_argument("--only", default="", help="fold prefix, e.g. lodo or logo:GPT-4o")
    ap.add_argument("--tag", default="run")
    ap.add_argument("--workers", type=int, default=1, help="fit folds in this many processes")
    ap.add_argument("--parquet", default=str(OUT / "oof_default.parquet"), help="OOF output ('-': none)")
    a = ap.parse_args()
    d = T.load_l2r()
    if a.ship:
        from collapse_audit.detectors.card import write_card

        meta = T.train_default(d, T.models_dir(), log, oof_path=None if a.parquet == "-" else Path(a.parquet),
                               workers=a.workers)
        write_card(T.models_dir())
        print(json.dumps(meta["folds_summary"], indent=1))
        return
    X, D = features(d)
    from collapse_audit.detectors.default import load_model

    thr = float(load_model()["meta"]["threshold"])  # tpr/fpr at the shipped threshold
    res, rows = T.run_folds(d, X, D, a.C, a.weighting, T.fold_subset(d, a.frac), a.only, thr, log, a.workers)
    rep = {"design": T.DESIGN, "C": a.C, "weighting": a.weighting, "frac": a.frac, "threshold": thr,
           "summary": T.fold_summary(res), "folds": res}
    (OUT / "detector").mkdir(parents=True, exist_ok=True)
    (OUT / "detector" / f"folds_{a.tag}.json").write_text(json.dumps(rep, indent=1))
    if a.parquet != "-":
        T.write_oof(rows, Path(a.parquet))
    print(json.dumps(rep["summary"], indent=1))


if __name__ == "__main__":
    main()
