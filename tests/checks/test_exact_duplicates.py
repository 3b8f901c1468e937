"""Exact duplicates: NFC + whitespace collapsing, vectorised keys == reference, planted groups."""

from __future__ import annotations

import unicodedata

import numpy as np
import pytest
from helpers import make_batches as batches
from helpers import make_check

from collapse_audit.checks.exact_duplicates import ExactDuplicates
from collapse_audit.readers.base import RecordBatch
from collapse_audit.text.normalize import exact_keys, key_to_bytes, normalize_text, reference_exact_key

TRICKY = ["", " ", "\n\t ", "a", "a  b", "  a b  ", "a\u00a0b", "a\u3000 b\u2029", "x\n\ny \t",
          "e\u0301", "\u00e9", "abc", "\x1c", "a\x1fb ", "a\x0bb", "\x85lead", "tail\u2028",
          "Hello, World! “quoted”—dash café naïve 日本語テキスト", "Ⅻ ﬁ Ω K", "\u0000nul\u0000",
          "emoji 😀  ok", "İstanbul ΟΔΟΣ"]


def run(texts, size=4):
    check = make_check(ExactDuplicates)
    for b in batches(texts, size, file="c.jsonl"):
        check.observe(b, check.prepare(b))
    return check, check.finish()


def test_vectorised_keys_equal_reference():
    rng = np.random.default_rng(0)
    alphabet = list("ab \t\n\r\x0b\x0c\x1c\u00a0\u2003\u3000é\u0301.,")
    texts = TRICKY + ["".join(rng.choice(alphabet, size=int(rng.integers(0, 30)))) for _ in range(500)]
    keys = exact_keys(texts)
    assert keys.dtype == np.uint64 and keys.shape == (len(texts), 2)
    for t, k in zip(texts, keys, strict=True):
        assert key_to_bytes(k) == reference_exact_key(t), repr(t)


def test_normal_form():
    assert normalize_text("  e\u0301\u00a0 x\n") == "\u00e9 x"
    assert exact_keys([]).shape == (0, 2)


def test_planted_groups():
    base = ["the cat sat", "a dog ran far", "unique one", "e\u0301t\u00e9"]
    texts = [base[0], base[1], " the  cat\nsat ", base[2], "\u00e9t\u00e9", base[0], base[3],
             "The cat sat", base[1]]
    check, res = run(texts, size=2)
    assert res.metrics == {"duplicates.exact_count": 4, "duplicates.exact_fraction": 4 / 9}
    assert res.columns["exact_group"].to_pylist() == [0, 1, 0, None, 2, 0, 2, None, 1]
    flag = res.flags["duplicates.exact_count"]
    assert flag.tolist() == [False, False, True, False, False, True, True, False, True]
    assert res.details["groups"] == 3
    top = res.details["largest"][0]
    assert top["size"] == 3 and top["file"] == "c.jsonl" and top["row"] == 0
    assert top["excerpt"] == "the cat sat"


def test_batching_does_not_matter():
    rng = np.random.default_rng(3)
    pool = [f"doc {i} " + "w " * int(i % 7) for i in range(50)]
    texts = [pool[i] for i in rng.integers(0, 50, size=400)]
    expect = None
    for size in (1, 3, 64, 1000):
        _, res = run(texts, size)
        got = (res.columns["exact_group"].to_pylist(), res.metrics)
        expect = expect or got
        assert got == expect
    seen, count = set(), 0
    for t in texts:
        k = unicodedata.normalize("NFC", " ".join(t.split()))
        count += k in seen
        seen.add(k)
    assert expect[1]["duplicates.exact_count"] == count


def test_metrics_for_restricts_groups_to_the_subset():
    texts = ["a", "a", "b", "b", "b", "c"]
    check, _ = run(texts)
    m = check.metrics_for(np.array([True, False, True, True, False, True]))
    assert m == {"duplicates.exact_count": 1, "duplicates.exact_fraction": 0.25}


def test_64_bit_prefix_collision_is_not_a_duplicate():
    check = make_check(ExactDuplicates)
    b = RecordBatch(file="f", file_index=0, start=0, rows=[0, 1], lines=None, texts=["x", "y"])
    keys = np.array([[7, 1], [7, 2]], dtype=np.uint64)             # same high half, different low
    check.observe(b, keys)
    b2 = RecordBatch(file="f", file_index=0, start=2, rows=[2, 3], lines=None, texts=["y", "z"])
    check.observe(b2, np.array([[7, 2], [7, 3]], dtype=np.uint64))
    res = check.finish()
    assert res.columns["exact_group"].to_pylist() == [None, 0, 0, None]


@pytest.mark.parametrize("n", [0, 1])
def test_tiny_inputs(n):
    _, res = run(["only"] * n)
    assert res.metrics["duplicates.exact_count"] == 0
    assert len(res.columns["exact_group"]) == n
