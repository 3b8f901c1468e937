"""Where every record a check has seen is, kept compactly: file, row and - for line formats - line.

A check that reports records after the scan (the duplicate checks name the members of their largest
groups) cannot keep the batches. It keeps ``Places``: per record a file index (int32) and a row
(int64), and the physical line as a *shift* from ``row + 1``, run-length encoded. A JSON Lines record
starts on line ``row + 1`` (shift 0); a CSV record after a header, a blank line or a multi-line quoted
value starts further down, but the shift changes only at those places, so a CSV file costs a few
runs rather than one more number per record. Columnar formats have no lines (shift ``NO_LINE``).

``locate(i)`` gives what ``RecordBatch.locate`` gives while the batch is at hand - ``file`` and
``row``, and ``line`` where it is not simply ``row + 1`` - so a report names ``file:LINE`` for a CSV
duplicate as it does for a CSV record of any other check.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import RecordBatch

#: the shift of a record whose format has no lines (Parquet, Arrow, JSON arrays)
NO_LINE = -1


class Places:
    """File index, row and line shift of each record, in the order the records were added."""

    def __init__(self) -> None:
        self.file_idx: list[np.ndarray] = []
        self.rows: list[np.ndarray] = []
        self.runs: list[np.ndarray] = []        # (k, 2) int64: first record of a run, its line shift
        self.n = 0
        self._cache: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    def add(self, batch: RecordBatch) -> None:
        """Append the batch's records."""
        n = len(batch)
        rows = np.asarray(batch.rows, dtype=np.int64)
        self.file_idx.append(np.full(n, batch.file_index, dtype=np.int32))
        self.rows.append(rows)
        if batch.lines is None:
            shift = np.full(n, NO_LINE, dtype=np.int64)
        else:
            shift = np.asarray(batch.lines, dtype=np.int64) - rows - 1
        if n:
            change = np.flatnonzero(np.r_[True, shift[1:] != shift[:-1]])
            self.runs.append(np.stack((change + self.n, shift[change]), axis=1))
        self.n += n
        self._cache = None

    def extend(self, other: Places) -> None:
        """Append a later shard's records (their indices move up by this one's count)."""
        self.file_idx += other.file_idx
        self.rows += other.rows
        self.runs += [r + np.array([self.n, 0], dtype=np.int64) for r in other.runs]
        self.n += other.n
        self._cache = None

    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if self._cache is None:
            runs = np.concatenate(self.runs) if self.runs else np.zeros((0, 2), np.int64)
            self._cache = (np.concatenate(self.file_idx) if self.file_idx else np.zeros(0, np.int32),
                           np.concatenate(self.rows) if self.rows else np.zeros(0, np.int64),
                           runs[:, 0], runs[:, 1])
        return self._cache

    def file_row(self, i: int) -> tuple[int, int]:
        """(file index, row) of record ``i`` - what reading its text back needs."""
        file_idx, rows, _, _ = self._arrays()
        return int(file_idx[i]), int(rows[i])

    def file_rows(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(file indices, rows) of the records ``idx``, for labelling many records at once."""
        file_idx, rows, _, _ = self._arrays()
        return file_idx[idx], rows[idx]

    def lines(self, idx: np.ndarray) -> np.ndarray:
        """The 1-based physical line each record of ``idx`` starts on (``NO_LINE`` in a format without lines)."""
        _, rows, starts, shifts = self._arrays()
        shift = shifts[np.searchsorted(starts, idx, side="right") - 1]
        return np.where(shift == NO_LINE, NO_LINE, rows[idx] + 1 + shift)

    def line(self, i: int) -> int | None:
        """The 1-based physical line record ``i`` starts on, or None in a format without lines."""
        line = int(self.lines(np.array([i], dtype=np.int64))[0])
        return None if line == NO_LINE else line

    def locate(self, i: int, files: dict[int, str]) -> dict[str, Any]:
        """``file`` and ``row`` of record ``i``, and ``line`` where it is not simply ``row + 1``."""
        f, row = self.file_row(i)
        out: dict[str, Any] = {"file": files.get(f, "?"), "row": row}
        line = self.line(i)
        if line is not None and line != row + 1:
            out["line"] = line
        return out

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k != "_cache"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._cache = None
