"""Baseline profiles and drift: monotone in the synthetic share, small, and faithful to the full data."""

from __future__ import annotations

import collections
import json
import math

import numpy as np
import pytest
from helpers import make_batches, make_check, run_check, zipf_texts

from collapse_audit.checks.drift import Drift
from collapse_audit.errors import AuditError
from collapse_audit.signals.drift import js_divergence
from collapse_audit.signals.profile import ProfileBuilder, load_profile, save_profile
from collapse_audit.text.tokens import tokenize


def _profile(texts, tmp_path, name="base.json", top_k=65536, sources=None):
    b = ProfileBuilder(top_k=top_k, source_field="source" if sources else None)
    for batch in make_batches(texts, 512, sources=sources):
        b.add(batch)
    path = tmp_path / name
    size = save_profile(b.build(), str(path))
    return load_profile(str(path)), size


def _drift(profile, texts):
    check = make_check(Drift, resources={"baseline": profile})
    return run_check(check, make_batches(texts, 512))


def test_llm_rewrites_move_js_and_psi_monotonically(l2r, tmp_path):
    """Baseline: the human texts. Scans: the same corpus with a growing share of its records replaced
    by LLM rewrites (nested: each step replaces the previous step's records and more)."""
    human = [r["text"] for r in l2r if r["label"] == "human"]
    synth = [r["text"] for r in l2r if r["label"] == "synthetic"]
    profile, _ = _profile(human, tmp_path)
    rows = []
    for share in (0.0, 0.25, 0.5, 0.75, 1.0):
        k = int(len(human) * share)
        mix = synth[:k] + human[k:]
        m = _drift(profile, mix).metrics
        rows.append((share, m["drift.token_js"], m["drift.token_kl"], m["drift.length_psi"],
                     m["drift.token_js_full"]))
    print("share, JS, KL, length PSI, token-level JS:", [tuple(round(x, 5) for x in r) for r in rows])
    for col in (1, 2, 3, 4):
        values = [r[col] for r in rows]
        assert values[0] == pytest.approx(0.0, abs=1e-12)
        assert all(b > a for a, b in zip(values, values[1:], strict=False)), (col, values)


def test_identical_corpus_has_zero_drift(tmp_path):
    texts = zipf_texts(1500, vocab=8000, length=40, seed=11)
    profile, _ = _profile(texts, tmp_path)
    m = _drift(profile, texts).metrics
    for name in ("drift.token_js", "drift.token_kl", "drift.length_psi", "drift.token_js_full"):
        assert m[name] == pytest.approx(0.0, abs=1e-12), name
    assert all(v == 0.0 for k, v in m.items() if k.startswith("drift.delta."))


def _counts(texts):
    return collections.Counter(tokenize(texts).hashes.tolist())


def _exact_js(ca, cb):
    keys = sorted(set(ca) | set(cb))
    return js_divergence([ca.get(k, 0) for k in keys], [cb.get(k, 0) for k in keys])


def _exact_pooled_js(ca, cb, min_count=10, bits=8):
    """The pooled partition computed from the full data: tokens with >= min_count baseline occurrences
    on their own, everything else in 2**bits buckets by hash."""
    atoms = sorted(k for k, v in ca.items() if v >= min_count)
    index = {k: i for i, k in enumerate(atoms)}

    def vec(c):
        v = np.zeros(len(atoms) + (1 << bits))
        for k, n in c.items():
            v[index[k] if k in index else len(atoms) + (k & ((1 << bits) - 1))] += n
        return v

    return js_divergence(vec(cb), vec(ca))


