"""Sketch error bounds: HyperLogLog within its stated standard error, Misra–Gries within its bound."""

from __future__ import annotations

import collections

import numpy as np
import pytest

from collapse_audit.sketches import FrequentItems, HyperLogLog, mix64


@pytest.mark.parametrize("n", [0, 1, 100, 5_000, 50_000, 1_000_000])
def test_hll_within_stated_error(n):
    hll = HyperLogLog(14)
    h = mix64(np.arange(n, dtype=np.uint64), salt=3)
    for chunk in np.array_split(h, 7):          # batched updates = one update
        hll.update(np.concatenate([chunk, chunk[: len(chunk) // 3]]))   # repeats do not count
    est = hll.count()
    if n == 0:
        assert est == 0
    else:
        # 4 standard errors (0.81 % each at p = 14); small counts are near-exact (linear-counting regime)
        assert abs(est - n) <= max(4 * hll.std_error * n, 1.0), (n, est)


def test_hll_merge_equals_union():
    a, b = HyperLogLog(12), HyperLogLog(12)
    a.update(mix64(np.arange(0, 30_000, dtype=np.uint64)))
    b.update(mix64(np.arange(20_000, 60_000, dtype=np.uint64)))
    u = HyperLogLog(12)
    u.update(mix64(np.arange(0, 60_000, dtype=np.uint64)))
    a.merge(b)
    assert np.array_equal(a.reg, u.reg)
    assert abs(a.count() - 60_000) < 4 * a.std_error * 60_000


def test_hll_agrees_with_datasketch():
    datasketch = pytest.importorskip("datasketch")
    n = 20_000
    ours = HyperLogLog(12)
    ours.update(mix64(np.arange(n, dtype=np.uint64)))
    ref = datasketch.HyperLogLogPlusPlus(p=12)
    for i in range(n):
        ref.update(str(i).encode())
    assert abs(ours.count() - n) / n < 0.07
    assert abs(ref.count() - n) / n < 0.07


def test_frequent_items_exact_until_full():
    rng = np.random.default_rng(1)
    data = rng.zipf(1.3, size=200_000).astype(np.uint64)
    fi = FrequentItems(capacity=1 << 16)
    for chunk in np.array_split(data, 13):
        k, c = np.unique(chunk, return_counts=True)
        fi.update(k, c)
    truth = collections.Counter(data.tolist())
    if len(truth) <= fi.capacity:
        assert fi.error == 0
        assert dict(zip(fi.keys.tolist(), fi.counts.tolist(), strict=True)) == truth


def test_frequent_items_bound_after_overflow():
    rng = np.random.default_rng(2)
    data = rng.zipf(1.2, size=300_000).astype(np.uint64)
    truth = collections.Counter(data.tolist())
    fi = FrequentItems(capacity=1024)
    for chunk in np.array_split(data, 40):
        k, c = np.unique(chunk, return_counts=True)
        fi.update(k, c)
    assert len(truth) > 1024 and fi.error > 0
    assert len(fi) <= 1024
    assert fi.total == len(data)
    stored = dict(zip(fi.keys.tolist(), fi.counts.tolist(), strict=True))
    corrected = dict(zip(fi.keys.tolist(), fi.corrected().tolist(), strict=True))
    for key, true in truth.items():
        est = stored.get(key, 0)
        assert true - fi.error <= est <= true          # the stated guarantee
        assert est <= corrected.get(key, 0) <= true     # lossy-counting correction never overshoots
    # the guarantee's own bound on the error
    assert fi.error <= (fi.total - fi.counts.sum()) / (fi.capacity // 2 + 1)
    # the 20 most frequent items are all kept
    top = [k for k, _ in truth.most_common(20)]
    assert all(k in stored for k in top)
