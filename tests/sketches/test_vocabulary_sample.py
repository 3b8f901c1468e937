"""VocabularySample: the same counts for any split of the stream, any batch size and any merge order.

Equality, not a bound: per-source diversity figures are computed from ``sample()``, and the
result's JSON must be byte-identical for 1-4 workers, any batch size and the Ray engine.
"""

from __future__ import annotations

import collections

import numpy as np
import pytest

from collapse_audit.sketches import VocabularySample, mix64
from collapse_audit.sketches.vocabulary import SALT

hypothesis = pytest.importorskip("hypothesis")
st = pytest.importorskip("hypothesis.strategies")


def _feed(sketch: VocabularySample, tokens: list[int]) -> VocabularySample:
    if tokens:
        keys, counts = np.unique(np.array(tokens, dtype=np.uint64), return_counts=True)
        sketch.update(keys, counts)
    return sketch


def _truth(tokens: list[int], capacity: int):
    """What ``sample()`` must give: every type, or the capacity//2 types of smallest sampling hash."""
    counts = collections.Counter(tokens)
    keys = np.array(sorted(counts), dtype=np.uint64)
    if len(keys) > capacity:
        h = mix64(keys, salt=SALT)
        keys = np.sort(keys[np.argsort(h)[: capacity // 2]])
    return keys, np.array([counts[int(k)] for k in keys], dtype=np.int64)


def _as_tuple(sample):
    keys, counts, share = sample
    return keys.tolist(), counts.tolist(), share


@hypothesis.settings(max_examples=150, deadline=None)
@hypothesis.given(
    tokens=st.lists(st.integers(0, 400), max_size=1500).map(lambda xs: [x * 7919 + 13 for x in xs]),
    capacity=st.sampled_from([16, 32, 64, 1024]),
    data=st.data(),
)
def test_any_split_batching_and_merge_order_gives_the_same_sample(tokens, capacity, data):
    one = VocabularySample(capacity)
    for start in range(0, len(tokens), 37):
        _feed(one, tokens[start:start + 37])
    keys, counts = _truth(tokens, capacity)
    got = one.sample()
    assert got[0].tolist() == keys.tolist() and got[1].tolist() == counts.tolist()
    assert (got[2] == 1.0) == (len(set(tokens)) <= capacity)

    # random contiguous shards, each fed in random batch sizes, merged in a random order
    cuts = sorted(data.draw(st.lists(st.integers(0, len(tokens)), max_size=4)))
    bounds = [0, *cuts, len(tokens)]
    shards = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        sk = VocabularySample(capacity)
        step = data.draw(st.integers(1, 200))
        for s in range(a, b, step):
            _feed(sk, tokens[s:min(s + step, b)])
        shards.append(sk)
    order = data.draw(st.permutations(range(len(shards))))
    merged = shards[order[0]]
    for i in order[1:]:
        merged.merge(shards[i])
    assert _as_tuple(merged.sample()) == _as_tuple(one.sample())
    assert merged.total == one.total == len(tokens)


def test_counts_are_exact_for_every_kept_type():
    rng = np.random.default_rng(0)
    tokens = (rng.zipf(1.2, 200_000) % 50_000).tolist()
    sk = VocabularySample(1 << 12)
    for chunk in np.array_split(np.array(tokens), 9):
        _feed(sk, chunk.tolist())
    keys, counts, share = sk.sample()
    truth = collections.Counter(tokens)
    assert not sk.exact and len(keys) == 1 << 11 and 0 < share < 1
    assert all(truth[int(k)] == int(c) for k, c in zip(keys, counts, strict=True))
    # the sampled share of the hash space estimates the sampled share of the types
    assert abs(len(keys) / share - len(truth)) < 0.1 * len(truth)
