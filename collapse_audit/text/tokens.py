"""Corpus-statistics tokens: a batch's words as 64-bit hashes, and n-gram hashes built from them.

Tokenisation: lower-case (Unicode), split on whitespace, strip leading/trailing punctuation,
drop empty pieces. It runs in Arrow's C++ string kernels; each *distinct* token of a batch is then
hashed once with xxh3-64, and tokens become a flat ``uint64`` array with per-record offsets.
Used by the diversity, drift and contamination checks and by baseline profiles (whose
``tokenizer`` field names this definition: changing it invalidates saved profiles).

Several checks need the same tokens of the same batch; ``batch_tokens`` computes them once per
batch (``memo.per_batch``).
"""

from __future__ import annotations

import string
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from ..sketches.hashing import mix64
from .limits import clip_for_analysis
from .memo import per_batch

PUNCT = string.punctuation + "“”‘’«»‹›—–…·•¿¡„‚′″§¶†‡"
_POLY = np.uint64(0x100000001B3)        # FNV prime: n-gram hash = mix(((t0 * P + t1) * P + t2) ...)


@dataclass
class Tokens:
    hashes: np.ndarray     # uint64, all tokens of the batch, record after record
    offsets: np.ndarray    # int64, len = records + 1
    vocab: np.ndarray | None = None   # uint64 hash of each distinct token of the batch
    ids: np.ndarray | None = None     # per token: its index into ``vocab`` (hashes == vocab[ids])

    def counts(self) -> tuple[np.ndarray, np.ndarray]:
        """Distinct token hashes of the batch (sorted) and their occurrence counts."""
        if self.vocab is None or len(self.hashes) == 0:
            keys, c = np.unique(self.hashes, return_counts=True)
            return keys, c.astype(np.int64)
        c = np.bincount(self.ids, minlength=len(self.vocab)).astype(np.int64)
        order = np.argsort(self.vocab)
        keys, c = self.vocab[order], c[order]
        keep = c > 0
        return keys[keep], c[keep]

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1


def tokenize(texts: list[str]) -> Tokens:
    n = len(texts)
    if n == 0:
        return Tokens(np.zeros(0, np.uint64), np.zeros(1, np.int64))
    arr = pa.array(texts, type=pa.large_string())
    lists = pc.utf8_split_whitespace(pc.utf8_lower(arr))
    flat = pc.utf8_trim(pc.list_flatten(lists), characters=PUNCT)
    parent = pc.list_parent_indices(lists).to_numpy()
    keep = pc.greater(pc.binary_length(flat), 0)
    flat = flat.filter(keep)
    parent = parent[keep.to_numpy(zero_copy_only=False)]
    lengths = np.bincount(parent, minlength=n)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    if len(flat) == 0:
        return Tokens(np.zeros(0, np.uint64), offsets)
    if isinstance(flat, pa.ChunkedArray):
        flat = flat.combine_chunks()
    enc = pc.dictionary_encode(flat)
    words = enc.dictionary.cast(pa.large_binary()).to_pylist()
    uniq = np.fromiter(map(xxhash.xxh3_64_intdigest, words), dtype=np.uint64, count=len(words))
    ids = enc.indices.to_numpy()
    return Tokens(uniq[ids], offsets, uniq, ids)


@per_batch
def batch_tokens(batch) -> Tokens:
    """``tokenize(batch.texts)``, computed once per batch object per process."""
    return tokenize(clip_for_analysis(batch.texts))  # capped: see text/limits.py


def record_index(tok: Tokens) -> np.ndarray:
    """Record number (within the batch) of every token."""
    return np.repeat(np.arange(len(tok), dtype=np.int64), tok.lengths)


def _windows(raw: np.ndarray, n: int, rec: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keep the n-token windows that lie inside one record and finish their hashes.

    ``raw[i]`` is the polynomial ``t_i * P**(n-1) + ... + t_(i+n-1)`` (uint64, wrapping) of the
    window starting at token ``i``; the n-gram hash is ``mix64(raw, salt=n)``. This is the one
    n-gram hash of corpus statistics: equal n-grams hash equally across batches, files and runs
    (baseline profiles and eval indexes depend on it).
    """
    m = len(raw)
    r = rec[:m]
    valid = ends[r] >= np.arange(n, m + n, dtype=np.int64)
    return mix64(raw[valid], salt=n), r[valid]


def iter_ngrams(tok: Tokens, n_max: int):
    """Yield ``(n, hashes, records)`` for n = 1..n_max: every n-gram inside a record, hashed to 64 bits
    (each n's polynomial extends the previous one's, so all orders cost one pass each)."""
    t = tok.hashes
    L = len(t)
    rec = record_index(tok)
    ends = tok.offsets[1:]
    raw = t
    for n in range(1, n_max + 1):
        if n > 1:
            with np.errstate(over="ignore"):
                raw = raw[:-1] * _POLY + t[n - 1:]
        if L - n + 1 <= 0:
            yield n, np.zeros(0, np.uint64), np.zeros(0, np.int64)
            continue
        h, r = _windows(raw, n, rec, ends)
        yield n, h, r


def ngrams(tok: Tokens, n: int, whole_short: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Hashes and record numbers of all n-grams (the same values as ``iter_ngrams`` gives for n);
    with ``whole_short``, a record with 1..n-1 tokens contributes one hash of its whole token
    sequence instead (so short records can still match)."""
    t = tok.hashes
    m = len(t) - n + 1
    if m <= 0:
        h, r = np.zeros(0, np.uint64), np.zeros(0, np.int64)
    else:
        raw = t[:m].copy()
        with np.errstate(over="ignore"):
            for k in range(1, n):
                raw *= _POLY
                raw += t[k:m + k]
        h, r = _windows(raw, n, record_index(tok), tok.offsets[1:])
    if not whole_short:
        return h, r
    lengths = tok.lengths
    short = np.nonzero((lengths > 0) & (lengths < n))[0]
    if len(short) == 0:
        return h, r
    acc = np.zeros(len(short), dtype=np.uint64)
    start = tok.offsets[short]
    ln = lengths[short]
    with np.errstate(over="ignore"):
        for k in range(int(ln.max())):
            live = ln > k
            acc[live] = acc[live] * _POLY + tok.hashes[start[live] + k]
    wh = mix64(acc + ln.astype(np.uint64), salt=1000 + n)
    return np.concatenate([h, wh]), np.concatenate([r, short.astype(np.int64)])
