"""A scan split into shards: contiguous pieces of the input, each observed into its own state.

``plan_shards(files, n)`` cuts the inputs into ``n`` contiguous shards - whole files balanced by
size when there are at least ``n`` files, otherwise ranges of record slots (Parquet rows, JSONL
lines) within files. ``scan_shard`` reads one shard and runs every check's ``prepare`` and
``observe`` on it, with record indices starting at 0. ``ShardState`` holds what a shard leaves
behind - each check's state, the per-source index, the annotation keys and the reading counts -
and ``merge`` folds the next shard's state into it, so merging all shards in order gives what one
scan over the whole input gives (``checks.base.Check.merge``).

The detector's sample is chosen over all inputs before any shard runs (``engine.sample``), so a
shard scores exactly the records a one-process scan would score.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..checks.base import Check
from ..config import ScanConfig
from ..readers import BadRecord, BadRecordSink, InputFile, InputStats, ReadOptions, RecordBatch, count_slots, read_file
from ..readers.stats import FileStats
from .annotations import AnnotationCollector
from .sources import SourceIndex

Transform = Callable[[Iterator[RecordBatch]], Iterator[RecordBatch]]


@dataclass(frozen=True)
class Piece:
    """Rows ``[row_lo, row_hi)`` of input ``file_index`` (``row_hi`` None: to the end)."""

    file_index: int
    row_lo: int = 0
    row_hi: int | None = None


MIN_PIECE_ROWS = 1024     # a file is cut into row ranges only into pieces at least this long



def read_options(config: ScanConfig, fields: Sequence[str] = ()) -> ReadOptions:
    """What every reader of a scan is asked for: the text (chat turns by role too) and ``fields``."""
    return ReadOptions(text_field=config.fields.text, fields=tuple(fields), batch_size=config.batch_size,
                       text_roles=config.fields.text_roles)

def plan_shards(files: list[InputFile], n: int, slots: list[int] | None = None,
                min_rows: int = MIN_PIECE_ROWS) -> list[list[Piece]]:
    """``n`` contiguous shards of ``files`` (the later ones empty when the input is too small to
    cut that finely; an empty input is all in the first shard, so reading it reports why)."""
    whole = [[Piece(i) for i in range(len(files))]] + [[] for _ in range(max(n, 1) - 1)]
    if n <= 1:
        return whole
    if len(files) >= n:
        sizes = np.array([_size(f) for f in files], dtype=np.float64) + 1.0
        bounds = np.searchsorted(np.cumsum(sizes), sizes.sum() * np.arange(1, n) / n, side="left") + 1
        bounds = np.clip(bounds, np.arange(1, n), len(files) - np.arange(n - 1, 0, -1))
        edges = [0, *np.maximum.accumulate(bounds).tolist(), len(files)]
        return [[Piece(i) for i in range(a, b)] for a, b in zip(edges, edges[1:], strict=False)]
    counts = slots if slots is not None else [count_slots(f) for f in files]
    total = sum(counts)
    cut_into = min(n, total // max(1, min_rows))
    if cut_into <= 1:
        return whole
    cuts = [total * k // cut_into for k in range(cut_into + 1)]
    starts = np.concatenate([[0], np.cumsum(counts)]).tolist()
    shards: list[list[Piece]] = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        pieces = []
        for i, (lo, hi) in enumerate(zip(starts, starts[1:], strict=False)):
            if hi <= a or lo >= b:
                continue
            row_lo = max(a - lo, 0)
            row_hi = None if b >= hi else b - lo
            pieces.append(Piece(i, row_lo, row_hi))
        shards.append(pieces)
    return shards + [[] for _ in range(n - cut_into)]


def _size(f: InputFile) -> int:
    size = getattr(f, "size", None)
    if isinstance(size, int):
        return size
    try:
        return os.path.getsize(f.path)
    except OSError:
        return 0


def shard_batches(files: list[InputFile], pieces: list[Piece], config: ScanConfig,
                  sink: BadRecordSink, stats: InputStats | None = None, fields: list[str] | None = None,
                  transform: Transform | None = None) -> Iterator[RecordBatch]:
    """The records of one shard as batches whose indices start at 0 (``transform``: a rewrite of
    the batch stream the scan applies after reading, e.g. a derived provenance tag)."""
    batches = _shard_batches(files, pieces, config, sink, stats, fields)
    return transform(batches) if transform is not None else batches


def _shard_batches(files: list[InputFile], pieces: list[Piece], config: ScanConfig,
                   sink: BadRecordSink, stats: InputStats | None, fields: list[str] | None) -> Iterator[RecordBatch]:
    """The records of one shard as batches whose indices start at 0.

    A piece that starts inside a file reads the file from its beginning and drops the rows before
    its range (bad records met in batches wholly before it are not counted: the shard before
    counts them). A bad record inside the one batch that straddles a cut is counted by both
    shards; with the default ``--max-bad-records 0`` either shard stops the scan on it.
    """
    start = 0
    fields = config.fields.metadata_fields() if fields is None else fields
    for piece in pieces:
        info = files[piece.file_index]
        ranged = piece.row_lo > 0 or piece.row_hi is not None
        window = _Window(sink) if piece.row_lo > 0 else None
        for batch in read_file(info, piece.file_index, read_options(config, fields), None, None,
                               window or sink, 0, stats):
            past_end = False
            if ranged:
                rows = np.asarray(batch.rows, dtype=np.int64)
                keep = rows >= piece.row_lo
                if piece.row_hi is not None:
                    keep &= rows < piece.row_hi
                    past_end = bool(len(rows)) and int(rows[-1]) >= piece.row_hi - 1
                if window is not None and len(rows) and int(rows[-1]) < piece.row_lo:
                    window.held = []                          # wholly before the range
                    continue
                if window is not None:
                    window.release()
                if not keep.all():
                    batch = _take(batch, np.flatnonzero(keep))
            if len(batch):
                batch = replace(batch, start=start)
                start += len(batch)
                yield batch
            if past_end:
                break
        if window is not None:
            window.release()


class _Window(BadRecordSink):
    """A sink that holds back bad records until the reading reaches the piece's range (they belong
    to the shard before, which reads them too), then passes them on."""

    def __init__(self, target: BadRecordSink):
        super().__init__(max_bad=1 << 62)
        self.target = target
        self.held: list[BadRecord] = []

    def add(self, bad: BadRecord) -> None:
        self.held.append(bad)

    def release(self) -> None:
        for bad in self.held:
            self.target.add(bad)
        self.held = []


def _take(batch: RecordBatch, idx: np.ndarray) -> RecordBatch:
    pick = idx.tolist()
    return replace(batch, rows=[batch.rows[i] for i in pick],
                   lines=None if batch.lines is None else [batch.lines[i] for i in pick],
                   texts=[batch.texts[i] for i in pick],
                   fields={k: [v[i] for i in pick] for k, v in batch.fields.items()})


@dataclass
class ShardState:
    """Everything a shard (or several merged shards) leaves behind."""

    checks: list[Check]
    sources: SourceIndex
    collector: AnnotationCollector | None
    per_file: dict[int, int] = field(default_factory=dict)      # records read per input index
    total: int = 0
    skipped: int = 0
    skipped_per_file: dict[str, int] = field(default_factory=dict)
    skipped_examples: list[BadRecord] = field(default_factory=list)
    stats: InputStats = field(default_factory=InputStats)

    def merge(self, other: ShardState,
              custom: dict[str, Callable[[Check, Check], None]] | None = None) -> None:
        """Fold in the state of the shard that immediately follows this one (``custom``: how to
        merge some checks instead of ``Check.merge``, by name)."""
        merge_stats(self.stats, other.stats)
        for mine, theirs in zip(self.checks, other.checks, strict=True):
            (custom or {}).get(mine.name, type(mine).merge)(mine, theirs)
        self.sources.merge(other.sources)
        if self.collector is not None and other.collector is not None:
            merge_collectors(self.collector, other.collector)
        for k, v in other.per_file.items():
            self.per_file[k] = self.per_file.get(k, 0) + v
        self.total += other.total
        self.skipped += other.skipped
        for path, v in other.skipped_per_file.items():
            self.skipped_per_file[path] = self.skipped_per_file.get(path, 0) + v
        self.skipped_examples += other.skipped_examples[: max(0, 20 - len(self.skipped_examples))]

    def check_bad(self, max_bad: int) -> None:
        """The whole scan's tolerance: each shard only knew its own bad records."""
        if self.skipped > max_bad:
            from ..errors import AuditError

            raise AuditError(f"More than {max_bad} unreadable records ({self.skipped} in all); the first is in "
                             f"{self.skipped_examples[0].sentence()}.")

    def sink(self, max_bad: int) -> BadRecordSink:
        """The reading's bad-record account as one scan's sink holds it."""
        sink = BadRecordSink(max_bad=max_bad)
        sink.count, sink.per_file = self.skipped, dict(self.skipped_per_file)
        sink.examples = list(self.skipped_examples)
        return sink


