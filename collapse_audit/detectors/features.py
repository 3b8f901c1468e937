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

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

_U64 = np.uint64
_MULT = _U64(0x9E3779B97F4A7C15)  # Fibonacci hashing multiplier
_P = _U64(0x100000001B3)           # polynomial base (odd)
_SALT = _U64(0xC2B2AE3D27D4EB4F)

# Character-class tables for the Basic Multilingual Plane; code points above it count as word
# characters (emoji and rare scripts are rare enough not to matter for style).
_BMP = 0x10000


class _CharTables(NamedTuple):
    word: np.ndarray       # alphanumeric or "_"
    space: np.ndarray      # whitespace, and U+0000 (the document separator)
    upper: np.ndarray
    digit: np.ndarray
    lower: np.ndarray      # code point of the one-character lower case (else itself)
    sent_end: np.ndarray   # . ! ? and the ideographic full stop
    norm: np.ndarray       # normalised text: every whitespace character becomes " ", every digit "0"


@functools.cache
def _char_tables() -> _CharTables:
    """The 65,536-entry tables, built on first use (~35 ms) rather than when the module is imported,
    so commands that never score text (``--help``, ``rules list``) do not pay for them."""
    chars = [chr(i) for i in range(_BMP)]
    space = np.fromiter((c.isspace() for c in chars), bool, _BMP)
    digit = np.fromiter((c.isdigit() for c in chars), bool, _BMP)
    norm = np.arange(_BMP, dtype=np.uint32)
    norm[space] = 32
    norm[digit] = 48
    norm[0] = 0
    separator_space = space.copy()
    separator_space[0] = True
    sent_end = np.zeros(_BMP, bool)
    sent_end[[ord(c) for c in ".!?\u3002"]] = True
    return _CharTables(
        word=np.fromiter(((c.isalnum() or c == "_") for c in chars), bool, _BMP),
        space=separator_space,
        upper=np.fromiter((c.isupper() for c in chars), bool, _BMP),
        digit=digit,
        lower=np.fromiter(((ord(c.lower()) if len(c.lower()) == 1 else i) for i, c in enumerate(chars)),
                          np.uint32, _BMP),
        sent_end=sent_end,
        norm=norm,
    )

# Formatting a model (or a pipeline) adds around the text rather than in it: an assistant's
# opening line ("Sure, here is the rewritten text:"), a bare label ("Abstract:"), code fences.
_PREAMBLE = re.compile(
    r"\s*(?:(?:sure|certainly|of course|absolutely)\b[^\n]{0,200}?:\s+"
    r"|here(?:'s|\u2019s| is| are)\b[^\n]{0,200}?:\s+"
    r"|(?:abstract|title|summary|rewritten text)\s*:\s+)", re.IGNORECASE)
_FENCE = re.compile(r"```[^\n`]*")


def clean(text: str) -> str:
    """Drops an assistant preamble / leading label and Markdown code fences."""
    if "```" in text:
        text = _FENCE.sub(" ", text)
    m = _PREAMBLE.match(text, 0, 400)
    if m and m.end() < len(text):
        text = text[m.end():]
    return text

DENSE_NAMES = (
    "log_chars", "log_tokens", "mean_word_len", "punct_rate", "comma_rate", "digit_rate",
    "upper_rate", "nonascii_rate", "newline_rate", "blankline_rate", "sent_len_mean",
    "sent_len_cv", "type_token_ratio", "long_word_rate", "quote_rate", "dash_rate",
    "starts_space", "ends_space", "markdown", "ends_sentence",
)
# design v2: no length, line-break or text-boundary statistics (formatting, not style), plus
# closed-class word rates (function words and pronouns carry style across topics)
DENSE_NAMES_V2 = (
    "mean_word_len", "punct_rate", "comma_rate", "digit_rate", "upper_rate", "nonascii_rate",
    "sent_len_mean", "sent_len_cv", "type_token_ratio", "long_word_rate", "quote_rate", "dash_rate",
    "function_word_rate", "pronoun_rate",
)
FUNCTION_WORDS = (
    "the a an and or but nor if of in on at to for with by from as into onto over under about after "
    "before between through during without within upon than then so such that this these those which "
    "who whom whose what when where why how all any some each every both either neither no not only "
    "also very just even still yet too is are was were be been being am have has had do does did can "
    "could will would shall should may might must there here while because although though however "
    "thus therefore moreover furthermore indeed"
).split()
PRONOUNS = "i me my mine we us our ours you your yours he him his she her hers it its they them their".split()


