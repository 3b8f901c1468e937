"""The scan result: the one data model that the engine builds and every report reads.

It sits at the bottom of the package (it imports nothing of collapse_audit but ``errors``), so that
checks, policy, engines and reports can all depend on it without a cycle.
"""

from .formatting import fmt_metric, fmt_number, fmt_percent
from .scan_result import (
    SCHEMA_VERSION,
    InputEntry,
    RuleOutcome,
    ScanResult,
    SkippedInput,
    load_result,
)
from .sections import Section, Table

__all__ = [
    "SCHEMA_VERSION", "InputEntry", "RuleOutcome", "ScanResult", "Section", "SkippedInput", "Table",
    "fmt_metric", "fmt_number", "fmt_percent", "load_result",
]