def merge_stats(mine: InputStats, theirs: InputStats) -> None:
    """Sizes and fingerprints come from the shard that read an input to its end."""
    for i, f in theirs.files.items():
        entry = mine.file(i)
        entry.size = f.size if f.size is not None else entry.size
        entry.fingerprint = f.fingerprint or entry.fingerprint
        entry.sampled += f.sampled
    mine.note_columns(list(theirs.columns))
    mine.present |= theirs.present


def stats_json(stats: InputStats) -> dict[str, Any]:
    """The readers' input statistics as JSON (for a partial's manifest)."""
    return {"fields": list(stats.fields), "columns": list(stats.columns), "present": sorted(stats.present),
            "files": {str(i): {"size": f.size, "fingerprint": f.fingerprint, "sampled": f.sampled}
                      for i, f in stats.files.items()}}


def stats_from_json(data: dict[str, Any]) -> InputStats:
    """Input statistics saved by ``stats_json``."""
    stats = InputStats(tuple(data["fields"]))
    stats.note_columns(list(data["columns"]))
    stats.present = set(data["present"])
    stats.files = {int(i): FileStats(**f) for i, f in data["files"].items()}
    return stats


def merge_collectors(mine: AnnotationCollector, theirs: AnnotationCollector) -> None:
    """Append the later shard's annotation keys."""
    while len(mine.files) < len(theirs.files):
        mine.files.append("")
    for i, name in enumerate(theirs.files):
        if name:
            mine.files[i] = name
    mine.file_idx += theirs.file_idx
    mine.rows += theirs.rows
    mine.ids += theirs.ids
    mine.fps += theirs.fps


