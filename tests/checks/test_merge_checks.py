"""Shard states merge into exactly what one scan gives, for every registered check.

A corpus with planted exact and near duplicates (copies far apart, so clusters straddle shards),
sources, provenance tags, personal data, an eval set and a baseline is scanned once, and again as
2-4 shards cut at random record positions: each shard observed by fresh checks with indices
starting at 0, saved with ``to_state`` (through an ``.npz`` and JSON, as a partial directory holds
it), loaded with ``from_state`` and merged in order; the few excerpts no shard kept are read back
(``engine.excerpts``). Every check's metrics, details (excerpts included), annotation columns, flags
and per-source ``metrics_for`` must be identical.
"""

from __future__ import annotations

import io
import json
import math
import random
from dataclasses import replace

import numpy as np
import pyarrow as pa
import pytest
from helpers import write_jsonl, zipf_texts

from collapse_audit.checks import build_checks, registered
from collapse_audit.checks.base import CheckContext
from collapse_audit.checks.diversity import DiversityOptions
from collapse_audit.checks.exact_duplicates import ExactDuplicates
from collapse_audit.checks.near_duplicates import NearDuplicates
from collapse_audit.checks.synthetic import DetectorOptions
from collapse_audit.config import FieldMap, ScanConfig
from collapse_audit.engine.against import load_previous
from collapse_audit.engine.excerpts import fill_excerpts
from collapse_audit.engine.partials import manifest_for, save_partial
from collapse_audit.engine.scan import read_batches, scan_resources
from collapse_audit.engine.shards import plan_shards, scan_shard
from collapse_audit.engine.sources import SourceIndex
from collapse_audit.readers import BadRecordSink, discover
from collapse_audit.signals.profile import ProfileBuilder, save_profile
from collapse_audit.sketches.frequent import FrequentItems


def _corpus(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    texts = zipf_texts(n, 4000, 50, seed=seed)
    rows = []
    for i, t in enumerate(texts):
        rows.append({"id": i, "text": t, "source": f"s{i % 3}" if i % 11 else None,
                     "provenance": rng.choice(["human", "synthetic", "human", None, "odd-tag"]),
                     "license": rng.choice(["mit", "cc-by", "proprietary"])})
    for _ in range(60):                       # exact copies, far apart
        a, b = rng.randrange(n), rng.randrange(n)
        rows[b]["text"] = rows[a]["text"]
    for _ in range(60):                       # near copies (one word changed), far apart
        a, b = rng.randrange(n), rng.randrange(n)
        words = rows[a]["text"].split()
        words[rng.randrange(len(words))] = "changed"
        rows[b]["text"] = " ".join(words)
    for k in range(8):                        # a family of templated near copies
        rows[rng.randrange(n)]["text"] = rows[7]["text"] + f" tail{k}"
    rows[5]["text"] += " write to jane.doe@example.org or call +1 555-123-4567"
    rows[n - 3]["text"] += " server at 10.1.2.3"
    rows[9]["text"] = ""
    return rows


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("merge")
    rows = _corpus(1500, seed=1)
    write_jsonl(tmp / "a.jsonl", rows[:700])
    write_jsonl(tmp / "b.jsonl", rows[700:])
    ev = write_jsonl(tmp / "eval.jsonl", [{"text": rows[i]["text"]} for i in (3, 400, 1200)]
                     + [{"text": t} for t in zipf_texts(20, 4000, 50, seed=9)])
    builder = ProfileBuilder()
    fields = FieldMap(source="source", license="license", license_allowlist=("mit", "cc-by"),
                      required=("source",), id="id")
    base_rows = _corpus(400, seed=2)
    from helpers import make_batches

    for b in make_batches([r["text"] for r in base_rows], 128):
        builder.add(b)
    save_profile(builder.build(), str(tmp / "base.json"))
    options = {"detector": DetectorOptions(sample=600),
               "diversity": DiversityOptions(sample=300)}
    config = ScanConfig(fields=fields, options=options, seed=3, batch_size=53,
                        baseline=str(tmp / "base.json"), eval_sets=(str(ev),))
    files = discover([str(tmp / "a.jsonl"), str(tmp / "b.jsonl")])
    resources = scan_resources(config, files)
    resources["previous"] = _previous(tmp, rows, config)
    batches = list(read_batches(files, config, BadRecordSink()))
    return config, resources, batches, files


def _previous(tmp, rows, config):
    """An earlier snapshot sharing some records (exactly, and with one word changed)."""
    earlier = _corpus(300, seed=7)
    for k in range(0, 40, 2):
        earlier[k]["text"] = rows[k * 30]["text"]
        w = rows[k * 30 + 1]["text"].split()
        w[0] = "earlier"
        earlier[k + 1]["text"] = " ".join(w)
    path = write_jsonl(tmp / "earlier.jsonl", earlier)
    files = discover([str(path)])
    state = scan_shard(files, plan_shards(files, 1)[0], config,
                       [ExactDuplicates.from_config(config), NearDuplicates.from_config(config)], 0, False)
    save_partial(str(tmp / "earlier-state"), state, manifest_for((0, 1), [str(path)], [], "x", config.seed, {}))
    return load_previous(str(tmp / "earlier-state"), config)


def _observe(checks, batches, offset=0):
    sources = SourceIndex("source")
    for b in batches:
        b = replace(b, start=b.start - offset)
        for c in checks:
            c.observe(b, c.prepare(b))
        sources.observe(b)
    return sources


def _through_disk(check, config, resources):
    """to_state -> .npz + JSON bytes -> from_state, as a partial directory stores it."""
    arrays, meta = check.to_state()
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    buf.seek(0)
    loaded = np.load(buf, allow_pickle=False)
    meta = json.loads(json.dumps(meta))
    ctx = CheckContext(fields=config.fields, options=type(check).options_from(config), seed=config.seed,
                       resources=resources)
    return type(check).from_state(ctx, loaded, meta)


def _plain(v):
    if isinstance(v, (pa.Array, pa.ChunkedArray)):
        return v.to_pylist()
    if isinstance(v, np.ndarray):
        return [None if isinstance(x, float) and math.isnan(x) else x for x in v.tolist()]
    return v


def _same(a, b, where):
    assert json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str), where


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_sharded_states_merge_to_one_scan(setup, seed):
    _split_and_compare(setup, seed)


