"""Word tokens and k-word shingle hashes for a whole batch, in Arrow and numpy.

Tokens are the lower-cased ``\\w+`` runs of the NFC text — reference:
``re.findall(r"\\w+", unicodedata.normalize("NFC", text).lower())``. A record with at least
``k`` tokens has one shingle per window of ``k`` consecutive tokens; a record with fewer tokens
has one shingle made of all its tokens; a record with no token at all has one "empty" shingle, so
all token-less records are near-duplicates of each other (their token sets are equal).

Batch tokenisation (``tokenize_batch``), all in Arrow and numpy over one chunk of records:
the NFC text as one Arrow buffer (``batch.py``), lower-cased by Arrow (``lowered``: equal to
``str.lower``; records holding one of the two characters whose Python mapping differs take
``str.lower``), then a byte table marks "word bytes" (ASCII ``[0-9A-Za-z_]`` and every byte of a
non-ASCII character) and token spans are the maximal runs of word bytes within a record. Only the
spans that contain non-ASCII bytes are re-split with RE2's Unicode class ``[^\\p{L}\\p{N}_]+``.

Token hash: ``mix64(sum_j b_j * B**j mod 2**64, salt=2*seed+1)`` over the token's UTF-8 bytes
``b_j`` (``B`` a fixed odd 64-bit constant), computed for all spans at once from prefix sums of
``b_j * B**j`` (``span_hashes``) — no Python call per token. A k-word shingle hash is
``mix64(t_0 * P**(k-1) + ... + t_(k-1), salt=k)`` over its token hashes (wrap-around uint64
arithmetic over the flat token array, ``combine``), keeping the top 32 bits. (A polynomial hash
mod 2**64 has known adversarial collisions — Thue-Morse strings of 2,048+ bytes; a collision
only merges two distinct words for Jaccard purposes.)

``\\w`` semantics: Python's ``re`` ``\\w`` is "alphanumeric or underscore" (Unicode categories
L* and N*, plus ``_``). RE2's ``[\\p{L}\\p{N}_]`` is the same set for every code point assigned in
Python's Unicode database; it differs only on code points that are unassigned there but assigned
in the newer Unicode version RE2 was built with (about 5,000 characters of scripts added since
Unicode 14, e.g. Kawi), which the batch path treats as word characters. ``tests/test_minhash.py``
checks this over all code points.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from ..lazy import np, pa, pc
from ..sketches.hashing import mix64
from .batch import NfcBatch, nfc_texts, sorted_unique

WORD_RE = re.compile(r"\w+")
_NONWORD_RE2 = r"[^\p{L}\p{N}_]+"
_SPECIAL_LOWER = ("\u0130", "\u03a3")          # İ, Σ
_POLY = 0x100000001B3                           # FNV prime: shingle = mix((t0 * P + t1) * P ...)
_EMPTY_SALT = 0x5EED5EED


@functools.cache
def _word_bytes() -> np.ndarray:
    """Byte -> can be part of a token: ASCII word characters, and every byte of a non-ASCII character
    (tokens holding those are re-split with the Unicode word class afterwards). Built on first use:
    importing this module does not import numpy."""
    table = np.array([b >= 0x80 or chr(b).isalnum() or b == 0x5F for b in range(256)], dtype=bool)
    table.flags.writeable = False
    return table


# token hash: mix64(sum_j byte_j * B**j mod 2**64, salt) over the token's UTF-8 bytes
_B = 0xD6E8FEB86659FD93
_B_INV = pow(_B, -1, 1 << 64)
_M64 = (1 << 64) - 1


class _Powers:
    """B**j for j < n (one contiguous table, grown on demand) and B**-s for any s (two small tables)."""

    def __init__(self):
        self.pow = np.ones(1, dtype=np.uint64)
        self.inv_lo = self._table(_B_INV, 4096)
        self.inv_hi = self._table(pow(_B_INV, 4096, 1 << 64), 1)

    @staticmethod
    def _table(base: int, n: int) -> np.ndarray:
        t = np.full(n, base, dtype=np.uint64)
        t[0] = 1
        with np.errstate(over="ignore"):
            return np.cumprod(t, dtype=np.uint64)

    def powers(self, n: int) -> np.ndarray:
        if n > len(self.pow):
            self.pow = self._table(_B, n + 4096)
        return self.pow[:n]

    def inverse(self, s: np.ndarray) -> np.ndarray:
        hi = s >> 12
        need = int(hi.max()) + 1 if len(s) else 1
        if need > len(self.inv_hi):
            self.inv_hi = self._table(pow(_B_INV, 4096, 1 << 64), max(need, 2 * len(self.inv_hi)))
        with np.errstate(over="ignore"):
            return self.inv_lo[s & 4095] * self.inv_hi[hi]


@functools.cache
def _powers() -> _Powers:
    """The one table of powers, grown as needed (built on first use, not at import)."""
    return _Powers()


def span_hashes(raw: np.ndarray, starts: np.ndarray, ends: np.ndarray, seed: int,
                segment: int = 1 << 19) -> np.ndarray:
    """Token hashes of the byte spans ``raw[starts[i]:ends[i]]`` (non-empty, in order), vectorised
    with prefix sums: sum_j b_j B**j over a span is (P[end] - P[start]) * B**-start. Works on
    segments of about ``segment`` bytes so the uint64 temporaries stay small."""
    powers = _powers()
    out = np.empty(len(starts), dtype=np.uint64)
    i = 0
    while i < len(starts):
        j = int(np.searchsorted(starts, starts[i] + segment, side="left"))
        j = max(j, i + 1)
        base = int(starts[i])
        s = starts[i:j] - base
        e = ends[i:j] - base
        w = raw[base:int(ends[j - 1])].astype(np.uint64)
        with np.errstate(over="ignore"):
            w *= powers.powers(len(w))
            np.cumsum(w, out=w)
            before = w[np.maximum(s - 1, 0)]
            before[s == 0] = 0
            out[i:j] = (w[e - 1] - before) * powers.inverse(s)
        i = j
    return mix64(out, salt=2 * seed + 1)


def _arrow_spans(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bytes, starts, ends) of a (large_)string array, relative to its first value."""
    arr = arr.cast(pa.large_string())
    off = np.frombuffer(arr.buffers()[1], dtype=np.int64, count=arr.offset + len(arr) + 1)[arr.offset:]
    if len(arr) == 0 or off[-1] == off[0]:
        return np.zeros(0, np.uint8), np.zeros(len(arr), np.int64), np.zeros(len(arr), np.int64)
    raw = np.frombuffer(arr.buffers()[2], dtype=np.uint8, count=int(off[-1]))[off[0]:]
    return raw, off[:-1] - off[0], off[1:] - off[0]


