"""Diversity figures: exact where they should be, lower for a recycled corpus, batch-independent."""

from __future__ import annotations

import collections
import math

import numpy as np
import pytest
from helpers import make_batches, make_check, run_check, zipf_texts

from collapse_audit.checks.diversity import Diversity
from collapse_audit.text.tokens import iter_ngrams, tokenize


def _diversity(texts, batch_size=512, sources=None, **options):
    check = make_check(Diversity, options)
    res = run_check(check, make_batches(texts, batch_size, sources=sources))
    return check, res


def test_tokenizer_lowercases_and_strips_punctuation():
    tok = tokenize(["Hello, World!  hello world", "", "“Quoted” -- (text)…"])
    assert list(tok.lengths) == [4, 0, 2]
    h = tok.hashes
    assert h[0] == h[2] and h[1] == h[3]


def test_figures_match_exact_computation():
    texts = zipf_texts(3000, vocab=20_000, length=50, seed=4)
    _, res = _diversity(texts)
    m = res.metrics
    tok = tokenize(texts)
    counts = np.array(list(collections.Counter(tok.hashes.tolist()).values()), dtype=np.float64)
    p = counts / counts.sum()
    assert math.isclose(m["diversity.token_entropy"], float(-(p * np.log2(p)).sum()), rel_tol=1e-9)
    assert m["diversity.types"] == len(counts)                       # exact while the table has room
    assert math.isclose(m["diversity.tail_mass"], counts[counts < 1e-5 * counts.sum()].sum() / counts.sum())
    for n, h, _ in iter_ngrams(tok, 4):
        exact = len(np.unique(h)) / len(h)
        assert abs(m[f"diversity.distinct_{n}"] - exact) <= 4 * 0.0082 * exact   # HLL, 4 std errors
    assert math.isclose(m["diversity.length_mean"], 50.0)
    assert m["diversity.tokens"] == 150_000


def test_batch_size_does_not_change_results():
    texts = zipf_texts(2500, vocab=5000, length=30, seed=5)
    _, a = _diversity(texts, batch_size=97)
    _, b = _diversity(texts, batch_size=1000)
    assert a.metrics == b.metrics


def test_repeated_small_human_set_scores_lower_diversity(l2r):
    human = [r["text"] for r in l2r if r["label"] == "human"]
    original = human[:4000]
    recycled = human[:400] * 10            # same size, a tenth of the distinct texts
    _, o = _diversity(original)
    _, r = _diversity(recycled)
    o, r = o.metrics, r.metrics
    print({k: (round(o[k], 4), round(r[k], 4)) for k in o})
    assert r["diversity.distinct_2"] < 0.25 * o["diversity.distinct_2"]
    assert r["diversity.distinct_4"] < 0.25 * o["diversity.distinct_4"]
    assert r["diversity.types"] < 0.5 * o["diversity.types"]
    assert r["diversity.token_entropy"] < o["diversity.token_entropy"] - 0.2
    assert r["diversity.tail_mass"] < o["diversity.tail_mass"]
    # self-similarity against the same 400 texts without the copies: the copies add identical pairs
    # (sampling 1,000 of 4,000 records of which each text has 10 copies)
    _, distinct = _diversity(human[:400])
    assert r["diversity.self_similarity"] > distinct.metrics["diversity.self_similarity"]


def test_self_similarity_rises_with_duplication():
    base = zipf_texts(2000, vocab=50_000, length=40, seed=6)
    _, a = _diversity(base, sample=500)
    _, b = _diversity(base[:20] * 100, sample=500)      # 20 distinct texts: ~5 % of sampled pairs identical
    assert b.metrics["diversity.self_similarity"] > a.metrics["diversity.self_similarity"] + 0.03


def test_per_source_metrics_for_exact_source_masks():
    a = zipf_texts(600, vocab=30_000, length=40, seed=7)
    b = [t for t in zipf_texts(60, vocab=300, length=40, seed=8)] * 10
    texts = [x for pair in zip(a, b, strict=True) for x in pair]
    sources = ["web", "synthetic-farm"] * 600
    check, res = _diversity(texts, batch_size=128, sources=sources)
    by = res.details["by_source"]
    assert set(by) == {"web", "synthetic-farm"}
    assert by["synthetic-farm"]["distinct_2"] < by["web"]["distinct_2"]
    mask = np.array([s == "web" for s in sources])
    web = check.metrics_for(mask)
    assert web["diversity.distinct_2"] == pytest.approx(by["web"]["distinct_2"], abs=1e-6)
    assert check.metrics_for(np.ones(len(texts), bool)) == {}          # not one source: no breakdown


def test_empty_and_blank_records():
    _, res = _diversity(["", "   ", "one two three"], batch_size=2)
    m = res.metrics
    assert m["diversity.tokens"] == 3 and math.isclose(m["diversity.empty_fraction"], 2 / 3)


def test_same_result_with_worker_processes():
    from collapse_audit.engine.parallel import prepared_batches

    texts = zipf_texts(3000, vocab=10_000, length=30, seed=9)
    sources = [f"s{i % 4}" for i in range(len(texts))]
    out = []
    for workers in (1, 2):
        check = make_check(Diversity)
        for batch, (prep,) in prepared_batches([check], make_batches(texts, 400, sources=sources), workers):
            check.observe(batch, prep)
        out.append(check.finish())
    assert out[0].metrics == out[1].metrics
    assert out[0].details == out[1].details


def test_figures_stay_close_after_the_count_table_overflows():
    texts = zipf_texts(4000, vocab=200_000, length=50, seed=10, a=1.1)
    tok = tokenize(texts)
    counts = np.array(list(collections.Counter(tok.hashes.tolist()).values()), dtype=np.float64)
    N = counts.sum()
    p = counts / N
    exact_h = float(-(p * np.log2(p)).sum())
    exact_tail = counts[counts < 1e-5 * N].sum() / N
    check, res = _diversity(texts, capacity=16384)          # 25k types: the table overflows
    m, err = res.metrics, res.details["errors"]
    print(f"types {len(counts)} vs {m['diversity.types']:.0f}; entropy {exact_h:.4f} vs "
          f"{m['diversity.token_entropy']:.4f}; tail {exact_tail:.4f} vs {m['diversity.tail_mass']:.4f}; "
          f"count error {err['token_count_max_error']}")
    assert not err["types_exact"] and err["token_count_max_error"] > 0
    assert abs(m["diversity.types"] - len(counts)) <= 4 * 0.0082 * len(counts)
    assert abs(m["diversity.token_entropy"] - exact_h) < 0.01 * exact_h
    # tail: types at or above the cut may be undercounted by at most the stated error
    cut = 1e-5 * N
    at_risk = counts[(counts >= cut) & (counts < cut + err["token_count_max_error"])].sum() / N
    assert exact_tail - 1e-9 <= m["diversity.tail_mass"] <= exact_tail + at_risk + 1e-9
