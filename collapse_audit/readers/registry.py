"""The one table of readers: discovery (which files are data) and reading both derive from it.

Adding a format is one ``Reader`` subclass in its own file plus one ``register_reader`` line below.
"""

from __future__ import annotations

from .arrow import ArrowReader
from .base import Reader
from .csv import CsvReader
from .hf_disk import HFDiskReader
from .json_array import JsonArrayReader
from .jsonl import JsonlReader
from .parquet import ParquetReader
from .storage import COMPRESSIONS

_READERS: dict[str, Reader] = {}


def register_reader(cls: type[Reader]) -> type[Reader]:
    """Register a reader class (usable as a decorator); a later registration of a name replaces it."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    _READERS[cls.name] = cls()
    return cls


def registered_readers() -> list[Reader]:
    """Every known reader, in registration order (the order in which they may claim a directory)."""
    return list(_READERS.values())


def reader_named(name: str) -> Reader:
    """The reader registered under ``name`` (the format an ``InputFile`` names)."""
    return _READERS[name]


def reader_for_suffix(name: str) -> tuple[Reader, str | None] | None:
    """(reader, compression) for a file name, or None when no reader declares its suffix."""
    low = name.lower()
    compression = None
    for suffix, comp in COMPRESSIONS.items():
        if low.endswith(suffix):
            compression, low = comp, low[: -len(suffix)]
            break
    for reader in _READERS.values():
        if low.endswith(reader.suffixes) and (compression is None or compression in reader.compressions):
            return reader, compression
    return None


def supported_suffixes() -> str:
    """Human list of what can be read, for messages (derived, so it never goes stale)."""
    parts = []
    for reader in _READERS.values():
        if not reader.suffixes:
            continue
        comps = "/".join(f".{c}" for c in reader.compressions)
        parts.append("/".join(reader.suffixes) + (f" (also {comps})" if comps else ""))
    return ", ".join(parts)


register_reader(JsonlReader)
register_reader(ParquetReader)
register_reader(CsvReader)
register_reader(JsonArrayReader)
register_reader(ArrowReader)
register_reader(HFDiskReader)
