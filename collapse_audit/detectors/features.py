"""Vectorised text features for the embedded detector (numpy only).

A whole batch of texts is turned into one array of Unicode code points and every feature is
computed with array operations, never a Python loop per token, so the default detector scores
tens of thousands of documents per second on one core.

Feature blocks (all hashed, so no vocabulary file is needed):

* ``char``  - character 1..4-grams of the original text (case, punctuation, spacing and
  typography are exactly where a rewrite by a language model differs from a human original).
* ``word``  - lower-cased word unigrams and bigrams; a token is a run of word characters or a
  single punctuation mark.
* ``dense`` - a few stylometric statistics (length, word length, sentence length and its spread,
  punctuation / digit / upper-case / non-ASCII rates, line breaks, type-token ratio).

Sparse blocks are *relative frequencies* (count / number of n-grams of the document), so a
linear model's score is ``bincount(doc, weights=w[bucket]) / n`` - no sort, no sparse matrix at
inference. ``sparse_matrix`` builds the same features as a scipy CSR matrix for training.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

_U64 = np.uint64
_MULT = _U64(0x9E3779B97F4A7C15)  # Fibonacci hashing multiplier
_P = _U64(0x100000001B3)           # polynomial base (odd)
_SALT = _U64(0xC2B2AE3D27D4EB4F)

# Character-class tables for the Basic Multilingual Plane; code points above it count as word
# characters (emoji and rare scripts are rare enough not to matter for style).
_BMP = 0x10000
_chars = [chr(i) for i in range(_BMP)]
_WORD = np.fromiter(((c.isalnum() or c == "_") for c in _chars), bool, _BMP)
_SPACE = np.fromiter((c.isspace() for c in _chars), bool, _BMP)
_SPACE[0] = True  # the document separator
_UPPER = np.fromiter((c.isupper() for c in _chars), bool, _BMP)
_DIGIT = np.fromiter((c.isdigit() for c in _chars), bool, _BMP)
_LOWER = np.fromiter(((ord(c.lower()) if len(c.lower()) == 1 else i) for i, c in enumerate(_chars)),
                     np.uint32, _BMP)
_SENT_END = np.zeros(_BMP, bool)
_SENT_END[[ord(c) for c in ".!?\u3002"]] = True
del _chars

DENSE_NAMES = (
    "log_chars", "log_tokens", "mean_word_len", "punct_rate", "comma_rate", "digit_rate",
    "upper_rate", "nonascii_rate", "newline_rate", "blankline_rate", "sent_len_mean",
    "sent_len_cv", "type_token_ratio", "long_word_rate", "quote_rate", "dash_rate",
    "starts_space", "ends_space", "markdown", "ends_sentence",
)


@dataclass
class Encoded:
    """A batch as flat arrays: per-position codes and per-document offsets."""
    codes: np.ndarray     # uint32 code points, documents separated by 0
    starts: np.ndarray    # int64 start offset of each document
    lengths: np.ndarray   # int64 length of each document (code points)
    doc: np.ndarray       # int64 document index of each position (separator: previous doc)


def encode(texts: Sequence[str]) -> Encoded:
    texts = [t if isinstance(t, str) else ("" if t is None else str(t)) for t in texts]
    n = len(texts)
    joined = "\x00".join(texts)
    if joined.count("\x00") != max(n - 1, 0):
        texts = [t.replace("\x00", " ") for t in texts]
    # each document is wrapped in boundary marks (STX ... ETX), so n-grams see how a text begins
    # and ends (leading blank lines, a code fence, a closing period): style a rewrite changes.
    texts = ["\x02" + t + "\x03" for t in texts]
    joined = "\x00".join(texts)
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    lengths = np.fromiter((len(t) for t in texts), np.int64, n)
    starts = np.zeros(n, np.int64)
    if n > 1:
        starts[1:] = np.cumsum(lengths[:-1] + 1)
    doc = np.repeat(np.arange(n, dtype=np.int64), lengths + 1)[: len(codes)]
    return Encoded(codes, starts, lengths, doc)


def _table(table: np.ndarray, codes: np.ndarray, default: bool) -> np.ndarray:
    out = table[np.minimum(codes, _BMP - 1)]
    if default is not None and codes.size and codes.max() >= _BMP:
        out = np.where(codes >= _BMP, default, out)
    return out


def _bucket(h: np.ndarray, bits: int) -> np.ndarray:
    return ((h * _MULT) >> _U64(64 - bits)).astype(np.int64)


def char_ngrams(enc: Encoded, orders=(1, 2, 3, 4), bits: int = 18):
    """(doc index, bucket) for every character n-gram inside a document."""
    c = enc.codes.astype(np.uint64)
    m = len(c)
    sep = np.zeros(m + 1, np.int64)
    np.cumsum(enc.codes == 0, out=sep[1:])
    docs, buckets = [], []
    h = np.zeros(m, np.uint64)
    with np.errstate(over="ignore"):
        for n in range(1, max(orders) + 1):
            k = m - n + 1
            if k <= 0:
                break
            h = h[:k] * _P + c[n - 1:]
            if n not in orders:
                continue
            ok = (sep[n:] - sep[:k]) == 0
            idx = np.flatnonzero(ok)
            docs.append(enc.doc[idx])
            buckets.append(_bucket(h[idx] + _SALT * _U64(n), bits))
    if not docs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(docs), np.concatenate(buckets)


@dataclass
class Tokens:
    start: np.ndarray
    end: np.ndarray
    doc: np.ndarray
    hash: np.ndarray      # uint64 hash of the lower-cased token
    is_word: np.ndarray


def tokens(enc: Encoded) -> Tokens:
    codes = enc.codes
    m = len(codes)
    w = _table(_WORD, codes, True)
    s = _table(_SPACE, codes, False)
    p = ~w & ~s
    prev_w = np.zeros(m, bool)
    prev_w[1:] = w[:-1]
    next_w = np.zeros(m, bool)
    next_w[:-1] = w[1:]
    ws = np.flatnonzero(w & ~prev_w)
    we = np.flatnonzero(w & ~next_w) + 1
    ps = np.flatnonzero(p)
    start = np.concatenate([ws, ps])
    end = np.concatenate([we, ps + 1])
    is_word = np.concatenate([np.ones(len(ws), bool), np.zeros(len(ps), bool)])
    order = np.argsort(start, kind="stable")
    start, end, is_word = start[order], end[order], is_word[order]
    # polynomial prefix hash over lower-cased codes (wrap-around mod 2**64; base odd => invertible)
    low = np.where(codes < _BMP, _LOWER[np.minimum(codes, _BMP - 1)], codes).astype(np.uint64)
    with np.errstate(over="ignore"):
        pw = np.empty(m + 1, np.uint64)
        pw[0] = 1
        if m:
            pw[1:] = np.cumprod(np.full(m, _P, np.uint64))
        inv = _U64(pow(int(_P), -1, 2**64))
        ipw = np.empty(m + 1, np.uint64)
        ipw[0] = 1
        if m:
            ipw[1:] = np.cumprod(np.full(m, inv, np.uint64))
        pre = np.zeros(m + 1, np.uint64)
        np.cumsum(low * pw[:m], out=pre[1:])
        h = (pre[end] - pre[start]) * ipw[start]
    return Tokens(start, end, enc.doc[start] if m else start, h, is_word)


def word_ngrams(tok: Tokens, bits: int = 18):
    """(doc index, bucket) for word unigrams and bigrams, and the per-doc count of each order."""
    d1 = tok.doc
    b1 = _bucket(tok.hash + _SALT, bits)
    same = tok.doc[:-1] == tok.doc[1:]
    idx = np.flatnonzero(same)
    with np.errstate(over="ignore"):
        h2 = tok.hash[idx] * _U64(0x2545F4914F6CDD1D) + tok.hash[idx + 1] + _SALT * _U64(2)
    d2 = tok.doc[idx]
    b2 = _bucket(h2, bits)
    return d1, b1, d2, b2


def dense(enc: Encoded, tok: Tokens) -> np.ndarray:
    """Stylometric statistics, one row per document (columns: DENSE_NAMES)."""
    n = len(enc.lengths)
    codes = enc.codes
    doc = enc.doc
    L = np.maximum(enc.lengths, 1).astype(np.float64)

    def per_doc(mask):
        return np.bincount(doc[mask], minlength=n).astype(np.float64)

    ntok = np.bincount(tok.doc, minlength=n).astype(np.float64)
    wmask = tok.is_word
    nword = np.bincount(tok.doc[wmask], minlength=n).astype(np.float64)
    wlen = (tok.end - tok.start)[wmask]
    sumwlen = np.bincount(tok.doc[wmask], weights=wlen, minlength=n)
    longw = np.bincount(tok.doc[wmask], weights=(wlen >= 8), minlength=n)
    nw = np.maximum(nword, 1)
    nt = np.maximum(ntok, 1)
    punct = ntok - nword
    comma = per_doc(codes == 44)
    digit = per_doc(_table(_DIGIT, codes, False))
    upper = per_doc(_table(_UPPER, codes, False))
    nonascii = per_doc(codes > 127)
    newline = per_doc(codes == 10)
    nl2 = np.zeros(len(codes), bool)
    if len(codes) > 1:
        nl2[1:] = (codes[1:] == 10) & (codes[:-1] == 10)
    blank = per_doc(nl2)
    quotes = per_doc((codes == 34) | (codes == 39) | ((codes >= 0x2018) & (codes <= 0x201F)))
    dashes = per_doc((codes == 45) | (codes == 0x2013) | (codes == 0x2014))
    # sentence lengths in words: sentence ends are punctuation tokens in .!?
    ends = ~tok.is_word & _table(_SENT_END, codes[tok.start] if len(tok.start) else codes[:0], False)
    nsent = np.bincount(tok.doc[ends], minlength=n).astype(np.float64)
    # words per sentence: cumulative word count at each sentence end, differenced within doc
    cw = np.cumsum(wmask)
    e_idx = np.flatnonzero(ends)
    e_doc = tok.doc[e_idx]
    cum_at_end = cw[e_idx].astype(np.float64)
    first_tok = np.searchsorted(tok.doc, np.arange(n))
    base = np.where(first_tok > 0, cw[np.maximum(first_tok - 1, 0)], 0).astype(np.float64)
    base = np.where(first_tok > 0, base, 0.0)
    prev = np.empty_like(cum_at_end)
    if len(e_idx):
        prev[0] = base[e_doc[0]]
        newdoc = e_doc[1:] != e_doc[:-1]
        prev[1:] = np.where(newdoc, base[e_doc[1:]], cum_at_end[:-1])
    slen = cum_at_end - prev
    # the tail after the last sentence end counts as a sentence when it has words
    last_cum = np.zeros(n)
    np.maximum.at(last_cum, e_doc, cum_at_end) if len(e_idx) else None
    has_end = nsent > 0
    tail = nword - np.where(has_end, last_cum - base, 0.0)
    s_sum = np.bincount(e_doc, weights=slen, minlength=n) + tail
    s_sq = np.bincount(e_doc, weights=slen ** 2, minlength=n) + tail ** 2
    s_cnt = nsent + (tail > 0)
    s_cnt = np.maximum(s_cnt, 1)
    s_mean = s_sum / s_cnt
    s_var = np.maximum(s_sq / s_cnt - s_mean ** 2, 0)
    s_cv = np.sqrt(s_var) / np.maximum(s_mean, 1)
    # type-token ratio over word tokens (first 200 words, so it does not just track length)
    widx = np.flatnonzero(wmask)
    wdoc = tok.doc[widx]
    rank = np.arange(len(widx)) - np.searchsorted(wdoc, wdoc)
    keep = rank < 200
    if keep.any():
        # (doc, 21-bit word hash) keys; collisions among <= 200 words are negligible
        hw = (tok.hash[widx][keep] >> _U64(43)).astype(np.int64)
        key = (wdoc[keep] << 21) | hw
        if n <= (1 << 11):
            key = key.astype(np.uint32)
        key.sort()
        new = np.ones(len(key), bool)
        new[1:] = key[1:] != key[:-1]
        types = np.bincount((key[new] >> 21).astype(np.int64), minlength=n).astype(np.float64)
    else:
        types = np.zeros(n)
    ttr = types / np.maximum(np.minimum(nword, 200), 1)
    # how the text begins and ends, and markdown marks (``` fences, **bold**, # headers, bullets)
    first = codes[np.minimum(enc.starts + 1, len(codes) - 1)] if len(codes) else codes[:0]
    last = codes[np.maximum(enc.starts + enc.lengths - 2, 0)] if len(codes) else codes[:0]
    has = enc.lengths > 2
    starts_space = has & _table(_SPACE, first, False)
    ends_space = has & _table(_SPACE, last, False)
    ends_sent = has & _table(_SENT_END, last, False)
    md = np.zeros(len(codes), bool)
    if len(codes) > 2:
        c0, c1 = codes[:-1], codes[1:]
        md[:-1] = ((c0 == 42) & (c1 == 42)) | ((c0 == 96) & (c1 == 96))
        line_start = np.zeros(len(codes), bool)
        line_start[1:] = (codes[:-1] == 10) | (codes[:-1] == 2)
        md[:-1] |= line_start[:-1] & ((c0 == 35) | (c0 == 42) | (c0 == 45)) & ((c1 == 32) | (c1 == 35))
    markdown = np.log1p(per_doc(md))
    return np.stack([
        np.log1p(enc.lengths), np.log1p(ntok), sumwlen / nw, punct / nt, comma / nt, digit / L,
        upper / L, nonascii / L, newline / L, blank / L, np.log1p(s_mean), s_cv, ttr,
        longw / nw, quotes / L, dashes / L,
        starts_space, ends_space, markdown, ends_sent,
    ], 1).astype(np.float64)


@dataclass
class Featurised:
    n: int
    char_doc: np.ndarray
    char_bucket: np.ndarray
    char_count: np.ndarray
    word_doc: np.ndarray
    word_bucket: np.ndarray
    word_count: np.ndarray
    dense: np.ndarray


def featurise(texts: Sequence[str], char_bits: int = 18, word_bits: int = 18) -> Featurised:
    enc = encode(texts)
    n = len(enc.lengths)
    cd, cb = char_ngrams(enc, bits=char_bits)
    tok = tokens(enc)
    d1, b1, d2, b2 = word_ngrams(tok, bits=word_bits)
    wd = np.concatenate([d1, d2])
    wb = np.concatenate([b1, b2])
    return Featurised(
        n=n,
        char_doc=cd, char_bucket=cb, char_count=np.bincount(cd, minlength=n).astype(np.float64),
        word_doc=wd, word_bucket=wb, word_count=np.bincount(wd, minlength=n).astype(np.float64),
        dense=dense(enc, tok),
    )


def linear_sparse(f: Featurised, w_char: np.ndarray, w_word: np.ndarray) -> np.ndarray:
    """Per-document dot product of the relative-frequency blocks with weight vectors."""
    sc = np.bincount(f.char_doc, weights=w_char[f.char_bucket], minlength=f.n) / np.maximum(f.char_count, 1)
    sw = np.bincount(f.word_doc, weights=w_word[f.word_bucket], minlength=f.n) / np.maximum(f.word_count, 1)
    return sc + sw


def sparse_matrix(f: Featurised, char_bits: int = 18, word_bits: int = 18):
    """The same features as a scipy CSR matrix [char | word] (training only; needs scipy)."""
    import scipy.sparse as sp

    vc = 1.0 / np.maximum(f.char_count, 1)[f.char_doc]
    vw = 1.0 / np.maximum(f.word_count, 1)[f.word_doc]
    rows = np.concatenate([f.char_doc, f.word_doc])
    cols = np.concatenate([f.char_bucket, f.word_bucket + (1 << char_bits)])
    vals = np.concatenate([vc, vw])
    m = sp.coo_matrix((vals, (rows, cols)), shape=(f.n, (1 << char_bits) + (1 << word_bits)))
    return m.tocsr()


def sqrt_dot(doc: np.ndarray, bucket: np.ndarray, count: np.ndarray, w: np.ndarray, n: int,
             bits: int) -> np.ndarray:
    """Per-document ``sum_j w_j * sqrt(c_j / n_doc)`` over hashed n-gram counts ``c_j``.

    This is the dot product with the square-rooted relative frequencies (equivalently: square-root
    counts, L2-normalised), the transform the shipped model was trained on. Counting needs a sort;
    keys are packed into int64 ``doc << bits | bucket`` (docs are grouped, so this is cheap).
    """
    if len(doc) == 0:
        return np.zeros(n)
    key = (doc << bits) | bucket
    if (n << bits) <= (1 << 32):
        key = key.astype(np.uint32)  # 32-bit sorts are about twice as fast
    key.sort()
    brk = np.flatnonzero(key[1:] != key[:-1]) + 1
    first = np.concatenate([[0], brk])
    cnt = np.diff(np.concatenate([first, [len(key)]]))
    uk = key[first]
    ud = (uk >> bits).astype(np.int64)
    ub = (uk & ((1 << bits) - 1)).astype(np.int64)
    s = np.bincount(ud, weights=w[ub] * np.sqrt(cnt), minlength=n)
    return s / np.sqrt(np.maximum(count, 1))


def sqrt_matrix(f: Featurised, char_bits: int = 18, word_bits: int = 18):
    """Training matrix matching ``sqrt_dot``: [sqrt(char freq) | sqrt(word freq)] as scipy CSR."""
    m = sparse_matrix(f, char_bits, word_bits)
    m.data = np.sqrt(m.data)
    return m
