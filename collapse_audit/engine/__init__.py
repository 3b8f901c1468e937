"""The scan engine: sources -> record batches -> checks -> metrics + annotations -> policy -> result."""

from .scan import ScanOptions, read_batches, run_scan

__all__ = ["ScanOptions", "read_batches", "run_scan"]
