"""Collapse signals: corpus diversity figures, baseline profiles and drift, eval-set contamination.

The checks in ``collapse_audit.checks`` (diversity, drift, contamination) are thin wrappers over
this package; the ``profile`` command builds the same state to freeze a baseline.
"""
