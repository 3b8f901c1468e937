"""What every filter writer shares: the staged output folder, shard names, routes and the writer registry.

A writer copies the records ``filter`` keeps from one input back in that input's own format,
schema and compression; it is registered under the name of the reader whose files it writes
(``register_writer``), exactly as readers are, so a new format is one reader class and one writer
class. An input whose format has no writer is refused before anything is scanned
(``refuse_unwritable``), with a sentence saying what to do instead.

Everything is written under ``OUT/.tmp-XXXX/`` and renamed into ``OUT/`` only when the whole run has
succeeded, so an interrupted run leaves no shard that looks complete (``StagedDir``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ...errors import AuditError
from ...outputs import check_output_directory
from ...readers import InputFile
from ...readers.registry import registered_readers
from ...readers.storage import COMPRESSIONS

#: ``dest[row]`` is a route key for each record row of an input: 0 drops it, 1 the output, 2 quarantine
Destinations = np.ndarray
OnRecords = Callable[[int], None]


def check_output_dir(out: str, inputs: list[str], what: str = "output directory") -> None:
    """Refuse an OUT that is an input, contains an input, or lies inside an input directory
    (a later scan of that directory would read the output as input); and a non-empty OUT."""
    check_output_directory(out, inputs, what)  # the one output guard (outputs.py)
    if os.path.exists(out):
        if not os.path.isdir(out):
            raise AuditError(f"The {what} {out} exists and is not a directory.")
        if os.listdir(out):
            raise AuditError(f"The {what} {out} is not empty; choose a new or empty directory.")


class StagedDir:
    """Files are written in ``DIR/.tmp-XXXX`` and moved into ``DIR`` by ``commit()``; ``abort()``
    removes the staging folder (and ``DIR`` itself when this run created it and it is still empty)."""

    def __init__(self, directory: str):
        self.directory = directory
        self.created = not os.path.exists(directory)
        try:
            os.makedirs(directory, exist_ok=True)
            self.tmp = tempfile.mkdtemp(prefix=".tmp-", dir=directory)
        except OSError as exc:
            raise AuditError(f"Cannot create {directory}: {exc.strerror or exc}.") from None
        self.names: list[str] = []

    def path(self, name: str) -> str:
        """Where to write ``name`` inside the staging folder (parents created); it moves in on commit."""
        full = os.path.join(self.tmp, name)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        self.names.append(name)
        return full

    def commit(self) -> None:
        """Move every staged file into the output directory, then remove the staging folder."""
        for name in self.names:
            dest = os.path.join(self.directory, name)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            os.replace(os.path.join(self.tmp, name), dest)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def abort(self) -> None:
        """Drop everything staged, and the output directory too when this run created it."""
        shutil.rmtree(self.tmp, ignore_errors=True)
        if self.created:
            try:
                os.rmdir(self.directory)
            except OSError:
                pass


def split_name(name: str) -> tuple[str, str]:
    """(stem, suffix) of a file name, the suffix including compression (``.jsonl.gz``) so shards keep it.

    The suffixes are the registered readers' (so a new format needs no edit here), after an
    optional compression suffix."""
    low = name.lower()
    comp = next((s for s in COMPRESSIONS if low.endswith(s)), "")
    data = low[: len(low) - len(comp)]
    known = sorted((s for r in registered_readers() for s in r.suffixes), key=len, reverse=True)
    suffix = next((s for s in known if data.endswith(s)), "")
    cut = len(name) - len(suffix) - len(comp)
    return name[:cut], name[cut:]


def output_names(files: list[InputFile]) -> list[str]:
    """Each input's path relative to the inputs' common folder: distinct names, familiar layout."""
    dirs = [os.path.dirname(os.path.abspath(f.path)) for f in files]
    base = os.path.commonpath(dirs) if dirs else ""
    return [os.path.relpath(os.path.abspath(f.path), base) for f in files]


def shard_names(name: str, records: int, max_per_file: int | None) -> list[str]:
    """Output names for ``records`` records: the name itself, or numbered shards of at most ``max_per_file``."""
    if not max_per_file or records <= max_per_file:
        return [name] if records else []
    stem, ext = split_name(name)
    n = -(-records // max_per_file)
    return [f"{stem}-{i:05d}-of-{n:05d}{ext}" for i in range(n)]


@dataclass
class Route:
    """Where one class of records of one input goes: shard files in a staged directory."""

    staged: StagedDir
    names: list[str]
    max_per_file: int | None
    written: list[tuple[str, int]] = field(default_factory=list)   # (name, records)

    def capacity(self) -> int:
        """Records one shard may hold (unbounded without ``--max-records-per-file``)."""
        return self.max_per_file or (1 << 62)


class Writer:
    """Writes the kept records of one input of its format; one instance serves every input."""

    #: the ``InputFile.format`` (reader name) this writer writes back
    format: ClassVar[str] = ""

    def write(self, info: InputFile, dest: Destinations, routes: dict[int, Route], row_group_size: int | None,
              on_records: OnRecords) -> None:
        """Copy the records of ``info`` to their routes (``dest[row]`` is the route key, 0 = none)."""
        raise NotImplementedError


_WRITERS: dict[str, Writer] = {}

#: what to do with an input no writer can write back, by format (the sentence's second half)
_ADVICE = {
    "hf_dataset": "export it first, e.g. `datasets.load_from_disk(PATH).to_parquet('data.parquet')`, and "
                  "filter that file (filter writes Parquet, JSON Lines, CSV/TSV, JSON arrays and Arrow IPC).",
}


def register_writer(cls: type[Writer]) -> type[Writer]:
    """Register a writer class (usable as a decorator); a later registration of a format replaces it."""
    if not cls.format:
        raise ValueError(f"{cls.__name__} names no format")
    _WRITERS[cls.format] = cls()
    return cls


def writer_for(fmt: str) -> Writer | None:
    """The writer registered for reader format ``fmt``, or None."""
    return _WRITERS.get(fmt)


def refuse_unwritable(files: list[InputFile]) -> None:
    """Stop before any scan when an input cannot be written back in its own format."""
    for info in files:
        if info.format not in _WRITERS:
            advice = _ADVICE.get(info.format, "convert it to Parquet or JSON Lines first and filter that.")
            raise AuditError(f"filter cannot write {info.path} back in its own format ({info.format}); "
                             f"{advice.replace('PATH', info.path)}")


def write_input(info: InputFile, dest: Destinations, routes: dict[int, Route], row_group_size: int | None,
                on_records: OnRecords = lambda n: None) -> None:
    """Copy the records of one input to its routes: ``dest[row]`` is a route key (0 = not copied)."""
    writer = writer_for(info.format)
    if writer is None:
        refuse_unwritable([info])
    try:
        writer.write(info, dest, routes, row_group_size, on_records)   # type: ignore[union-attr]
    except OSError as exc:
        raise AuditError(f"Cannot write the filtered copy of {info.path}: {exc.strerror or exc}.") from None
