"""Shared by the reader tests: read inputs through discovery + the registered readers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from collapse_audit.readers import (
    BadRecordSink,
    InputStats,
    ReadOptions,
    discover_inputs,
    iter_batches,
)


def jsonl_bytes(records) -> bytes:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records).encode()


class Read:
    def __init__(self, paths, text_field="text", fields=(), batch_size=4, max_bad=0, split=None, roles=None):
        self.discovery = discover_inputs([str(p) for p in paths], split)
        self.sink = BadRecordSink(max_bad)
        self.stats = InputStats(tuple(fields))
        options = ReadOptions(text_field, tuple(fields), batch_size, split, roles)
        self.batches = list(iter_batches(self.discovery.files, options, sink=self.sink, stats=self.stats))

    @property
    def texts(self) -> list[str]:
        return [t for b in self.batches for t in b.texts]

    def values(self, name: str) -> list:
        return [v for b in self.batches for v in b.fields[name]]

    @property
    def rows(self) -> list[int]:
        return [r for b in self.batches for r in b.rows]

    @property
    def bad(self) -> list[str]:
        return [e.sentence() for e in self.sink.examples]

    def skipped(self) -> dict[str, str]:
        return {Path(s.path).name: s.reason for s in self.discovery.skipped}


@pytest.fixture
def read():
    return Read
