"""Hugging Face ``datasets`` folders written by ``save_to_disk``: one dataset, not loose files.

A ``Dataset`` folder holds ``state.json`` (its shards, in order, under ``_data_files``),
``dataset_info.json`` and ``data-0000N-of-0000M.arrow`` shards (Arrow IPC streams). A
``DatasetDict`` folder holds ``dataset_dict.json`` (``{"splits": [...]}``) and one such folder per
split: ``--split NAME`` picks one; a folder with a single split needs no choice. The shards are read
by the Arrow reader; the metadata files are listed as skipped, never read as data.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterator
from typing import Any

from ..errors import AuditError
from .arrow import ArrowReader
from .base import BadRecordSink, InputFile, Reader, ReadOptions, RecordBatch
from .stats import InputStats
from .storage import filesystem, is_remote, local

STATE = "state.json"
INFO = "dataset_info.json"
DICT = "dataset_dict.json"
METADATA = (STATE, INFO, DICT)


def _join(base: str, *parts: str) -> str:
    return posixpath.join(base.rstrip("/"), *parts) if is_remote(base) else posixpath.join(local(base), *parts)


def _exists(path: str) -> bool:
    if is_remote(path):
        fs, key = filesystem(path)
        try:
            return bool(fs.isfile(key))
        except Exception:  # noqa: BLE001 - a listing error means "not this kind of folder"
            return False
    import os

    return os.path.isfile(path)


def _read_json(path: str) -> dict[str, Any]:
    try:
        if is_remote(path):
            fs, key = filesystem(path)
            with fs.open(key, "rb") as fh:
                data = json.loads(fh.read(1 << 24))
        else:
            with open(path, "rb") as fh:
                data = json.loads(fh.read(1 << 24))
    except (OSError, ValueError, RecursionError) as exc:
        raise AuditError(f"Cannot read {path} ({str(exc).splitlines()[0][:160]}).") from None
    if not isinstance(data, dict):
        raise AuditError(f"{path} is not a JSON object, so the folder is not a saved dataset.")
    return data


class HFDiskReader(Reader):
    """Reads a Hugging Face ``save_to_disk`` folder through the Arrow files it lists, one split or all."""

    name = "hf_dataset"
    description = "Hugging Face datasets save_to_disk folder (Dataset or DatasetDict)"
    marker_files = (DICT, STATE)

    def claims_directory(self, path: str) -> bool:
        """A folder is a saved dataset when it holds ``dataset_dict.json`` or ``state.json``."""
        return _exists(_join(path, DICT)) or _exists(_join(path, STATE))

    def expand_directory(self, path: str, split: str | None) -> tuple[list[InputFile], list[tuple[str, str]]]:
        """The Arrow files of the chosen split (or of the only one); every other file is listed as skipped."""
        skipped: list[tuple[str, str]] = []
        if _exists(_join(path, DICT)):
            splits = _read_json(_join(path, DICT)).get("splits")
            if not isinstance(splits, list) or not splits:
                raise AuditError(f"{_join(path, DICT)} lists no splits.")
            if split is None and len(splits) > 1:
                raise AuditError(f"{path} is a dataset with splits {', '.join(map(str, splits))}: "
                                 "choose one with --split NAME.")
            chosen = split if split is not None else str(splits[0])
            if chosen not in splits:
                raise AuditError(f"{path} has no split '{chosen}' (splits: {', '.join(map(str, splits))}).")
            skipped.append((_join(path, DICT), "metadata file of a saved dataset"))
            skipped.extend((_join(path, str(s)), f"split not selected (--split {chosen})")
                           for s in splits if s != chosen)
            files, more = self._dataset(_join(path, chosen))
            return files, skipped + more
        return self._dataset(path)

    def _dataset(self, path: str) -> tuple[list[InputFile], list[tuple[str, str]]]:
        state = _read_json(_join(path, STATE))
        shards = state.get("_data_files")
        if not isinstance(shards, list) or not all(isinstance(s, dict) and "filename" in s for s in shards):
            raise AuditError(f"{_join(path, STATE)} does not list the dataset's shards (_data_files).")
        files = [InputFile(_join(path, str(s["filename"])), self.name, None) for s in shards]
        skipped = [(_join(path, name), "metadata file of a saved dataset") for name in (STATE, INFO)
                   if _exists(_join(path, name))]
        return files, skipped

    def count_slots(self, info: InputFile) -> int:
        """Row slots of one of the dataset's Arrow files."""
        return ArrowReader().count_slots(info)

    def read(self, info: InputFile, file_index: int, options: ReadOptions, sink: BadRecordSink, start: int,
             stats: InputStats) -> Iterator[RecordBatch]:
        """Records of one of the dataset's Arrow files, read as any Arrow file is."""
        return ArrowReader().read(info, file_index, options, sink, start, stats)