@dataclass
class TokenBatch:
    """Tokens of a batch as byte spans of the lower-cased text, in record order. Spans holding
    non-ASCII bytes are replaced by their Unicode ``\\w+`` pieces (``pieces``)."""

    raw: np.ndarray                     # lower-cased UTF-8 bytes of the batch
    starts: np.ndarray                  # spans of maximal runs of word bytes
    ends: np.ndarray
    doc: np.ndarray                     # record of each span
    n: int
    pieces: pa.Array | None = None      # Unicode word pieces of the non-ASCII spans
    piece_of: np.ndarray | None = None  # span each piece comes from (ascending)
    src: np.ndarray | None = None       # final token -> index into spans ++ pieces

    def _final(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a if self.src is None else np.concatenate((a, b))[self.src]

    @property
    def offsets(self) -> np.ndarray:
        """Start of each record's tokens in ``hashes``/``tokens`` (``n + 1`` entries)."""
        if self.src is None:
            doc = self.doc
        else:
            assert self.piece_of is not None, "pieces come with the span they belong to"
            doc = self._final(self.doc, self.doc[self.piece_of])
        offsets = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(np.bincount(doc, minlength=self.n), out=offsets[1:])
        return offsets

    def hashes(self, seed: int) -> np.ndarray:
        """Seeded 64-bit hash of every token, in record order (the input of the shingle hashes)."""
        h = span_hashes(self.raw, self.starts, self.ends, seed)
        if self.src is None:
            return h
        return self._final(h, span_hashes(*_arrow_spans(self.pieces), seed))

    @property
    def tokens(self) -> list[str]:
        """The tokens as Python strings (for tests and debugging)."""
        data = self.raw.tobytes()
        spans = [data[s:e].decode("utf-8") for s, e in zip(self.starts.tolist(), self.ends.tolist(), strict=True)]
        if self.src is None:
            return spans
        assert self.pieces is not None, "final tokens index into spans and pieces"
        allv = spans + self.pieces.to_pylist()
        return [allv[i] for i in self.src.tolist()]


def lowered(nfc: NfcBatch) -> pa.LargeStringArray:
    """``str.lower`` of every NFC text, as Arrow: ``utf8_lower`` (per code point simple case
    mapping) equals Python's ``str.lower`` except for U+0130 (full mapping) and a final sigma
    (context rule); records holding those take Python's ``str.lower``."""
    arr = nfc.arrow_lower()
    if not nfc.ascii.all():
        special = nfc.records_containing(_SPECIAL_LOWER)
        if len(special):
            fixed = pa.array([nfc.array[int(i)].as_py().lower() for i in special], type=pa.large_string())
            n = len(arr)
            idx = np.arange(n)
            idx[special] = n + np.arange(len(special))
            arr = pa.concat_arrays([arr, fixed]).take(pa.array(idx))
    return arr


def tokenize_batch(texts: list[str], nfc: NfcBatch | None = None) -> TokenBatch:
    """Split a batch into ``\\w+`` tokens of its lower-cased NFC text with numpy over the bytes
    (same tokens as ``reference_tokens``; non-ASCII spans go through ``pieces``)."""
    n = len(texts)
    nfc = nfc if nfc is not None else nfc_texts(texts)
    low = NfcBatch(lowered(nfc), nfc.ascii)
    raw = low.data()
    off = low.offsets
    S = len(raw)
    if n == 0 or S == 0:
        z = np.zeros(0, dtype=np.int64)
        return TokenBatch(raw, z, z, z, n)
    word = _word_bytes()[raw].view(np.int8)
    edge = np.empty(S + 1, dtype=np.int8)
    edge[0] = word[0]
    np.subtract(word[1:], word[:-1], out=edge[1:S])
    edge[S] = -word[-1]
    starts = np.flatnonzero(edge == 1)
    ends = np.flatnonzero(edge == -1)
    # a run of word bytes never crosses from one record into the next
    bnd = np.unique(off[1:-1])
    bnd = bnd[(bnd > 0) & (bnd < S)]
    cross = bnd[(word[bnd - 1] == 1) & (word[bnd] == 1)]
    if len(cross):
        starts = np.insert(starts, np.searchsorted(starts, cross), cross)
        ends = np.insert(ends, np.searchsorted(ends, cross), cross)
    doc = np.searchsorted(off, starts, side="right") - 1
    tb = TokenBatch(raw, starts, ends, doc, n)
    high = np.flatnonzero(raw >= 0x80)
    if len(high):
        bad = sorted_unique(np.searchsorted(starts, high, side="right") - 1)
        # the non-ASCII spans as strings: offsets s0,e0,s1,e1,... make every other value a span
        inter = np.stack((starts[bad], ends[bad]), axis=1).ravel()
        spans = pa.LargeStringArray.from_buffers(len(inter) - 1, pa.py_buffer(inter), pa.py_buffer(raw))
        spans = spans.take(pa.array(np.arange(0, len(inter) - 1, 2)))
        sub = pc.split_pattern_regex(spans, _NONWORD_RE2)
        pieces = pc.list_flatten(sub)
        piece_of = bad[pc.list_parent_indices(sub).to_numpy()]
        keep = pc.greater(pc.binary_length(pieces), 0)
        pieces = pieces.filter(keep)
        piece_of = piece_of[keep.to_numpy(zero_copy_only=False)]
        # final order: ASCII spans stay in place, each non-ASCII span is replaced by its pieces
        m = len(starts)
        counts = np.ones(m, dtype=np.int64)
        counts[bad] = 0
        counts += np.bincount(piece_of, minlength=m)
        first = np.cumsum(counts) - counts
        src = np.empty(int(counts.sum()), dtype=np.int64)
        is_ascii = np.ones(m, dtype=bool)
        is_ascii[bad] = False
        keep_idx = np.flatnonzero(is_ascii)
        src[first[keep_idx]] = keep_idx
        rank = np.arange(len(piece_of)) - np.searchsorted(piece_of, piece_of, side="left")
        src[first[piece_of] + rank] = m + np.arange(len(piece_of))
        tb.pieces, tb.piece_of, tb.src = pieces, piece_of, src
    return tb


def combine(token_hashes: np.ndarray, offsets: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """32-bit shingle hashes (as uint64) of all records and their per-record offsets."""
    n = len(offsets) - 1
    lengths = np.diff(offsets)
    total = len(token_hashes)
    counts = np.where(lengths >= k, lengths - k + 1, 1)
    sh_off = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=sh_off[1:])
    out = np.empty(int(sh_off[-1]), dtype=np.uint64)
    poly = np.uint64(_POLY)
    with np.errstate(over="ignore"):
        long_docs = lengths >= k
        if long_docs.any() and total >= k:
            m = total - k + 1
            acc = token_hashes[:m].copy()
            for j in range(1, k):
                acc *= poly
                acc += token_hashes[j:j + m]
            # valid window starts: those whose window stays inside its record
            doc_of = np.repeat(np.arange(n), lengths)[:m]
            valid = np.arange(m) + k <= offsets[1:][doc_of]
            dst = np.repeat(long_docs, counts)
            out[dst] = mix64(acc[valid], salt=k)
        short = np.flatnonzero(~long_docs)
        if len(short):
            sl = lengths[short]
            st = offsets[:-1][short]
            acc = np.zeros(len(short), dtype=np.uint64)
            for j in range(k - 1):
                live = sl > j
                if not live.any():
                    break
                acc[live] = acc[live] * poly + token_hashes[st[live] + j]
            vals = np.empty(len(short), dtype=np.uint64)
            for L in np.unique(sl):
                sel = sl == L
                vals[sel] = mix64(acc[sel], salt=int(L) if L else _EMPTY_SALT)
            out[sh_off[:-1][short]] = vals
    return out >> np.uint64(32), sh_off


def batch_shingles(texts: list[str], k: int, seed: int,
                   nfc: NfcBatch | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(shingle hashes uint64 < 2**32, offsets int64 len n+1) for a batch of texts."""
    tb = tokenize_batch(texts, nfc)
    return combine(tb.hashes(seed), tb.offsets, k)


# ---- reference (one record, plain Python) ----------------------------------------------------

def _mix64_py(z: int, salt: int) -> int:
    z = (z + (salt & _M64) * 0x9E3779B97F4A7C15) & _M64 if salt else z
    z ^= z >> 30
    z = (z * 0xBF58476D1CE4E5B9) & _M64
    z ^= z >> 27
    z = (z * 0x94D049BB133111EB) & _M64
    z ^= z >> 31
    return z


def reference_tokens(text: str) -> list[str]:
    """One record's tokens the plain-Python way: the definition ``tokenize_batch`` must match."""
    return WORD_RE.findall(unicodedata.normalize("NFC", text).lower())


def reference_token_hash(token: str, seed: int) -> int:
    """One token's seeded 64-bit hash in plain Python (the definition ``span_hashes`` must match)."""
    acc, p = 0, 1
    for byte in token.encode("utf-8"):
        acc = (acc + byte * p) & _M64
        p = (p * _B) & _M64
    return _mix64_py(acc, 2 * seed + 1)


def reference_shingles(text: str, k: int, seed: int, cache: dict | None = None) -> list[int]:
    """Shingle hashes of one record (``cache``: optional token -> hash memo)."""
    if cache is None:
        toks: list[int] = [reference_token_hash(t, seed) for t in reference_tokens(text)]
    else:
        toks = []
        for t in reference_tokens(text):
            h = cache.get(t)
            if h is None:
                h = cache[t] = reference_token_hash(t, seed)
            toks.append(h)
    P = _POLY
    if len(toks) >= k:
        out = []
        for i in range(len(toks) - k + 1):
            acc = toks[i]
            for j in range(1, k):
                acc = (acc * P + toks[i + j]) & _M64
            out.append(_mix64_py(acc, k) >> 32)
        return out
    acc = 0
    for tok_hash in toks:
        acc = (acc * P + tok_hash) & _M64
    return [_mix64_py(acc, len(toks) if toks else _EMPTY_SALT) >> 32]
