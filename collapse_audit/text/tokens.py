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

from ..lazy import np, pa, pc, xxhash
from ..sketches.hashing import mix64
from .batch import NfcBatch, nfc_batch
from .limits import MAX_ANALYSIS_CHARS, clip_for_analysis
from .memo import per_batch
from .normalize import _NON_ASCII_WS

PUNCT = string.punctuation + "“”‘’«»‹›—–…·•¿¡„‚′″§¶†‡"
_POLY = 0x100000001B3                   # FNV prime: n-gram hash = mix(((t0 * P + t1) * P + t2) ...)


@dataclass
class Tokens:
    """A batch's tokens as uint64 hashes with per-record offsets - what the corpus statistics count."""

    hashes: np.ndarray     # uint64, all tokens of the batch, record after record
    offsets: np.ndarray    # int64, len = records + 1
    vocab: np.ndarray | None = None   # uint64 hash of each distinct token of the batch
    ids: np.ndarray | None = None     # per token: its index into ``vocab`` (hashes == vocab[ids])

    def counts(self) -> tuple[np.ndarray, np.ndarray]:
        """Distinct token hashes of the batch (sorted) and their occurrence counts."""
        if self.vocab is None or len(self.hashes) == 0:
            keys, c = np.unique(self.hashes, return_counts=True)
            return keys, c.astype(np.int64)
        assert self.ids is not None, "ids are set together with vocab"
        c = np.bincount(self.ids, minlength=len(self.vocab)).astype(np.int64)
        order = np.argsort(self.vocab)
        keys, c = self.vocab[order], c[order]
        keep = c > 0
        return keys[keep], c[keep]

    @property
    def lengths(self) -> np.ndarray:
        """Number of tokens in each record."""
        return np.diff(self.offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1


def tokenize(texts: list[str], nfc: NfcBatch | None = None) -> Tokens:
    """Tokens of ``texts`` (``nfc``: the batch's ``NfcBatch``, whose Arrow arrays are reused when
    normalising changed no record - the tokens are always those of the texts as read)."""
    n = len(texts)
    if n == 0:
        return Tokens(np.zeros(0, np.uint64), np.zeros(1, np.int64))
    if nfc is not None and (nfc.changed is None or len(nfc.changed) == 0):
        low = nfc.arrow_lower()
    else:
        arr = nfc.raw_array() if nfc is not None else pa.array(texts, type=pa.large_string())
        low = pc.utf8_lower(arr)
    lists = _split_whitespace(low, nfc)
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


def _split_whitespace(low: pa.Array, nfc: NfcBatch | None) -> pa.Array:
    """``utf8_split_whitespace``, or the same split by the ASCII kernel (about twice as fast) when
    the text holds none of the characters the two treat differently: U+001C..U+001F and the
    non-ASCII whitespace (which is exactly ``normalize._NON_ASCII_WS``). Checked on the NFC bytes,
    so only when NFC changed no record (then they are the bytes being split)."""
    if nfc is not None and (nfc.changed is None or len(nfc.changed) == 0) and len(nfc):
        raw = nfc.data()
        sep = np.subtract(raw, 0x1C, dtype=np.uint8)
        if not np.any(sep < 4) and (nfc.ascii.all() or len(nfc.records_containing(_NON_ASCII_WS)) == 0):
            return pc.ascii_split_whitespace(low)
    return pc.utf8_split_whitespace(low)


@per_batch
def batch_tokens(batch) -> Tokens:
    """``tokenize(batch.texts)``, computed once per batch object per process (from the batch's
    shared Arrow text, ``batch.nfc_batch``, unless a record is longer than the analysis cap)."""
    if any(len(t) > MAX_ANALYSIS_CHARS for t in batch.texts):
        return tokenize(clip_for_analysis(batch.texts))  # capped: see text/limits.py
    return tokenize(batch.texts, nfc_batch(batch))


def record_index(tok: Tokens) -> np.ndarray:
    """Record number (within the batch) of every token."""
    return np.repeat(np.arange(len(tok), dtype=np.int64), tok.lengths)


def _windows(raw: np.ndarray, n: int, rec: np.ndarray, room: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keep the n-token windows that lie inside one record and finish their hashes.

    ``raw[i]`` is the polynomial ``t_i * P**(n-1) + ... + t_(i+n-1)`` (uint64, wrapping) of the
    window starting at token ``i``; the n-gram hash is ``mix64(raw, salt=n)``. This is the one
    n-gram hash of corpus statistics: equal n-grams hash equally across batches, files and runs
    (baseline profiles and eval indexes depend on it). ``room[i]`` is the number of tokens from
    ``i`` to the end of its record (``_room``): the window fits when it is at least ``n``.
    """
    m = len(raw)
    valid = room[:m] >= n
    if valid.all():
        return mix64(raw, salt=n), rec[:m]
    return mix64(raw[valid], salt=n), rec[:m][valid]


def _room(tok: Tokens, rec: np.ndarray) -> np.ndarray:
    """Tokens left in its record from each token on (itself included)."""
    room = tok.offsets[1:][rec]
    room -= np.arange(len(rec), dtype=np.int64)
    return room


def iter_ngrams(tok: Tokens, n_max: int):
    """Yield ``(n, hashes, records)`` for n = 1..n_max: every n-gram inside a record, hashed to 64 bits
    (each n's polynomial extends the previous one's, so all orders cost one pass each)."""
    t = tok.hashes
    L = len(t)
    rec = record_index(tok)
    room = _room(tok, rec)
    raw = t
    poly = np.uint64(_POLY)
    for n in range(1, n_max + 1):
        if n > 1:
            with np.errstate(over="ignore"):
                nxt = raw[:-1] * poly
                nxt += t[n - 1:]
                raw = nxt
        if L - n + 1 <= 0:
            yield n, np.zeros(0, np.uint64), np.zeros(0, np.int64)
            continue
        h, r = _windows(raw, n, rec, room)
        yield n, h, r


def ngrams(tok: Tokens, n: int, whole_short: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Hashes and record numbers of all n-grams (the same values as ``iter_ngrams`` gives for n);
    with ``whole_short``, a record with 1..n-1 tokens contributes one hash of its whole token
    sequence instead (so short records can still match)."""
    t = tok.hashes
    m = len(t) - n + 1
    poly = np.uint64(_POLY)
    if m <= 0:
        h, r = np.zeros(0, np.uint64), np.zeros(0, np.int64)
    else:
        raw = t[:m].copy()
        with np.errstate(over="ignore"):
            for k in range(1, n):
                raw *= poly
                raw += t[k:m + k]
        rec = record_index(tok)
        h, r = _windows(raw, n, rec, _room(tok, rec))
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
            acc[live] = acc[live] * poly + tok.hashes[start[live] + k]
    wh = mix64(acc + ln.astype(np.uint64), salt=1000 + n)
    return np.concatenate([h, wh]), np.concatenate([r, short.astype(np.int64)])
