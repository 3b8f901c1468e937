"""Vectorised tokens / shingles / MinHash signatures equal the one-document reference."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from collapse_audit.text.minhash import MinHasher, reference_signature
from collapse_audit.text.shingles import (
    _NONWORD_RE2,
    batch_shingles,
    reference_shingles,
    reference_tokens,
    tokenize_batch,
)

TEXTS = ["", " ", "!!!", "one", "a b c d", "a b c d e", "a b c d e f", "A  B, C; D. E! F?",
         "Hello, World! “quoted”—dash café naïve  日本語テキスト", "e\u0301cole ÉCOLE école",
         "under_score snake_case x1 2x ١٢٣ Ⅻ", "İstanbul ΟΔΟΣ straße", "tab\tnew\nline\r\nend",
         "emoji😀split", "\u00a0nbsp\u00a0inside\u2003em", "don't stop-believing", "x" * 300]


def random_texts(n, seed=0):
    rng = np.random.default_rng(seed)
    vocab = ["the", "The", "cat", "CAT", "naïve", "日本", "x_y", "42", "é", "e\u0301", "—", "...",
             "don't", "well-known", "😀", "Ⅻ", "\u00a0", "ΟΔΟΣ", "straße"]
    seps = [" ", "  ", "\n", ", ", "-", "", "\t"]
    out = []
    for _ in range(n):
        k = int(rng.integers(0, 40))
        out.append("".join(vocab[int(rng.integers(len(vocab)))] + seps[int(rng.integers(len(seps)))]
                           for _ in range(k)))
    return out


def test_tokens_equal_python_re():
    texts = TEXTS + random_texts(300)
    tb = tokenize_batch(texts)
    toks, off = tb.tokens, tb.offsets
    for i, t in enumerate(texts):
        assert toks[off[i]:off[i + 1]] == reference_tokens(t), repr(t)


def test_word_class_matches_python_re_on_assigned_code_points():
    """RE2 [\\p{L}\\p{N}_] vs Python's \\w over every code point: equal where Python knows the
    character; the only differences are characters unassigned in Python's Unicode database."""
    import unicodedata
    chars = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    py = set("".join(re.findall(r"\w+", chars)))
    arrow = set("".join(pc.split_pattern_regex(pa.array([chars]), _NONWORD_RE2).to_pylist()[0]))
    assert py <= arrow
    assert all(unicodedata.category(c) == "Cn" for c in arrow - py)


def test_shingles_equal_reference():
    texts = TEXTS + random_texts(200, seed=1)
    for k in (1, 3, 5):
        x, off = batch_shingles(texts, k, seed=11)
        assert off[-1] == len(x) and (np.diff(off) >= 1).all()
        for i, t in enumerate(texts):
            assert x[off[i]:off[i + 1]].tolist() == reference_shingles(t, k, 11), (k, repr(t))


def test_short_documents_form_one_shingle():
    assert len(reference_shingles("a b", 5, 0)) == 1
    assert reference_shingles("a b", 5, 0) != reference_shingles("a b c", 5, 0)
    assert reference_shingles("", 5, 0) == reference_shingles("?!", 5, 0)
    assert len(reference_shingles("a b c d e f", 5, 0)) == 2


@pytest.mark.parametrize("chunk", [1, 7, 8192])
def test_vectorised_signatures_equal_reference(chunk):
    texts = TEXTS + random_texts(60, seed=2)
    mh = MinHasher(num_perm=64, ngram=5, seed=3, chunk=chunk)
    sig = mh.signatures(texts)
    assert sig.dtype == np.uint32 and sig.shape == (len(texts), 64)
    for i, t in enumerate(texts):
        assert np.array_equal(sig[i], reference_signature(t, 64, 5, 3))
    for i in range(0, len(texts), 9):        # the plain-integer version of the same scheme
        assert np.array_equal(sig[i], reference_signature(texts[i], 64, 5, 3, use_numpy=False))


def test_signatures_independent_of_batch_composition():
    texts = random_texts(100, seed=4)
    mh = MinHasher(seed=0)
    whole = mh.signatures(texts)
    parts = np.concatenate([mh.signatures(texts[s:s + 13]) for s in range(0, 100, 13)])
    assert np.array_equal(whole, parts)


def test_seeded_and_deterministic():
    t = ["some words here and there and everywhere again"]
    assert np.array_equal(MinHasher(seed=1).signatures(t), MinHasher(seed=1).signatures(t))
    assert not np.array_equal(MinHasher(seed=1).signatures(t), MinHasher(seed=2).signatures(t))


def test_jaccard_estimate_is_unbiased():
    rng = np.random.default_rng(5)
    words = [f"t{i}" for i in range(100000)]
    errs = []
    mh = MinHasher(seed=0)
    for _ in range(40):
        base = [words[i] for i in rng.integers(0, len(words), 300)]
        other = list(base)
        for j in rng.choice(300, 12, replace=False):
            other[j] = words[int(rng.integers(0, len(words)))]
        a, b = set(reference_shingles(" ".join(base), 5, 0)), set(reference_shingles(" ".join(other), 5, 0))
        true = len(a & b) / len(a | b)
        s = mh.signatures([" ".join(base), " ".join(other)])
        errs.append(np.mean(s[0] == s[1]) - true)
    errs = np.array(errs)
    assert abs(errs.mean()) < 0.02          # binomial sd per pair ~0.04, over 40 pairs ~0.007
    assert errs.std() < 0.07


def test_long_tokens_and_segment_boundaries():
    from collapse_audit.text.shingles import reference_token_hash, span_hashes
    long_token = "ab" * 5000
    texts = [" ".join([f"w{i}" for i in range(3000)]), long_token, "x " + long_token + " y z", "a b"]
    tb = tokenize_batch(texts)
    toks = tb.tokens
    assert max(map(len, toks)) == len(long_token)
    for seg in (7, 64, 1 << 19):
        got = span_hashes(tb.raw, tb.starts, tb.ends, 3, segment=seg)
        assert got.tolist() == [reference_token_hash(t, 3) for t in toks]
    x, off = batch_shingles(texts, 5, seed=1)
    for i, t in enumerate(texts):
        assert x[off[i]:off[i + 1]].tolist() == reference_shingles(t, 5, 1)


def test_records_are_split_at_their_boundaries():
    texts = ["abc", "def", "", "ghi jkl", "mno"]          # word bytes touch across records
    tb = tokenize_batch(texts)
    off = tb.offsets
    assert [tb.tokens[off[i]:off[i + 1]] for i in range(5)] == [["abc"], ["def"], [], ["ghi", "jkl"], ["mno"]]


def test_reference_cache_gives_the_same_signature():
    cache = {}
    for t in TEXTS:
        assert np.array_equal(reference_signature(t, 32, 5, 0, cache=cache), reference_signature(t, 32, 5, 0))


def test_arrow_lowercase_matches_python_except_handled_and_unassigned():
    import unicodedata
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    arrow = pc.utf8_lower(pa.array(chars)).to_pylist()
    differ = {c for c, a in zip(chars, arrow, strict=True) if a != c.lower()}
    assert all(c in ("\u0130",) or unicodedata.category(c) == "Cn" for c in differ)
    # final sigma is contextual in Python; records holding a capital sigma take str.lower
    assert tokenize_batch(["ΟΔΟΣ ΣΟΦΟΣ"]).tokens == reference_tokens("ΟΔΟΣ ΣΟΦΟΣ")
