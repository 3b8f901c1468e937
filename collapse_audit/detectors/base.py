"""The one small interface every synthetic-text detector implements.

A detector maps texts to ``P(model-generated)`` in [0, 1]. It carries the threshold at which a
record counts as *flagged*, and the validation scores measured at that threshold on held-out data:
the share estimate (``quantify.assess_share``) corrects the raw scores with them, so they must
be honest (held-out, never training data).
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..lazy import np


class Detector(abc.ABC):
    """A synthetic-text detector: scores texts, and carries the threshold and validation behind its flags."""

    #: how it was chosen: "default", "neural", "hf:/path", "lm:/path"
    name: str = "detector"
    #: e.g. "default-1.0.0"
    version: str = "0"
    #: score >= threshold means "flagged synthetic"
    threshold: float = 0.5
    #: JSON-able; at least tpr, fpr (at ``threshold``), n_pos, n_neg, auroc, dataset, split
    validation: dict[str, Any] = {}

    @abc.abstractmethod
    def score(self, texts: Sequence[str]) -> np.ndarray:
        """float64 array in [0, 1], P(model-generated), same order and length as ``texts``."""

    def flag(self, texts: Sequence[str]) -> np.ndarray:
        """Boolean array: which texts this detector flags as synthetic."""
        return self.score(texts) >= self.threshold

    def describe(self) -> dict[str, Any]:
        """What the report records about the detector that ran."""
        return {
            "name": self.name,
            "version": self.version,
            "threshold": float(self.threshold),
            "validation": dict(self.validation),
        }


def unvalidated(dataset: str = "none") -> dict[str, Any]:
    """Validation block for a detector with no measured error rates (e.g. a user's model)."""
    return {
        # tpr=1, fpr=0 with no validation counts: the share estimate falls back to the raw
        # flagged share and says so.
        "tpr": 1.0, "fpr": 0.0, "n_pos": 0, "n_neg": 0,
        "auroc": None, "dataset": dataset, "split": "none",
        "note": "not validated: run `collapse-audit detector eval` on labelled data and set "
                "detector.tpr / detector.fpr / detector.n_pos / detector.n_neg in the policy",
    }


def rethreshold(validation: dict, val_scores, val_labels, threshold: float, shipped: float) -> dict:
    """Validation block at a policy-chosen threshold, recomputed from the shipped val scores."""
    v = dict(validation)
    if float(threshold) == float(shipped) or val_scores is None:
        return v
    s = np.asarray(val_scores, np.float64)
    y = np.asarray(val_labels, bool)
    f = s >= threshold
    v["tpr"] = float(f[y].mean()) if y.any() else 0.0
    v["fpr"] = float(f[~y].mean()) if (~y).any() else 0.0
    v["note"] = f"threshold {threshold} set by the policy (shipped: {shipped}); tpr/fpr recomputed on the val split"
    return v


def load_weights(filename: str, path: str | None, missing: str) -> dict[str, Any]:
    """Arrays of a shipped ``models/FILENAME`` (or of ``path``), with its JSON ``meta`` decoded.

    ``missing`` is the user-facing sentence when the file is absent ({path} is filled in).
    """
    import json
    from importlib import resources
    from pathlib import Path

    from ..errors import AuditError

    if path is None:
        ref = resources.files(__package__).joinpath("models").joinpath(filename)
        with resources.as_file(ref) as p:
            return load_weights(filename, str(p), missing)
    p = Path(path)
    if not p.is_file():
        raise AuditError(missing.format(path=p))
    with np.load(p, allow_pickle=False) as z:
        weights = {k: z[k] for k in z.files}
    weights["meta"] = json.loads(str(weights["meta"]))
    return weights


def save_weights(path: Path | str, arrays: dict[str, Any], meta: dict[str, Any]) -> None:
    """Write arrays + JSON ``meta`` as an ``.npz`` that ``load_weights`` reads, byte-reproducibly:
    entries in sorted order with a fixed timestamp, so retraining or rebuilding gives identical files."""
    import io
    import json
    import zipfile

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {**{k: v for k, v in arrays.items() if k != "meta"}, "meta": np.array(json.dumps(meta, sort_keys=True))}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue())
