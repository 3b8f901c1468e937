"""``default`` - the embedded detector: hashed character/word n-grams + stylometry, linear model.

Needs only numpy. Weights live in ``models/default.npz`` (trained by
``collapse-audit detector train``; see ``models/MODEL_CARD.md`` for data, split and scores).

The score is a logistic model over three blocks of features (see ``features``):
square-rooted relative frequencies of hashed character 1-4-grams and of word 1-2-grams, and
standardised stylometric statistics. Texts are scored in cache-sized chunks (``_chunks``), all
array operations: about 7,000 L2R-length (500-character) documents per second on one core,
about 1,800 of 2,300 characters (see BENCHMARKS.md).
"""

from __future__ import annotations

import functools
from typing import Sequence

import numpy as np

from . import features as F
from .base import Detector, load_weights, rethreshold

MODEL_FILE = "default.npz"
# Texts are featurised in steps of about CHUNK_CHARS code points (at most CHUNK_DOCS documents):
# every feature array then stays cache-sized. Measured on 2.3 KB documents, 2048-document steps
# ran at 935 docs/s and 32-document steps at 1,708 docs/s, with bit-identical scores (each
# document's features and sums do not depend on its neighbours).
CHUNK_CHARS = 1 << 16
CHUNK_DOCS = 256


def _chunks(texts: Sequence[str]):
    """(start, end) ranges of about CHUNK_CHARS characters each, in order."""
    i, n = 0, len(texts)
    while i < n:
        j, size = i, 0
        while j < n and (j == i or (size < CHUNK_CHARS and j - i < CHUNK_DOCS)):
            t = texts[j]
            size += len(t) if isinstance(t, str) else 0
            j += 1
        yield i, j
        i = j


@functools.lru_cache(maxsize=4)
def load_model(path: str | None = None) -> dict:
    m = load_weights(MODEL_FILE, path, "The default detector's weights {path} are missing; reinstall "
                     "collapse-audit or run `collapse-audit detector train`.")
    m["w_char"] = m["w_char"].astype(np.float64)
    m["w_word"] = m["w_word"].astype(np.float64)
    return m


def logit_from_model(m: dict, texts: Sequence[str]) -> np.ndarray:
    cfg = m["meta"]["features"]
    cb, wb = int(cfg["char_bits"]), int(cfg["word_bits"])
    design = cfg.get("design", "v1")
    out = np.zeros(len(texts), np.float64)
    if "w_joint" not in m:
        m["w_joint"], m["key_bits"] = F.joint_weights(m["w_char"], m["w_word"])
    w_joint, key_bits = m["w_joint"], m["key_bits"]
    for i, j in _chunks(texts):
        chunk = texts[i:j]
        f = F.featurise(chunk, char_bits=cb, word_bits=wb, design=design)
        s = F.sqrt_logit(f, w_joint, key_bits)
        # row-wise sum, not a BLAS mat-vec: its rounding depends on the number of rows, and a
        # record must get the same score whatever batch it arrives in
        s += (((f.dense - m["dense_mean"]) / m["dense_std"]) * m["w_dense"]).sum(axis=1)
        out[i:j] = s + float(m["bias"])
    return out


class DefaultDetector(Detector):
    def __init__(self, options: dict | None = None, model_path: str | None = None):
        options = dict(options or {})
        self._m = load_model(model_path)
        meta = self._m["meta"]
        self.name = "default"
        self.version = meta["version"]
        self.threshold = float(meta["threshold"])
        self.validation = dict(meta["validation"])
        if options.get("threshold") is not None:
            self.threshold = float(options["threshold"])
            self.validation = rethreshold(self.validation, self._m.get("val_scores"),
                                          self._m.get("val_labels"), self.threshold, meta["threshold"])

    def logit(self, texts: Sequence[str]) -> np.ndarray:
        return logit_from_model(self._m, list(texts))

    def score(self, texts: Sequence[str]) -> np.ndarray:
        z = self.logit(texts)
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))
