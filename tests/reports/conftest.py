"""Fixtures for the report tests (helpers live in report_fixtures.py, imported by name so they never
clash with another directory's conftest)."""

from report_fixtures import hostile, result, sample_scan_json  # noqa: F401  (pytest fixtures)
