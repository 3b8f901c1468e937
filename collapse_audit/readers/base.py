"""What readers produce: batches of records with only the fields the policy names.

A reader knows nothing of checks. It turns one file into ``RecordBatch`` objects (texts plus the
requested metadata columns, in file order) and reports unreadable records to a ``BadRecordSink``
instead of dropping them silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RecordBatch:
    """A contiguous run of audited records from one file.

    ``start`` is the global index (over all audited records, in input order) of the first record;
    it is the row index of the annotations file and what ``duplicate_of_row`` points to.
    """

    file: str
    file_index: int
    start: int
    rows: list[int]                   # 0-based row (JSONL: line index among records) within the file
    lines: list[int] | None           # 1-based physical line numbers (JSONL only), for messages
    texts: list[str]
    fields: dict[str, list[Any]] = field(default_factory=dict)  # dotted field name -> values (None if absent)

    def __len__(self) -> int:
        return len(self.texts)

    def where(self, i: int) -> str:
        """Human location of record ``i`` of this batch: 'file:line' or 'file row N'."""
        if self.lines is not None:
            return f"{self.file}:{self.lines[i]}"
        return f"{self.file} row {self.rows[i]}"


@dataclass
class BadRecord:
    file: str
    location: str   # "line 12" or "row 7" or "byte offset" description
    reason: str

    def sentence(self) -> str:
        return f"{self.file}, {self.location}: {self.reason}"

    def to_json(self) -> dict:
        return {"file": self.file, "location": self.location, "reason": self.reason}


class BadRecordSink:
    """Counts unreadable records, keeps the first few, and stops the scan past the tolerance."""

    def __init__(self, max_bad: int = 0, keep: int = 20):
        self.max_bad = max_bad
        self.keep = keep
        self.count = 0
        self.examples: list[BadRecord] = []
        self.per_file: dict[str, int] = {}

    def add(self, bad: BadRecord) -> None:
        from ..errors import AuditError

        self.count += 1
        self.per_file[bad.file] = self.per_file.get(bad.file, 0) + 1
        if len(self.examples) < self.keep:
            self.examples.append(bad)
        if self.count > self.max_bad:
            hint = "" if self.max_bad else " (use --max-bad-records N to skip up to N such records)"
            if self.count == 1:
                raise AuditError(f"Unreadable record in {bad.sentence()}{hint}.")
            raise AuditError(
                f"More than {self.max_bad} unreadable records; the latest is in {bad.sentence()}{hint}."
            )
