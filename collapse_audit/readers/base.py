"""What readers produce, and what a reader is.

A reader knows nothing of checks. It turns one input into ``RecordBatch`` objects (texts plus the
requested metadata columns, in file order) and reports unreadable records to a ``BadRecordSink``
instead of dropping them silently. Each format is one ``Reader`` subclass registered in
``registry.py``; discovery and reading both derive from that one registry.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # pragma: no cover
    from .stats import InputStats

# The longest decompressed line (or JSON array element) a reader will hold: a record longer than
# this is a bad record, so a gzip bomb line cannot grow the process past a few hundred MB.
MAX_RECORD_BYTES = 64 << 20


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

    def locate(self, i: int) -> dict[str, Any]:
        """Where record ``i`` is, for a check's details: ``file`` and ``row``, and ``line`` where the
        physical line is known and not simply ``row + 1`` (a CSV record after a multi-line value or
        a blank line; a JSON Lines row is its line index already, so its details stay as they were)."""
        out: dict[str, Any] = {"file": self.file, "row": self.rows[i]}
        if self.lines is not None and self.lines[i] != self.rows[i] + 1:
            out["line"] = self.lines[i]
        return out

    def where(self, i: int) -> str:
        """Human location of record ``i`` of this batch: 'file:line' or 'file row N'."""
        if self.lines is not None:
            return f"{self.file}:{self.lines[i]}"
        return f"{self.file} row {self.rows[i]}"


@dataclass
class BadRecord:
    """One record that could not be read: where it is and why, for the report and the tolerance count."""

    file: str
    location: str   # "line 12" or "row 7" or "byte offset" description
    reason: str

    def sentence(self) -> str:
        """The record as one message line: ``file, location: reason``."""
        return f"{self.file}, {self.location}: {self.reason}"

    def to_json(self) -> dict[str, Any]:
        """The record as it appears in the JSON result."""
        return {"file": self.file, "location": self.location, "reason": self.reason}


class BadRecordSink:
    """Counts unreadable records, keeps the first few, and stops the scan past the tolerance."""

    def __init__(self, max_bad: int = 0, keep: int = 20, hint: str | None = None):
        """``hint`` replaces the advice to use ``--max-bad-records`` where that option does not apply."""
        self.max_bad = max_bad
        self.hint = hint
        self.keep = keep
        self.count = 0
        self.examples: list[BadRecord] = []
        self.per_file: dict[str, int] = {}

    def add(self, bad: BadRecord) -> None:
        """Count one bad record; raise once the count passes ``--max-bad-records``."""
        from ..errors import AuditError

        self.count += 1
        self.per_file[bad.file] = self.per_file.get(bad.file, 0) + 1
        if len(self.examples) < self.keep:
            self.examples.append(bad)
        if self.count > self.max_bad:
            hint = "" if self.max_bad else " (use --max-bad-records N to skip up to N such records)"
            hint = hint if self.hint is None else f" ({self.hint})"
            if self.count == 1:
                raise AuditError(f"Unreadable record in {bad.sentence()}{hint}.")
            raise AuditError(
                f"More than {self.max_bad} unreadable records; the latest is in {bad.sentence()}{hint}."
            )


@dataclass(frozen=True)
class InputFile:
    """One input to read: a local path or a URL, the reader that reads it and its stream compression."""

    path: str
    format: str                   # a registered reader's name: "jsonl", "parquet", "csv", ...
    compression: str | None       # None | "gz" | "zst" | "bz2" | "xz"
    size: int | None = field(default=None, compare=False)     # bytes as stored, when known at discovery
    version: str | None = field(default=None, compare=False)  # a remote object's ETag / version id


@dataclass(frozen=True)
class ReadOptions:
    """What the policy asks of every reader: where the text is, which other fields to carry."""

    text_field: str = "text"
    fields: tuple[str, ...] = ()
    batch_size: int = 4096
    split: str | None = None                   # which split of a dataset folder with several
    text_roles: tuple[str, ...] | None = None  # chat records: the roles whose turns are the text


class Reader:
    """A file format. Subclasses declare what they read and how, and are registered once.

    ``suffixes`` are matched after a stream-compression suffix listed in ``compressions`` is removed.
    ``count_slots`` counts record slots (Parquet rows from the footer, JSONL lines...) for the seeded
    detector sample; it must count every position ``read`` may report as a row. A reader that
    ``claims_directory`` reads a whole folder as one dataset (``expand_directory`` lists its parts).
    """

    name: ClassVar[str] = ""
    suffixes: ClassVar[tuple[str, ...]] = ()
    compressions: ClassVar[tuple[str, ...]] = ()
    description: ClassVar[str] = ""
    # File names whose presence in a directory makes discovery ask ``claims_directory`` (a cheap
    # pre-filter; a reader that claims directories without a marker file leaves it empty).
    marker_files: ClassVar[tuple[str, ...]] = ()

    def claims_directory(self, path: str) -> bool:
        """Whether a directory is one dataset this reader reads whole (e.g. a save_to_disk folder)."""
        return False

    def expand_directory(self, path: str, split: str | None) -> tuple[list[InputFile], list[tuple[str, str]]]:
        """(files to read, [(path, reason) skipped]) of a claimed directory."""
        raise NotImplementedError

    def sniff(self, info: InputFile) -> InputFile | str:
        """Look inside the file when the suffix is not enough: the input to read, or why it is not data."""
        return info

    def count_slots(self, info: InputFile) -> int:
        """Record slots in the file (rows, lines...), counted cheaply so a seeded sample can be drawn up front."""
        raise NotImplementedError

    def read(self, info: InputFile, file_index: int, options: ReadOptions, sink: BadRecordSink, start: int,
             stats: InputStats) -> Iterator[RecordBatch]:
        """Yield the file's records in batches, reporting unreadable ones to ``sink`` and sizes to ``stats``."""
        raise NotImplementedError