@pytest.mark.parametrize("top_k", [65536, 2048])
def test_profile_drift_matches_full_data_within_stated_error(tmp_path, top_k):
    a = zipf_texts(3000, vocab=60_000, length=50, seed=12, a=1.15)
    b = zipf_texts(3000, vocab=60_000, length=50, seed=13, a=1.25)
    profile, _ = _profile(a, tmp_path, top_k=top_k)
    res = _drift(profile, b)
    ca, cb = _counts(a), _counts(b)
    # token-level JS: the profile's partition can only lower it, by at most the stated bound
    sketch, exact = res.metrics["drift.token_js_full"], _exact_js(ca, cb)
    bound = res.details["token_js_full_error_bound"]
    # pooled JS (what rules cap): identical to the full-data computation while the profile keeps
    # every token with >= min_count occurrences
    pooled, pooled_exact = res.metrics["drift.token_js"], _exact_pooled_js(ca, cb)
    print(f"top_k={top_k}: token JS exact {exact:.5f} profile {sketch:.5f} (bound {bound:.4f}); "
          f"pooled JS exact {pooled_exact:.5f} profile {pooled:.5f}")
    assert sketch <= exact + 1e-9
    assert exact - sketch <= bound + 1e-9
    if top_k == 65536:
        assert math.isclose(sketch, exact, rel_tol=1e-9)       # every type fits: exact
        assert math.isclose(pooled, pooled_exact, rel_tol=1e-9)
    else:
        assert exact - sketch < 0.1 * exact                    # in practice far inside the bound
        assert abs(pooled - pooled_exact) < 0.1 * pooled_exact


def test_profile_figures_equal_scan_figures(tmp_path):
    from collapse_audit.checks.diversity import Diversity

    texts = zipf_texts(2000, vocab=20_000, length=45, seed=14)
    profile, _ = _profile(texts, tmp_path)
    scan = run_check(make_check(Diversity), make_batches(texts, 300)).metrics
    for k, v in profile.figures.items():
        if f"diversity.{k}" in scan:
            assert scan[f"diversity.{k}"] == pytest.approx(v, rel=1e-12), k


def test_profile_size_is_bounded(tmp_path):
    # far more token types than the sketch keeps: the heavy table and the buckets are full
    rng = np.random.default_rng(15)
    texts = [" ".join(f"u{x}" for x in row) for row in rng.integers(0, 1_000_000, size=(8000, 60))]
    sources = [f"src{i % 60}" for i in range(len(texts))]
    profile, size = _profile(texts, tmp_path, sources=sources)
    assert len(profile.heavy_keys) == 65536
    assert size < 2.5e6
    # worst case: full table with random 64-bit hashes and huge counts, every bucket busy
    b = ProfileBuilder()
    rng = np.random.default_rng(0)
    keys = np.unique(rng.integers(0, 2**63, size=70_000, dtype=np.int64).astype(np.uint64))
    b.state.freq.update(keys, rng.integers(1, 2**40, size=len(keys)))
    b.state.buckets[:] = rng.integers(2**40, 2**41, size=len(b.state.buckets))
    b.state.records = 1_000_000
    worst = save_profile(b.build(), str(tmp_path / "worst.json"))
    print("profile bytes: zipf corpus", size, "worst case", worst)
    assert worst <= 5_000_000


def test_profile_roundtrip_and_version_errors(tmp_path):
    profile, _ = _profile(zipf_texts(200, 1000, 20, seed=16), tmp_path)
    data = json.loads((tmp_path / "base.json").read_text())
    assert data["profile_version"] == 1 and data["records"] == 200
    assert profile.token_vector().sum() == data["tokens"]["total"]
    data["profile_version"] = 99
    (tmp_path / "v99.json").write_text(json.dumps(data))
    with pytest.raises(AuditError, match="version"):
        load_profile(str(tmp_path / "v99.json"))
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(AuditError, match="JSON"):
        load_profile(str(tmp_path / "junk.json"))
    with pytest.raises(AuditError, match="not found"):
        load_profile(str(tmp_path / "missing.json"))


def test_profile_is_deterministic(tmp_path):
    texts = zipf_texts(800, 5000, 30, seed=17)
    _profile(texts, tmp_path, "a.json")
    _profile(texts, tmp_path, "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
