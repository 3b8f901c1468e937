"""Synthetic-text detectors: ``default`` (embedded), ``neural``, ``hf:PATH``, ``lm:PATH``.

Use ``load_detector(spec, options)`` to get one; every detector implements ``base.Detector``.
``share.estimate_share`` turns a detector's flagged count into an error-corrected share.
"""

from .base import Detector
from .registry import load_detector
from .share import estimate_share

__all__ = ["Detector", "load_detector", "estimate_share"]
