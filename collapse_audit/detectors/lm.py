"""``lm:PATH`` - zero-shot scores from a local causal language model.

Two criteria, chosen with the policy's ``detector.method``:

* ``fast-detectgpt`` (default) - the analytic sampling-discrepancy of Fast-DetectGPT (Bao et al.,
  ICLR 2024) with the same model as sampler and scorer: how much more likely the text's tokens are
  than tokens the model would itself sample, in units of the standard deviation of that
  difference::

      d = (sum_t log p(x_t) - sum_t E[log p]) / sqrt(sum_t Var[log p])

* ``log-rank`` - minus the mean log-rank of each observed token (Mitchell et al.'s baseline).

Machine text scores high on both. The raw criterion is mapped to [0, 1] by
``sigmoid((criterion - center) / scale)``; ``center`` and ``scale`` are options (defaults below),
so the score is *not* a calibrated probability until you fit them: run
``collapse-audit detector eval`` on labelled data from your domain, then put the chosen
``threshold`` and the measured ``tpr``/``fpr``/``n_pos``/``n_neg`` in the policy.
"""

from __future__ import annotations

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

DEFAULTS = {
    "fast-detectgpt": {"center": 1.5, "scale": 1.0},
    "log-rank": {"center": -2.0, "scale": 0.5},
}


class LMDetector(Detector):
    """A local causal LM scored zero-shot (Fast-DetectGPT or log-rank), mapped to [0, 1] by a logistic."""

    def __init__(self, path: str, options: dict | None = None):
        options = dict(options or {})
        torch, transformers = require_transformers("lm")
        self._torch = torch
        d = local_model_dir(path, "lm")
        self.method = str(options.get("method", "fast-detectgpt")).lower()
        if self.method not in DEFAULTS:
            raise AuditError(f"The lm detector method {self.method!r} is not one of {sorted(DEFAULTS)}.")
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(str(d), local_files_only=True)
            self.model = transformers.AutoModelForCausalLM.from_pretrained(str(d), local_files_only=True)
        except Exception as exc:
            raise AuditError(f"Could not load a causal language model from {path!r}: "
                             f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
        self.device = pick_device(torch, options.get("device"))
        self.model.to(self.device).eval()
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token or self.tokenizer.unk_token
        self.center = option_float(options, "center", DEFAULTS[self.method]["center"])
        self.scale = option_float(options, "scale", DEFAULTS[self.method]["scale"]) or 1.0
        self.threshold = option_float(options, "threshold", 0.5)
        self.batch_size = int(options.get("batch_size", 8))
        self.max_length = max_positions(self.model, self.tokenizer, options.get("max_length"))
        self.name = f"lm:{path}"
        self.version = f"lm:{d.name}:{self.method}"
        self.validation = validation_from_options(options, dataset="none")

    def criterion(self, texts: Sequence[str]) -> np.ndarray:
        """The raw zero-shot criterion per text (higher = more machine-like); NaN if too short."""
        return guarded("lm", self._criterion, texts)

    def _criterion(self, texts: Sequence[str]) -> np.ndarray:
        torch = self._torch
        out = np.full(len(texts), np.nan)
        self.tokenizer.padding_side = "right"
        with torch.inference_mode():
            for i in range(0, len(texts), self.batch_size):
                chunk = [t if isinstance(t, str) else "" for t in texts[i:i + self.batch_size]]
                enc = self.tokenizer(chunk, truncation=True, max_length=self.max_length,
                                     padding=True, return_tensors="pt").to(self.device)
                ids, att = enc["input_ids"], enc["attention_mask"]
                if ids.shape[1] < 2:
                    continue
                logits = self.model(input_ids=ids, attention_mask=att).logits[:, :-1].float()
                labels = ids[:, 1:]
                mask = att[:, 1:].float()
                lp = torch.log_softmax(logits, -1)
                ll = lp.gather(-1, labels.unsqueeze(-1)).squeeze(-1)
                if self.method == "fast-detectgpt":
                    p = lp.exp()
                    mu = (p * lp).sum(-1)
                    var = (p * lp * lp).sum(-1) - mu * mu
                    num = ((ll - mu) * mask).sum(-1)
                    den = (var.clamp_min(0) * mask).sum(-1).sqrt()
                    crit = num / den.clamp_min(1e-6)
                else:
                    rank = (lp > ll.unsqueeze(-1)).sum(-1).float() + 1.0
                    crit = -(rank.log() * mask).sum(-1) / mask.sum(-1).clamp_min(1.0)
                valid = mask.sum(-1) > 0
                c = crit.cpu().numpy()
                v = valid.cpu().numpy()
                out[i:i + len(chunk)] = np.where(v, c, np.nan)
        return out

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """The criterion through the logistic ``(c - center) / scale``; texts too short to score get 0.5."""
        c = self.criterion(texts)
        z = (c - self.center) / self.scale
        s = 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))
        return np.where(np.isfinite(s), s, 0.5).astype(np.float64)