def _word_hash(w: str) -> int:
    """The token hash of ``tokens`` for a lower-case word: sum(code_k * P**k) mod 2**64."""
    h, p = 0, 1
    for ch in w:
        h = (h + ord(ch) * p) % (1 << 64)
        p = (p * int(_P)) % (1 << 64)
    return h


_FW_HASH = np.array(sorted({_word_hash(w) for w in FUNCTION_WORDS}), np.uint64)
_PRON_HASH = np.array(sorted({_word_hash(w) for w in PRONOUNS}), np.uint64)


@dataclass
class Encoded:
    """A batch as flat arrays: per-position codes and per-document offsets."""
    codes: np.ndarray     # uint32 code points, documents separated by 0
    starts: np.ndarray    # int64 start offset of each document
    lengths: np.ndarray   # int64 length of each document (code points)
    doc: np.ndarray       # int64 document index of each position (separator: previous doc)


def encode(texts: Sequence[str], normalise: bool = False) -> Encoded:
    """Joins a batch into one code-point array.

    ``normalise`` (design v2): preamble/fence removal (``clean``), every whitespace run becomes
    one space, leading/trailing whitespace goes, digits become "0", and no boundary marks are
    added - so hard line wraps, indentation and how a text is cut do not reach the features.
    """
    texts = [t if isinstance(t, str) else ("" if t is None else str(t)) for t in texts]
    n = len(texts)
    joined = "\x00".join(texts)
    if joined.count("\x00") != max(n - 1, 0):
        texts = [t.replace("\x00", " ") for t in texts]
    if normalise:
        texts = [clean(t) for t in texts]
        joined = "\x00".join(texts)
        codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        return _squeeze(codes, n)
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


def _squeeze(codes: np.ndarray, n: int) -> Encoded:
    """Whitespace runs -> one space (none at either end of a document), digits -> "0"."""
    c = np.where(codes < _BMP, _char_tables().norm[np.minimum(codes, _BMP - 1)], codes).astype(np.uint32)
    m = len(c)
    sp = c == 32
    edge = np.ones(m, bool)          # previous position is a space, a separator or the start
    if m > 1:
        edge[1:] = sp[:-1] | (c[:-1] == 0)
    c = c[~(sp & edge)]
    m = len(c)
    sp = c == 32
    tail = np.ones(m, bool)          # next position is a separator or the end
    if m > 1:
        tail[:-1] = c[1:] == 0
    c = c[~(sp & tail)]
    sep = c == 0
    doc = (np.cumsum(sep) - sep).astype(np.int64)
    lengths = np.bincount(doc[~sep], minlength=n).astype(np.int64)[:n]
    starts = np.zeros(n, np.int64)
    if n > 1:
        starts[1:] = np.flatnonzero(sep) + 1
    return Encoded(c, starts, lengths, doc)


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
    """The tokens of an encoded batch: code-point spans, owning document, hash, word or punctuation."""

    start: np.ndarray
    end: np.ndarray
    doc: np.ndarray
    hash: np.ndarray      # uint64 hash of the lower-cased token
    is_word: np.ndarray


_POW = [np.ones(1, np.uint64), np.ones(1, np.uint64)]  # P**k and P**-k mod 2**64, grown on demand


def _powers(m: int) -> tuple[np.ndarray, np.ndarray]:
    """(P**k, P**-k) for k = 0..m, from a table kept between calls (chunks have similar sizes)."""
    if len(_POW[0]) < m + 1:
        size = max(m + 1, 2 * len(_POW[0]))
        inv = _U64(pow(int(_P), -1, 2**64))
        with np.errstate(over="ignore"):
            pw = np.empty(size, np.uint64)
            pw[0] = 1
            pw[1:] = np.cumprod(np.full(size - 1, _P, np.uint64))
            ipw = np.empty(size, np.uint64)
            ipw[0] = 1
            ipw[1:] = np.cumprod(np.full(size - 1, inv, np.uint64))
        _POW[0], _POW[1] = pw, ipw
    return _POW[0][: m + 1], _POW[1][: m + 1]


def tokens(enc: Encoded) -> Tokens:
    """Split an encoded batch into word runs and single punctuation marks, all array operations."""
    codes = enc.codes
    m = len(codes)
    w = _table(_char_tables().word, codes, True)
    s = _table(_char_tables().space, codes, False)
    p = ~w & ~s
    prev_w = np.zeros(m, bool)
    prev_w[1:] = w[:-1]
    next_w = np.zeros(m, bool)
    next_w[:-1] = w[1:]
    # token starts in text order without a sort: the first character of a word, or a punctuation mark
    start = np.flatnonzero((w & ~prev_w) | p)
    is_word = w[start]
    end = start + 1
    end[is_word] = np.flatnonzero(w & ~next_w) + 1
    # polynomial prefix hash over lower-cased codes (wrap-around mod 2**64; base odd => invertible)
    low = np.where(codes < _BMP, _char_tables().lower[np.minimum(codes, _BMP - 1)], codes).astype(np.uint64)
    pw, ipw = _powers(m)
    with np.errstate(over="ignore"):
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


