"""``hf:PATH`` - any local Hugging Face sequence-classification model.

The model is loaded from a local folder only (no hub). Which output label means *synthetic* is
read from the policy's ``detector.synthetic_label`` (a label name such as ``"Fake"`` or an index);
without it, a label whose name says fake/synthetic/machine/generated/AI is used, and a model
whose labels say none of these is an error rather than a guess.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from ..errors import AuditError
from ._torch import (
    guarded,
    local_model_dir,
    max_positions,
    option_float,
    pick_device,
    require_transformers,
    validation_from_options,
)
from .base import Detector

_SYNTH_NAME = re.compile(r"fake|synth|machine|generated|\bai\b|gpt|llm|model", re.I)


class HFDetector(Detector):
    """A local Hugging Face sequence classifier; its synthetic label's probability is the score."""

    def __init__(self, path: str, options: dict | None = None):
        options = dict(options or {})
        torch, transformers = require_transformers("hf")
        self._torch = torch
        d = local_model_dir(path, "hf")
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(str(d), local_files_only=True)
            self.model = transformers.AutoModelForSequenceClassification.from_pretrained(
                str(d), local_files_only=True)
        except Exception as exc:
            raise AuditError(f"Could not load a sequence-classification model from {path!r}: "
                             f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
        self.device = pick_device(torch, options.get("device"))
        self.model.to(self.device).eval()
        self.name = f"hf:{path}"
        self.version = f"hf:{d.name}"
        self.threshold = option_float(options, "threshold", 0.5)
        self.batch_size = int(options.get("batch_size", 16))
        self.max_length = max_positions(self.model, self.tokenizer, options.get("max_length"))
        self.label_index = self._label_index(options.get("synthetic_label"))
        self.validation = validation_from_options(options, dataset="none")

    def _label_index(self, wanted) -> int:
        cfg = self.model.config
        n = int(cfg.num_labels)
        id2label = {int(k): str(v) for k, v in (cfg.id2label or {}).items()}
        if n == 1:
            return 0
        if wanted is not None:
            if isinstance(wanted, int) or (isinstance(wanted, str) and wanted.isdigit()):
                i = int(wanted)
                if 0 <= i < n:
                    return i
            for i, name in id2label.items():
                if name == str(wanted):
                    return i
            raise AuditError(f"The hf detector's synthetic_label {wanted!r} is not one of the model's "
                             f"labels {sorted(id2label.values())}.")
        hits = [i for i, name in id2label.items() if _SYNTH_NAME.search(name)]
        if len(hits) == 1:
            return hits[0]
        raise AuditError(f"Cannot tell which of the model's labels {sorted(id2label.values())} means "
                         "synthetic; set detector.synthetic_label in the policy.")

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """P(model-generated) per text; a failure inside the model is one clear error, not a traceback."""
        return guarded("hf", self._score, texts)

    def _score(self, texts: Sequence[str]) -> np.ndarray:
        torch = self._torch
        out = np.zeros(len(texts), np.float64)
        with torch.inference_mode():
            for i in range(0, len(texts), self.batch_size):
                chunk = [t if isinstance(t, str) else "" for t in texts[i:i + self.batch_size]]
                enc = self.tokenizer(chunk, truncation=True, max_length=self.max_length,
                                     padding=True, return_tensors="pt").to(self.device)
                logits = self.model(**enc).logits.float()
                if logits.shape[-1] == 1:
                    p = torch.sigmoid(logits[:, 0])
                else:
                    p = torch.softmax(logits, -1)[:, self.label_index]
                out[i:i + len(chunk)] = p.cpu().numpy()
        return np.clip(out, 0.0, 1.0)
