"""Readers: inputs (local files, URLs, dataset folders) -> ``RecordBatch`` streams carrying only the
fields the policy names. Each format is a ``Reader`` registered in ``registry.py``."""

from __future__ import annotations

from collections.abc import Iterator

from .base import (
    MAX_RECORD_BYTES,
    BadRecord,
    BadRecordSink,
    InputFile,
    Reader,
    ReadOptions,
    RecordBatch,
)
from .discover import Discovery, Skipped, discover, discover_inputs
from .registry import reader_named, register_reader, registered_readers
from .stats import InputStats

__all__ = ["MAX_RECORD_BYTES", "BadRecord", "BadRecordSink", "Discovery", "InputFile", "InputStats",
           "ReadOptions", "Reader", "RecordBatch", "Skipped", "count_slots", "discover", "discover_inputs",
           "iter_batches", "read_file", "reader_named", "register_reader", "registered_readers"]


def _options(text_field: str | ReadOptions, fields: list[str] | None, batch_size: int | None) -> ReadOptions:
    if isinstance(text_field, ReadOptions):
        return text_field
    return ReadOptions(text_field=text_field, fields=tuple(fields or ()), batch_size=batch_size or 4096)


def read_file(info: InputFile, file_index: int, text_field: str | ReadOptions, fields: list[str] | None,
              batch_size: int | None, sink: BadRecordSink, start: int,
              stats: InputStats | None = None) -> Iterator[RecordBatch]:
    """The records of one input; ``text_field`` may be a full ``ReadOptions``."""
    options = _options(text_field, fields, batch_size)
    return reader_named(info.format).read(info, file_index, options, sink, start,
                                          stats if stats is not None else InputStats(options.fields))


def iter_batches(files: list[InputFile], text_field: str | ReadOptions, fields: list[str] | None = None,
                 batch_size: int | None = None, sink: BadRecordSink | None = None,
                 stats: InputStats | None = None) -> Iterator[RecordBatch]:
    """All records of all files, in input order, as batches with consecutive global indices.

    Pass an ``InputStats`` to learn each input's size and fingerprint and the fields seen."""
    options = _options(text_field, fields, batch_size)
    sink = sink if sink is not None else BadRecordSink()
    stats = stats if stats is not None else InputStats(options.fields)
    start = 0
    for index, info in enumerate(files):
        for batch in read_file(info, index, options, None, None, sink, start, stats):
            start += len(batch)
            yield batch


def count_slots(info: InputFile) -> int:
    """Record slots of one input (for the seeded detector sample), from its reader."""
    return reader_named(info.format).count_slots(info)