def scan_shard(files: list[InputFile], pieces: list[Piece], config: ScanConfig, checks: list[Check],
               max_bad: int, annotations: bool, advance: Callable[[int], None] = lambda n: None,
               fields: list[str] | None = None, transform: Transform | None = None) -> ShardState:
    """Read one shard and fold it into fresh ``checks``; bad records beyond ``max_bad`` stop it."""
    sink = BadRecordSink(max_bad=max_bad)
    state = ShardState(checks=checks, sources=SourceIndex(config.fields.source),
                       collector=AnnotationCollector(config.fields.id) if annotations else None,
                       stats=InputStats(tuple(config.fields.metadata_fields() if fields is None else fields)))
    for batch in shard_batches(files, pieces, config, sink, state.stats, fields, transform):
        for check in checks:
            check.observe(batch, check.prepare(batch))
        state.sources.observe(batch)
        if state.collector is not None:
            state.collector.observe(batch)
        state.per_file[batch.file_index] = state.per_file.get(batch.file_index, 0) + len(batch)
        state.total += len(batch)
        advance(len(batch))
    state.skipped, state.skipped_per_file, state.skipped_examples = sink.count, dict(sink.per_file), list(sink.examples)
    return state


def describe(pieces: list[Piece], files: list[InputFile]) -> list[dict[str, Any]]:
    """A shard's pieces as JSON (for its manifest)."""
    return [{"path": files[p.file_index].path, "file_index": p.file_index, "row_lo": p.row_lo,
             "row_hi": p.row_hi} for p in pieces]