def _split_and_compare(setup, seed):
    """Scan once and as 2-4 shards; assert identical results; return how many texts were read back."""
    config, resources, batches, files = setup
    one = build_checks(config, resources)
    assert {c.name for c in one} == {c.name for c in registered()}, "every registered check runs"
    one_sources = _observe(one, batches)
    expected = {c.name: c.finish() for c in one}
    seen = expected["seen_before"].metrics
    assert seen["duplicates.against_exact_count"] >= 20 - 2          # planted (a copy may be overwritten)
    assert seen["duplicates.against_near_count"] >= seen["duplicates.against_exact_count"] + 15

    rng = random.Random(seed)
    k = rng.randint(2, 4)
    cuts = sorted(rng.sample(range(1, len(batches)), k - 1))
    shards = [batches[a:b] for a, b in zip([0, *cuts], [*cuts, len(batches)], strict=False)]
    merged = None
    merged_sources = None
    for shard in shards:
        checks = build_checks(config, resources)
        srcs = _observe(checks, shard, offset=shard[0].start)
        checks = [_through_disk(c, config, resources) for c in checks]
        srcs = SourceIndex.from_state(*srcs.to_state())
        if merged is None:
            merged, merged_sources = checks, srcs
        else:
            for mine, theirs in zip(merged, checks, strict=False):
                mine.merge(theirs)
            merged_sources.merge(srcs)
    fetched = fill_excerpts(merged, files, config.fields.text)
    assert fill_excerpts(one, files, config.fields.text) == 0, "one scan keeps every excerpt it shows"
    got = {c.name: c.finish() for c in merged}

    assert np.array_equal(one_sources.array(), merged_sources.array())
    assert one_sources.names == merged_sources.names
    for name, exp in expected.items():
        res = got[name]
        _same(exp.metrics, res.metrics, f"{name} metrics")
        _same(exp.details, res.details, f"{name} details")
        assert exp.columns.keys() == res.columns.keys()
        for col in exp.columns:
            assert _plain(exp.columns[col]) == _plain(res.columns[col]), f"{name} column {col}"
        assert exp.flags.keys() == res.flags.keys()
        for metric in exp.flags:
            assert np.array_equal(exp.flags[metric], res.flags[metric]), f"{name} flags {metric}"
    _check_sources(one, merged, one_sources)
    return fetched


def test_some_excerpts_only_exist_across_shards(setup):
    """The corpus does plant pairs that straddle shards: a two-way split needs texts read back."""
    assert sum(_split_and_compare(setup, seed) for seed in (0, 1)) > 0


def _check_sources(one, merged, one_sources):
    for src in one_sources.names:
        mask = one_sources.mask(src)
        for a, b in zip(one, merged, strict=True):
            _same(a.metrics_for(mask), b.metrics_for(mask), f"{a.name} metrics_for {src}")


def test_frequent_items_merge_keeps_the_stated_bound():
    """Past overflow the merged table is a mergeable summary: each stored count is low by at most
    ``error`` and never high; absent items occurred at most ``error`` times."""
    rng = np.random.default_rng(0)
    streams = [np.minimum(rng.zipf(1.2, 20000), 5000).astype(np.uint64) for _ in range(3)]
    merged = None
    for s in streams:
        t = FrequentItems(64)
        for chunk in np.array_split(s, 10):
            keys, counts = np.unique(chunk, return_counts=True)
            t.update(keys, counts)
        merged = t if merged is None else (merged.merge(t) or merged)
    truth_keys, truth = np.unique(np.concatenate(streams), return_counts=True)
    true_count = dict(zip(truth_keys.tolist(), truth.tolist(), strict=False))
    assert merged.total == sum(len(s) for s in streams)
    assert merged.error > 0
    for key, count, corr in zip(merged.keys.tolist(), merged.counts.tolist(), merged.corrected().tolist(),
                                 strict=True):
        assert true_count[key] - merged.error <= count <= true_count[key]
        assert count <= corr <= true_count[key]
    stored = set(merged.keys.tolist())
    assert all(c <= merged.error for k, c in true_count.items() if k not in stored)


def test_known_lsh_params_are_datasketchs():
    """The table that spares a scan the datasketch import gives datasketch's own choice."""
    lsh = pytest.importorskip("datasketch.lsh", reason="datasketch is a test extra")
    from collapse_audit.checks.near_duplicates import KNOWN_LSH_PARAMS

    for (threshold, num_perm), params in KNOWN_LSH_PARAMS.items():
        assert lsh._optimal_param(threshold, num_perm, 0.5, 0.5) == params
