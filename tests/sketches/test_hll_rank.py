"""HyperLogLog register index and rank against a plain-integer reference, for every precision."""

import numpy as np
import pytest

from collapse_audit.sketches.hll import index_rank


@pytest.mark.parametrize("p", range(4, 19))
def test_index_rank_matches_bit_length_reference(p):
    rng = np.random.default_rng(p)
    h = rng.integers(0, 2**64, 3000, dtype=np.uint64, endpoint=False)
    low = (1 << (64 - p)) - 1
    h[:64 - p] = (h[:64 - p] & ~np.uint64(low)) | (np.uint64(1) << np.arange(64 - p, dtype=np.uint64))
    h[100] &= ~np.uint64(low)                  # w == 0: the maximal rank
    if p >= 11:
        # all ones: rank 1 (below p = 11, w has more than 53 bits and a double rounds it up to
        # the next power of two - the documented 2**-53 caveat, kept as it was)
        h[101] |= np.uint64(low)
    idx, rank = index_rank(h, p)
    for x, i, r in zip(h.tolist(), idx.tolist(), rank.tolist(), strict=True):
        w = x & low
        assert i == x >> (64 - p)
        assert r == 64 - p + 1 - w.bit_length()
