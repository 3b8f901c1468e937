"""Checks: independent streaming units. Adding one is one new file and one line in ``CHECKS``."""

from __future__ import annotations

from .base import Check, CheckResult
from .contamination import Contamination
from .diversity import Diversity
from .drift import Drift
from .exact_duplicates import ExactDuplicates
from .near_duplicates import NearDuplicates
from .provenance import Provenance
from .synthetic import Synthetic

CHECKS: list[type[Check]] = [
    ExactDuplicates,
    NearDuplicates,
    Synthetic,
    Provenance,
    Diversity,       # Diversity, Drift and Contamination share one tokenisation per batch, in this order
    Drift,
    Contamination,
]

ALWAYS_METRICS = ("records.total", "records.skipped")


def is_known_metric(name: str) -> bool:
    """Whether some check can produce ``name`` (exact names, or families declared as ``prefix.*``)."""
    if name in ALWAYS_METRICS:
        return True
    for check in CHECKS:
        for m in check.produces:
            if m == name or (m.endswith(".*") and name.startswith(m[:-1])):
                return True
    return False


__all__ = ["CHECKS", "Check", "CheckResult", "is_known_metric"]
