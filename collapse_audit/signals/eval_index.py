"""The eval-set n-gram index that the contamination check matches training records against.

Each eval record becomes the set of 64-bit hashes of its word n-grams (13 by default, the GPT-3
contamination convention; a record shorter than n contributes one hash of its whole token
sequence). The index is a sorted array of distinct n-gram hashes plus, for each, the eval records
that contain it (CSR arrays). Memory is ~12 bytes per distinct eval n-gram (the sorted hashes and a
32-bit-per-gram bitmap pre-filter that rejects ~97 % of training n-grams before the binary search)
plus 4 bytes per (n-gram, record) pair — it scales with the eval set, never with the training corpus, which is only
streamed past it (a ``searchsorted`` per batch).

With 64-bit hashes a false match needs a hash collision: with G eval n-grams and T training
n-grams the expected number of false matches is about G·T / 2**64 (1e-5 for G = 10**6, T = 10**11).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from ..text.excerpt import excerpt
from ..text.tokens import ngrams, tokenize

DEFAULT_NGRAM = 13


@dataclass
class EvalIndex:
    """The eval sets' n-gram hashes with the records that contain each, for contamination look-ups."""
    ngram: int
    grams: np.ndarray                 # uint64, sorted distinct n-gram hashes
    ptr: np.ndarray                   # int64, len(grams) + 1: CSR offsets into ``recs``
    recs: np.ndarray                  # int32, eval record ids per (gram, record) pair
    record_grams: np.ndarray          # int64 per eval record: its number of distinct n-grams
    sets: list[str]                   # eval-set paths as given
    record_set: np.ndarray            # int32 per eval record: index into ``sets``
    record_file: list[str] = field(default_factory=list)
    record_row: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    record_line: list[int | None] = field(default_factory=list)
    record_id: list = field(default_factory=list)
    record_excerpt: list[str] = field(default_factory=list)
    bitmap: np.ndarray | None = None  # membership pre-filter: bit (hash >> (64 - bitmap_bits)) is set
    bitmap_bits: int = 0

    def __post_init__(self):
        if self.bitmap is None:
            # ~32 bits per eval n-gram (false-positive rate ~3 %), 1 MiB to 128 MiB
            bits = int(min(max(np.ceil(np.log2(max(len(self.grams), 1) * 32)), 23), 30))
            top = (self.grams >> np.uint64(64 - bits)).astype(np.int64)
            packed = np.zeros(1 << (bits - 3), dtype=np.uint8)
            np.bitwise_or.at(packed, top >> 3, (1 << (top & 7)).astype(np.uint8))
            self.bitmap, self.bitmap_bits = packed, bits

    @property
    def records(self) -> int:
        """The number of eval records indexed."""
        return len(self.record_grams)

    @property
    def nbytes(self) -> int:
        """Memory held by the index arrays, for the resource report."""
        assert self.bitmap is not None  # set by __post_init__
        return self.grams.nbytes + self.ptr.nbytes + self.recs.nbytes + self.bitmap.nbytes

    def lookup(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mask of ``hashes`` present in the index, their gram ids)."""
        if len(self.grams) == 0 or len(hashes) == 0:
            return np.zeros(len(hashes), bool), np.zeros(0, np.int64)
        assert self.bitmap is not None  # set by __post_init__
        top = (hashes >> np.uint64(64 - self.bitmap_bits)).astype(np.int64)
        maybe = np.nonzero((self.bitmap[top >> 3] >> (top & 7).astype(np.uint8)) & 1)[0]
        cand = hashes[maybe]
        pos = np.searchsorted(self.grams, cand)
        ok = pos < len(self.grams)
        ok[ok] = self.grams[pos[ok]] == cand[ok]
        hit = np.zeros(len(hashes), bool)
        hit[maybe[ok]] = True
        return hit, pos[ok]

    def pair_grams(self) -> np.ndarray:
        """Gram id of every (gram, record) pair, aligned with ``recs``."""
        return np.repeat(np.arange(len(self.grams), dtype=np.int64), np.diff(self.ptr))

    def where(self, rec: int) -> dict:
        """Where eval record ``rec`` came from (set, file, row, and line and id when known)."""
        out = {"eval_set": self.sets[int(self.record_set[rec])], "eval_file": self.record_file[rec],
               "eval_row": int(self.record_row[rec])}
        line = self.record_line[rec] if self.record_line else None
        if line is not None:
            out["eval_line"] = int(line)
        if self.record_id and self.record_id[rec] is not None:
            out["eval_id"] = self.record_id[rec]
        return out


def build_eval_index(eval_sets: Iterable[tuple[str, Iterable]], ngram: int = DEFAULT_NGRAM,
                     id_field: str | None = None) -> EvalIndex:
    """Index eval records from ``(set_path, batches)`` pairs; batches are ``RecordBatch`` objects."""
    hashes: list[np.ndarray] = []
    owners: list[np.ndarray] = []
    sets: list[str] = []
    rec_set: list[int] = []
    files: list[str] = []
    rows: list[int] = []
    lines: list[int | None] = []
    ids: list = []
    excerpts: list[str] = []
    n_rec = 0
    for set_path, batches in eval_sets:
        si = len(sets)
        sets.append(set_path)
        for batch in batches:
            tok = tokenize(batch.texts)
            h, r = ngrams(tok, ngram, whole_short=True)
            hashes.append(h)
            owners.append(r + n_rec)
            k = len(batch)
            rec_set.extend([si] * k)
            files.extend([batch.file] * k)
            rows.extend(batch.rows)
            lines.extend(batch.lines if batch.lines is not None else [None] * k)
            idv = batch.fields.get(id_field) if id_field else None
            ids.extend(idv if idv is not None else [None] * k)
            excerpts.extend(excerpt(t, 120) for t in batch.texts)
            n_rec += k
    h = np.concatenate(hashes) if hashes else np.zeros(0, np.uint64)
    r = np.concatenate(owners) if owners else np.zeros(0, np.int64)
    order = np.lexsort((r, h))
    h, r = h[order], r[order]
    if len(h):
        keep = np.ones(len(h), bool)
        keep[1:] = (h[1:] != h[:-1]) | (r[1:] != r[:-1])
        h, r = h[keep], r[keep]
    grams, starts = np.unique(h, return_index=True)
    ptr = np.append(starts, len(h)).astype(np.int64)
    record_grams = np.bincount(r, minlength=n_rec).astype(np.int64)
    return EvalIndex(ngram=ngram, grams=grams, ptr=ptr, recs=r.astype(np.int32), record_grams=record_grams,
                     sets=sets, record_set=np.array(rec_set, dtype=np.int32), record_file=files,
                     record_row=np.array(rows, dtype=np.int64), record_line=lines, record_id=ids,
                     record_excerpt=excerpts)
