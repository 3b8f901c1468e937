"""The per-batch sharing of Arrow text between the two tokenisers changes no token.

``tokenize(texts, nfc)`` reuses the NFC batch's Arrow array and lower-casing when normalising changed
no record, and splits with the ASCII kernel when the text holds no character the ASCII and Unicode
splits treat differently; every case here must give exactly the tokens of ``tokenize(texts)``.
"""

import numpy as np
import pytest

from collapse_audit.text.batch import nfc_texts
from collapse_audit.text.shingles import reference_tokens, tokenize_batch
from collapse_audit.text.tokens import tokenize

CASES = {
    "ascii": ["Hello, World!  hello world", "", "  lead  trail  ", "\t\n", "e.g. don't (stop)"],
    "non-ascii words": ["Ünïcödé  wörds “quoted” — e.g.", "naïve café straße 日本", "plain ascii"],
    "file separator U+001C..U+001F": ["a\x1cb c", "x\x1fy", "plain"],
    "non-ASCII whitespace": ["a\u00a0b", "c\u3000d\u2028e", "f\u2000g", "plain"],
    "NFC changes a record": ["e\u0301 cafe\u0301 x", "plain", "\u212b ngstr\u00f6m"],
    "NFC changes a whitespace": ["a\u2000b", "c d"],
    "dotted capital I and final sigma": ["\u0130stanbul ΟΔΟΣ", "plain"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_tokens_from_the_shared_batch_equal_tokens_from_the_texts(name):
    texts = CASES[name]
    alone, shared = tokenize(texts), tokenize(texts, nfc_texts(texts))
    assert np.array_equal(alone.offsets, shared.offsets)
    assert np.array_equal(alone.hashes, shared.hashes)
    assert np.array_equal(alone.vocab, shared.vocab) and np.array_equal(alone.ids, shared.ids)


@pytest.mark.parametrize("name", sorted(CASES))
def test_near_duplicate_tokens_after_the_whole_batch_is_lowered_once(name):
    texts = CASES[name]
    nfc = nfc_texts(texts)
    tokenize(texts, nfc)                       # lower-cases the whole batch first, as a scan does
    for start in range(len(texts)):
        part = nfc.slice(start, len(texts))    # the near-duplicate check works on slices
        got = tokenize_batch(texts[start:], part).tokens
        assert got == [t for x in texts[start:] for t in reference_tokens(x)]


def test_raw_array_puts_back_the_records_nfc_changed():
    texts = ["e\u0301", "plain", "caf\u00e9", "\u212b"]
    nfc = nfc_texts(texts)
    assert nfc.changed.tolist() == [0, 3]
    assert nfc.raw_array().to_pylist() == texts
    assert nfc.array.to_pylist() == ["\u00e9", "plain", "caf\u00e9", "\u00c5"]
