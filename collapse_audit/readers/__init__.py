"""Readers: files on disk -> ``RecordBatch`` streams carrying only the fields the policy names."""

from __future__ import annotations

from collections.abc import Iterator

from .base import BadRecord, BadRecordSink, RecordBatch
from .discover import InputFile, discover
from .jsonl import read_jsonl
from .parquet import read_parquet

__all__ = ["BadRecord", "BadRecordSink", "InputFile", "RecordBatch", "discover", "iter_batches", "read_file"]

_READERS = {"jsonl": read_jsonl, "parquet": read_parquet}


def read_file(info: InputFile, file_index: int, text_field: str, fields: list[str], batch_size: int,
              sink: BadRecordSink, start: int) -> Iterator[RecordBatch]:
    return _READERS[info.format](info, file_index, text_field, fields, batch_size, sink, start)


def iter_batches(files: list[InputFile], text_field: str, fields: list[str], batch_size: int,
                 sink: BadRecordSink) -> Iterator[RecordBatch]:
    """All records of all files, in input order, as batches with consecutive global indices."""
    start = 0
    for index, info in enumerate(files):
        for batch in read_file(info, index, text_field, fields, batch_size, sink, start):
            start += len(batch)
            yield batch