def dense(enc: Encoded, tok: Tokens, names: Sequence[str] = DENSE_NAMES) -> np.ndarray:
    """Stylometric statistics, one row per document (columns: ``names``)."""
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
    digit = per_doc(_table(_char_tables().digit, codes, False))
    upper = per_doc(_table(_char_tables().upper, codes, False))
    nonascii = per_doc(codes > 127)
    newline = per_doc(codes == 10)
    nl2 = np.zeros(len(codes), bool)
    if len(codes) > 1:
        nl2[1:] = (codes[1:] == 10) & (codes[:-1] == 10)
    blank = per_doc(nl2)
    quotes = per_doc((codes == 34) | (codes == 39) | ((codes >= 0x2018) & (codes <= 0x201F)))
    dashes = per_doc((codes == 45) | (codes == 0x2013) | (codes == 0x2014))
    s_mean, s_cv = _sentence_lengths(codes, tok, nword, n)
    ttr = _type_token_ratio(tok, nword, n)
    starts_space, ends_space, ends_sent = _text_edges(enc)
    markdown = np.log1p(per_doc(_markdown_marks(codes)))
    cols = {
        "log_chars": np.log1p(enc.lengths), "log_tokens": np.log1p(ntok), "mean_word_len": sumwlen / nw,
        "punct_rate": punct / nt, "comma_rate": comma / nt, "digit_rate": digit / L,
        "upper_rate": upper / L, "nonascii_rate": nonascii / L, "newline_rate": newline / L,
        "blankline_rate": blank / L, "sent_len_mean": np.log1p(s_mean), "sent_len_cv": s_cv,
        "type_token_ratio": ttr, "long_word_rate": longw / nw, "quote_rate": quotes / L,
        "dash_rate": dashes / L, "starts_space": starts_space, "ends_space": ends_space,
        "markdown": markdown, "ends_sentence": ends_sent,
    }
    if "function_word_rate" in names or "pronoun_rate" in names:
        wh = tok.hash[wmask]
        wd = tok.doc[wmask]
        cols["function_word_rate"] = np.bincount(wd, weights=np.isin(wh, _FW_HASH), minlength=n) / nw
        cols["pronoun_rate"] = np.bincount(wd, weights=np.isin(wh, _PRON_HASH), minlength=n) / nw
    return np.stack([cols[k] for k in names], 1).astype(np.float64)


