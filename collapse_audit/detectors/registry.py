"""Choosing a detector by name: ``default`` | ``neural`` | ``hf:PATH`` | ``lm:PATH``."""

from __future__ import annotations

from ..errors import AuditError
from .base import Detector

BUILTIN = ("default", "neural")
DESCRIPTIONS = {
    "default": "embedded n-gram + stylometry model (numpy only, fast; scores every record)",
    "neural": "packaged MiniLM encoder + trained head (needs the neural extra; use --sample)",
    "hf:PATH": "a local Hugging Face sequence-classification model (set detector.synthetic_label)",
    "lm:PATH": "zero-shot Fast-DetectGPT / log-rank score from a local causal LM",
}


def load_detector(spec: str, options: dict | None = None) -> Detector:
    """Build the detector named by ``spec`` with the policy's ``detector:`` options."""
    options = dict(options or {})
    options.pop("name", None)
    spec = (spec or "default").strip()
    if spec == "default":
        from .default import DefaultDetector
        return DefaultDetector(options)
    if spec == "neural":
        from .neural import NeuralDetector
        return NeuralDetector(options)
    kind, sep, path = spec.partition(":")
    if sep and kind == "hf":
        if not path:
            raise AuditError("The detector 'hf:' needs a path: hf:/path/to/model.")
        from .hf import HFDetector
        return HFDetector(path, options)
    if sep and kind == "lm":
        if not path:
            raise AuditError("The detector 'lm:' needs a path: lm:/path/to/model.")
        from .lm import LMDetector
        return LMDetector(path, options)
    raise AuditError(f"Unknown detector {spec!r}; use one of: default, neural, hf:PATH, lm:PATH.")
