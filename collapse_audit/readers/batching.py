"""Parsed records (dicts from JSONL lines or JSON array items) -> ``RecordBatch`` objects.

Shared by the row-oriented readers so every one of them judges a record the same way: a
non-object, a lone surrogate anywhere, or a missing/unusable text is a bad record with its
location; the requested fields are carried (None when absent) and their presence noted.
"""

from __future__ import annotations

from typing import Any

from .base import BadRecord, BadRecordSink, InputFile, ReadOptions, RecordBatch
from .fields import get_path
from .records import (
    MAX_NESTING,
    TextError,
    nesting_depth_exceeds,
    record_text,
    safe,
    surrogate_path,
)
from .stats import SCHEMA_SAMPLE, InputStats


class DictBatcher:
    """Gathers parsed dict records of one file into ``RecordBatch``es, routing bad ones to the sink."""

    def __init__(self, info: InputFile, file_index: int, options: ReadOptions, sink: BadRecordSink,
                 start: int, stats: InputStats, with_lines: bool = True):
        self.info, self.file_index, self.options = info, file_index, options
        self.sink, self.start, self.stats = sink, start, stats
        self.with_lines = with_lines
        self.unseen = [f for f in options.fields if f not in stats.present]
        self.keys_left = SCHEMA_SAMPLE  # records whose keys are noted (bounded schema sample)
        self._reset()

    def _reset(self) -> None:
        self.texts: list[str] = []
        self.rows: list[int] = []
        self.lines: list[int] = []
        self.values: dict[str, list[Any]] = {f: [] for f in self.options.fields}

    def bad(self, where: str, reason: str) -> None:
        """Report the record at ``where`` as unreadable, with the reason."""
        self.sink.add(BadRecord(self.info.path, where, reason))

    def add(self, record: Any, row: int, line: int | None, where: str, check_surrogates: bool,
            check_depth: bool = True) -> RecordBatch | None:
        """Take one parsed record; return a full batch when ``batch_size`` records are waiting.

        ``check_surrogates`` is set when the raw line had a ``\\uD8xx``-like escape: the only way a
        strictly decoded UTF-8 line can yield a lone surrogate, so other records skip the walk;
        ``check_depth`` likewise when the line has more than ``MAX_NESTING`` brackets."""
        if not isinstance(record, dict):
            self.bad(where, f"expected a JSON object, found {type(record).__name__}")
            return None
        if check_surrogates:
            path = surrogate_path(record)
            if path is not None:
                self.bad(where, f"'{path}' holds a lone surrogate (an unpaired \\uD800-\\uDFFF escape), "
                                "which is not valid Unicode")
                return None
        if check_depth and nesting_depth_exceeds(record, MAX_NESTING):
            self.bad(where, f"the record is nested more than {MAX_NESTING} levels deep")
            return None
        try:
            text = record_text(record, self.options.text_field, self.options.text_roles)
        except TextError as exc:
            self.bad(where, str(exc) + _keys_hint(record, exc))
            return None
        if self.keys_left:
            self.keys_left -= 1
            self._note_schema(record)
        self.texts.append(text)
        self.rows.append(row)
        if line is not None:
            self.lines.append(line)
        for f, values in self.values.items():
            values.append(get_path(record, f))
        if self.unseen:
            self._note_present(record)
        if len(self.texts) >= self.options.batch_size:
            return self.flush()
        return None

    def _note_schema(self, record: dict[str, Any]) -> None:
        if self.stats.wants_keys(self.file_index):
            self.stats.note_record(self.file_index, record)
        self.stats.note_present(self.options.text_field)

    def _note_present(self, record: dict[str, Any]) -> None:
        still = []
        for f in self.unseen:
            if get_path(record, f) is not None:
                self.stats.note_present(f)
            else:
                still.append(f)
        self.unseen = still

    def flush(self) -> RecordBatch | None:
        """The records still waiting as a last (short) batch, or None when there are none."""
        if not self.texts:
            return None
        batch = RecordBatch(self.info.path, self.file_index, self.start, self.rows,
                            self.lines if self.with_lines else None, self.texts, self.values)
        self.start += len(self.texts)
        self._reset()
        return batch


def _keys_hint(record: dict[str, Any], exc: TextError) -> str:
    """For a missing text field, the keys the record does have and how to point at one."""
    if not str(exc).endswith("is missing"):
        return ""
    keys = [safe(str(k)) for k in list(record)[:12]]
    more = ", ..." if len(record) > 12 else ""
    return f" (keys in this record: {', '.join(keys) or 'none'}{more}; set fields.text or --text-field)"
