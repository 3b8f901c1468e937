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


VALIDATION_KEYS = ("tpr", "fpr", "n_pos", "n_neg")


def load_detector(spec: str, options: dict | None = None) -> Detector:
    """Build the detector named by ``spec`` with the policy's ``detector:`` options.

    ``tpr``, ``fpr``, ``n_pos`` and ``n_neg`` in the options (measured with ``detector eval`` on the
    user's labelled data) replace the detector's own validation figures, which is how a
    bring-your-own model gets an error-corrected share estimate.
    """
    options = dict(options or {})
    options.pop("name", None)
    measured = {k: options.pop(k) for k in VALIDATION_KEYS if k in options}
    detector = _build(spec, options)
    if measured:
        _apply_validation(detector, measured)
    return detector


def _apply_validation(detector: Detector, measured: dict) -> None:
    missing = [k for k in VALIDATION_KEYS if k not in measured]
    if missing:
        raise AuditError(f"The policy's detector section sets {', '.join(sorted(measured))} but not "
                         f"{', '.join(missing)}; give all four (from `collapse-audit detector eval`).")
    try:
        tpr, fpr = float(measured["tpr"]), float(measured["fpr"])
        n_pos, n_neg = int(measured["n_pos"]), int(measured["n_neg"])
    except (TypeError, ValueError):
        raise AuditError("The policy's detector tpr/fpr must be numbers and n_pos/n_neg integers.") from None
    if not (0.0 <= fpr <= 1.0 and 0.0 <= tpr <= 1.0 and n_pos > 0 and n_neg > 0):
        raise AuditError("The policy's detector tpr/fpr must lie in [0, 1] and n_pos/n_neg be positive.")
    detector.validation = {**detector.validation, "tpr": tpr, "fpr": fpr, "n_pos": n_pos, "n_neg": n_neg,
                           "dataset": "set in the policy", "split": "user-measured"}
    detector.validation.pop("note", None)


def _build(spec: str, options: dict) -> Detector:
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
