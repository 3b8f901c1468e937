"""Synthetic-text detectors: ``default`` (embedded), ``neural``, ``hf:PATH``, ``lm:PATH``.

Use ``load_detector(spec, options)`` to get one; every detector implements ``base.Detector``.
``quantify.assess_share`` turns a detector's scores into a share estimate with an honest interval,
given the applicability state from ``applicability.assess``.
"""

from .base import Detector
from .quantify import ShareAssessment, assess_share
from .registry import load_detector

__all__ = ["Detector", "load_detector", "assess_share", "ShareAssessment"]
