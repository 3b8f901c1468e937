"""Near duplicates: planted corpora, all-pairs Jaccard ground truth, batching/worker invariance."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from helpers import make_batches as batches
from helpers import make_check

from collapse_audit.checks.near_duplicates import NearDuplicates
from collapse_audit.readers.base import RecordBatch
from collapse_audit.text.shingles import reference_shingles

WORDS = [f"w{i}" for i in range(3000)]


def make_corpus(n_base=150, seed=1):
    """Base documents plus planted near duplicates (a few word edits) and exact copies."""
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, len(WORDS) + 1) ** 0.9
    p /= p.sum()
    docs = []
    for _ in range(n_base):
        n = int(rng.integers(60, 400))
        docs.append([WORDS[i] for i in rng.choice(len(WORDS), size=n, p=p)])
    texts = [" ".join(d) for d in docs]
    for i in range(0, n_base, 3):                       # near duplicates: 1-3 substitutions
        d = list(docs[i])
        for _ in range(int(rng.integers(1, 4))):
            d[int(rng.integers(0, len(d)))] = WORDS[int(rng.integers(0, len(WORDS)))]
        texts.append(" ".join(d))
    for i in range(1, n_base, 10):                      # heavier edits: around the threshold
        d = list(docs[i])
        for _ in range(max(1, len(d) // 25)):
            d[int(rng.integers(0, len(d)))] = WORDS[int(rng.integers(0, len(WORDS)))]
        texts.append(" ".join(d))
    for i in range(2, n_base, 7):                       # exact copies with other whitespace
        texts.append("  " + texts[i].replace(" ", "\n", 3) + " ")
    texts += ["", "   ", "!!!", "short doc", "Short   DOC"]
    order = rng.permutation(len(texts))
    return [texts[i] for i in order]


def run(texts, size=64, config=None):
    check = make_check(NearDuplicates, **(config or {}))
    for b in batches(texts, size, file="corpus.jsonl"):
        check.observe(b, check.prepare(b))
    return check, check.finish()


def jaccard(a, b):
    return len(a & b) / len(a | b) if (a or b) else 1.0


@pytest.fixture(scope="module")
def corpus():
    texts = make_corpus()
    sets = [set(reference_shingles(t, 5, 0)) for t in texts]
    J = {}
    for i, j in itertools.combinations(range(len(texts)), 2):
        if sets[i] & sets[j] or (not sets[i] and not sets[j]):
            J[(i, j)] = jaccard(sets[i], sets[j])
    return texts, J


def cluster_pairs(res):
    cid = res.columns["near_cluster"].to_pylist()
    members = {}
    for i, c in enumerate(cid):
        if c is not None:
            members.setdefault(c, []).append(i)
    return {p for m in members.values() for p in itertools.combinations(m, 2)}


def test_recall_and_precision_against_all_pairs_jaccard(corpus):
    texts, J = corpus
    _, res = run(texts)
    found = cluster_pairs(res)
    high = {p for p, j in J.items() if j >= 0.9}
    assert len(high) > 50
    recall = len(found & high) / len(high)
    assert recall >= 0.95, recall
    ok = {p for p, j in J.items() if j >= 0.7}
    precision = len(found & ok) / max(len(found), 1)
    assert precision >= 0.95, precision


def test_columns_metrics_and_flags_agree(corpus):
    texts, _ = corpus
    check, res = run(texts)
    cid = res.columns["near_cluster"].to_pylist()
    dup_of = res.columns["duplicate_of_row"].to_pylist()
    assert len(cid) == len(dup_of) == len(texts)
    clusters = {}
    for i, c in enumerate(cid):
        if c is not None:
            clusters.setdefault(c, []).append(i)
    for m in clusters.values():
        assert len(m) >= 2
        assert dup_of[m[0]] is None                       # the kept record is the first
        assert all(dup_of[i] == m[0] for i in m[1:])
    assert res.metrics["duplicates.near_clusters"] == len(clusters)
    assert res.metrics["duplicates.near_count"] == sum(len(m) - 1 for m in clusters.values())
    assert res.metrics["duplicates.near_count"] == sum(d is not None for d in dup_of)
    assert res.metrics["duplicates.near_fraction"] == pytest.approx(
        res.metrics["duplicates.near_count"] / len(texts))
    flag = res.flags["duplicates.near_count"]
    assert flag.dtype == bool and flag.sum() == res.metrics["duplicates.near_count"]
    sizes = res.details["cluster_sizes"]
    assert sum(int(k) * v for k, v in sizes.items()) == sum(len(m) for m in clusters.values())
    largest = res.details["largest"][0]
    assert largest["size"] == max(len(m) for m in clusters.values())
    assert largest["members"][0]["file"] == "corpus.jsonl"


def test_exact_copies_and_empty_records_are_near_duplicates():
    texts = ["alpha beta gamma delta epsilon zeta eta", "", "alpha  beta gamma delta epsilon zeta eta ",
             "  ", "?!", "Alpha Beta, gamma; delta epsilon zeta eta."]
    _, res = run(texts, size=2)
    assert res.columns["duplicate_of_row"].to_pylist() == [None, None, 0, 1, 1, 0]
    assert res.metrics["duplicates.near_clusters"] == 2


def test_independent_of_batch_size(corpus):
    texts, _ = corpus
    base = run(texts, size=1000)[1]
    for size in (1, 7, 64):
        other = run(texts, size=size)[1]
        assert other.columns["near_cluster"].equals(base.columns["near_cluster"])
        assert other.columns["duplicate_of_row"].equals(base.columns["duplicate_of_row"])
        assert other.metrics == base.metrics


def test_global_indices_follow_batch_start():
    texts = ["one two three four five six", "one two three four five six"]
    check = make_check(NearDuplicates)
    b = RecordBatch(file="f", file_index=0, start=10, rows=[0, 1], lines=None, texts=texts[:1])
    check.observe(b, check.prepare(b))
    b = RecordBatch(file="g", file_index=1, start=11, rows=[0], lines=None, texts=texts[1:])
    check.observe(b, check.prepare(b))
    res = check.finish()
    assert res.columns["duplicate_of_row"].to_pylist() == [None, 10]


def test_metrics_for_restricts_clusters_to_the_subset():
    texts = ["a b c d e f g", "a b c d e f g", "x y z", "x y z", "x y z", "q r s"]
    check, res = run(texts)
    mask = np.array([True, False, True, True, False, True])
    m = check.metrics_for(mask)
    assert m == {"duplicates.near_count": 1, "duplicates.near_fraction": 0.25,
                 "duplicates.near_clusters": 1}


def test_threshold_and_seed_are_configurable(corpus):
    texts, _ = corpus
    strict = run(texts, config={"options": {"threshold": 0.95}})[1]
    loose = run(texts)[1]
    assert strict.metrics["duplicates.near_count"] <= loose.metrics["duplicates.near_count"]
    other_seed = run(texts, config={"seed": 5})[1]
    assert abs(other_seed.metrics["duplicates.near_count"] - loose.metrics["duplicates.near_count"]) <= 3


def test_prepared_result_pickles(corpus):
    import pickle
    texts, _ = corpus
    check = make_check(NearDuplicates)
    b = batches(texts, 32, file="corpus.jsonl")[0]
    prep = check.prepare(b)
    again = pickle.loads(pickle.dumps(prep))
    assert all(np.array_equal(prep[k], again[k]) for k in prep)


def test_sorted_runs_and_pairs_within():
    from collapse_audit.text.index import RowStore, SortedRuns, UnionFind, pairs_within
    rng = np.random.default_rng(0)
    idx = SortedRuns(np.int64)
    seen = {}
    for batch in range(40):
        keys = rng.integers(0, 50, size=int(rng.integers(0, 30))).astype(np.uint64)
        vals = np.arange(len(keys)) + 1000 * batch
        q = rng.integers(0, 60, size=25).astype(np.uint64)
        qi, (v,) = idx.find_all(q)
        got = sorted(zip(qi.tolist(), v.tolist(), strict=True))
        want = sorted((i, x) for i, k in enumerate(q.tolist()) for x in seen.get(k, []))
        assert got == want
        idx.add(keys, vals)
        for k, x in zip(keys.tolist(), vals.tolist(), strict=True):
            seen.setdefault(k, []).append(x)
    assert len(idx) == sum(len(v) for v in seen.values()) and len(idx.keys) <= 8
    later, earlier = pairs_within(np.array([5, 3, 5, 5, 3, 9], dtype=np.uint64))
    assert sorted(zip(later.tolist(), earlier.tolist(), strict=True)) == [(2, 0), (3, 0), (3, 2), (4, 1)]
    store = RowStore(3, np.uint16, chunk=4)
    store.append(np.arange(30).reshape(10, 3))
    assert store.take(np.array([9, 0, 5])).tolist() == [[27, 28, 29], [0, 1, 2], [15, 16, 17]]
    uf = UnionFind()
    uf.extend(5)
    uf.union(4, 2)
    uf.union(2, 3)
    uf.extend(2000)
    uf.union(1999, 3)
    assert uf.roots()[[2, 3, 4, 1999, 0]].tolist() == [2, 2, 2, 2, 0]


def test_many_copies_do_not_make_quadratic_candidates():
    texts = ["the same boilerplate text of many words here again"] * 3000 + ["other words entirely here now"]
    check, res = run(texts, size=500)
    assert res.metrics["duplicates.near_count"] == 2999
    assert check.pairs_checked < 100


def test_bucket_limit_bounds_work_on_templated_near_copies(monkeypatch):
    import collapse_audit.checks.near_duplicates as nd
    rng = np.random.default_rng(7)
    base = [WORDS[i] for i in rng.integers(0, len(WORDS), 120)]
    texts = []
    for i in range(400):
        d = list(base)
        d[int(rng.integers(0, len(d)))] = f"item{i}"          # one word differs: J ~ 0.9
        texts.append(" ".join(d))
    full_check, full = run(texts, size=100)
    monkeypatch.setattr(nd, "BUCKET_LIMIT", 8)
    small_check, small = run(texts, size=100)
    assert full.metrics["duplicates.near_clusters"] == 1
    assert small.metrics == full.metrics
    assert small_check.pairs_checked < full_check.pairs_checked / 3