def _sentence_lengths(codes: np.ndarray, tok: Tokens, nword: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per document: the mean sentence length in words and its coefficient of variation.

    Models write sentences of steadier length than people do, so the spread matters as much as the
    mean. A sentence ends at a punctuation token in ``.!?``; the words after a document's last
    sentence end count as one more sentence. Computed by differencing the running word count at
    each sentence end, so there is no loop per document."""
    wmask = tok.is_word
    ends = ~tok.is_word & _table(_char_tables().sent_end, codes[tok.start] if len(tok.start) else codes[:0], False)
    nsent = np.bincount(tok.doc[ends], minlength=n).astype(np.float64)
    # words per sentence: cumulative word count at each sentence end, differenced within doc
    cw = np.cumsum(wmask)
    e_idx = np.flatnonzero(ends)
    e_doc = tok.doc[e_idx]
    cum_at_end = cw[e_idx].astype(np.float64)
    first_tok = np.searchsorted(tok.doc, np.arange(n))
    # words before each document's first token (a batch of empty texts has no tokens at all)
    base = np.concatenate([[0], cw])[first_tok].astype(np.float64)
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
    return s_mean, s_cv


def _type_token_ratio(tok: Tokens, nword: np.ndarray, n: int) -> np.ndarray:
    """Per document: distinct words over words, among its first 200 words.

    Vocabulary variety is a style signal; capping at 200 words keeps the ratio from merely
    tracking document length (longer texts repeat more). Distinct words are counted by sorting
    (document, word-hash) keys once for the whole batch."""
    wmask = tok.is_word
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
    return types / np.maximum(np.minimum(nword, 200), 1)


def _text_edges(enc: Encoded) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per document: whether it starts with whitespace, ends with whitespace, ends a sentence.

    How a text begins and ends is where a model's output and a person's (or a scrape's) differ
    most plainly: a closing period, a trailing newline. Reads the characters just inside the
    boundary marks ``encode`` adds; documents of no real characters answer False."""
    codes = enc.codes
    first = codes[np.minimum(enc.starts + 1, len(codes) - 1)] if len(codes) else codes[:0]
    last = codes[np.maximum(enc.starts + enc.lengths - 2, 0)] if len(codes) else codes[:0]
    has = enc.lengths > 2
    starts_space = has & _table(_char_tables().space, first, False)
    ends_space = has & _table(_char_tables().space, last, False)
    ends_sent = has & _table(_char_tables().sent_end, last, False)
    return starts_space, ends_space, ends_sent


def _markdown_marks(codes: np.ndarray) -> np.ndarray:
    """Per position: whether a markdown mark starts there (``` fences, **bold**, # headers, bullets).

    Chat models format their answers as markdown far more often than human prose is written
    that way. A header or bullet counts only at the start of a line (after a newline or the
    document's start mark)."""
    md = np.zeros(len(codes), bool)
    if len(codes) > 2:
        c0, c1 = codes[:-1], codes[1:]
        md[:-1] = ((c0 == 42) & (c1 == 42)) | ((c0 == 96) & (c1 == 96))
        line_start = np.zeros(len(codes), bool)
        line_start[1:] = (codes[:-1] == 10) | (codes[:-1] == 2)
        md[:-1] |= line_start[:-1] & ((c0 == 35) | (c0 == 42) | (c0 == 45)) & ((c1 == 32) | (c1 == 35))
    return md


@dataclass
class Featurised:
    """A batch's sparse n-gram counts (document, bucket, count) and its dense stylometric matrix."""

    n: int
    char_doc: np.ndarray
    char_bucket: np.ndarray
    char_count: np.ndarray
    word_doc: np.ndarray
    word_bucket: np.ndarray
    word_count: np.ndarray
    dense: np.ndarray


def featurise(texts: Sequence[str], char_bits: int = 18, word_bits: int = 18,
              design: str = "v1") -> Featurised:
    """Every feature block of ``texts``; ``design="v2"`` normalises formatting first (default-2.0.0)."""
    v2 = design == "v2"
    enc = encode(texts, normalise=v2)
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
        dense=dense(enc, tok, DENSE_NAMES_V2 if v2 else DENSE_NAMES),
    )


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


def joint_weights(w_char: np.ndarray, w_word: np.ndarray) -> tuple[np.ndarray, int]:
    """One weight vector for ``sqrt_logit``: char weights at [0, 2**cb), word weights at
    [2**(B-1), 2**(B-1) + 2**wb), B = max(cb, wb) + 1 bits per (doc-local) key."""
    half = max(len(w_char), len(w_word))
    w = np.zeros(2 * half, np.float64)
    w[: len(w_char)] = w_char
    w[half: half + len(w_word)] = w_word
    return w, half.bit_length()


def sqrt_logit(f: Featurised, w_joint: np.ndarray, key_bits: int) -> np.ndarray:
    """``sqrt_dot`` of the char block plus ``sqrt_dot`` of the word block in one sort.

    Keys ``doc << key_bits | block << (key_bits - 1) | bucket`` are unique per (doc, block,
    bucket); sorted, each run is one n-gram's count. Sums run per (doc, block) bin in bucket
    order, exactly as two separate ``sqrt_dot`` calls do, so the result is bit-identical.
    """
    n = f.n
    if len(f.char_doc) + len(f.word_doc) == 0:
        return np.zeros(n)
    half = 1 << (key_bits - 1)
    key = np.concatenate([(f.char_doc << key_bits) | f.char_bucket,
                          (f.word_doc << key_bits) | (f.word_bucket + half)])
    if (n << key_bits) <= (1 << 32):
        key = key.astype(np.uint32)
    key.sort()
    first = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
    cnt = np.diff(np.append(first, len(key)))
    uk = key[first].astype(np.int64)
    bins = ((uk >> key_bits) << 1) | ((uk >> (key_bits - 1)) & 1)  # 2 * doc + block
    s = np.bincount(bins, weights=w_joint[uk & ((half << 1) - 1)] * np.sqrt(cnt), minlength=2 * n)
    s = s.reshape(n, 2)
    return s[:, 0] / np.sqrt(np.maximum(f.char_count, 1)) + s[:, 1] / np.sqrt(np.maximum(f.word_count, 1))


def sqrt_matrix(f: Featurised, char_bits: int = 18, word_bits: int = 18):
    """Training matrix matching ``sqrt_dot``: [sqrt(char freq) | sqrt(word freq)] as scipy CSR."""
    m = sparse_matrix(f, char_bits, word_bits)
    m.data = np.sqrt(m.data)
    return m
