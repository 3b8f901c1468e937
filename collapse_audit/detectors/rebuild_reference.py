"""Rebuild ``models/default_reference.npz`` from the shipped default model and L2R.

``python -m collapse_audit.detectors.rebuild_reference`` - run after new default weights (training
does it too, see ``train.train_default``). A separate module because it needs the L2R loader of
``train``, which itself builds the reference: keeping it out of ``applicability`` avoids a cycle.
"""

from __future__ import annotations

import json
from pathlib import Path

from .applicability import build_applicability_reference, shipped_path
from .default import DefaultDetector
from .train import load_l2r


def main(argv=None) -> int:
    """Rebuild models/default_reference.npz from the shipped default model and L2R."""
    import argparse

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--data", help="L2R jsonl.gz (found next to the checkout by default)")
    ap.add_argument("--folds", help="JSON list of held-out fold rates (default: the model's meta['folds'], "
                    "else benchmarks/out/quant/folds.json)")
    a = ap.parse_args(argv)
    det = DefaultDetector()
    folds = det._m["meta"].get("folds")
    if a.folds:
        folds = json.loads(Path(a.folds).read_text())
    if not folds:
        raise SystemExit("no held-out fold rates: pass --folds (benchmarks/quantification_eval.py "
                         "--part folds writes them)")
    p = build_applicability_reference("default", det.score, load_l2r(a.data), folds=folds,
                                      weights_path=shipped_path("default.npz"), version=det.version,
                                      threshold=det.threshold)
    print(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
