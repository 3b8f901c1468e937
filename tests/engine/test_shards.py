"""Shards, partial states and the local engine's per-worker shards give what one scan gives."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from helpers import write_jsonl, zipf_texts

from collapse_audit.checks import build_checks
from collapse_audit.checks.synthetic import DetectorOptions
from collapse_audit.config import FieldMap, ScanConfig
from collapse_audit.engine.excerpts import fill_excerpts
from collapse_audit.engine.local import scan_sharded
from collapse_audit.engine.partials import check_partials, load_partial, manifest_for, read_manifest, save_partial
from collapse_audit.engine.scan import scan_resources
from collapse_audit.engine.shards import Piece, plan_shards, scan_shard, shard_batches
from collapse_audit.errors import AuditError
from collapse_audit.readers import BadRecordSink, discover


def _rows(n, seed):
    rng = random.Random(seed)
    texts = zipf_texts(n, 3000, 40, seed=seed)
    rows = [{"id": i, "text": t, "source": f"s{i % 4}", "provenance": "human"} for i, t in enumerate(texts)]
    for _ in range(30):
        a, b = rng.randrange(n), rng.randrange(n)
        rows[b]["text"] = rows[a]["text"]
    for _ in range(30):
        a, b = rng.randrange(n), rng.randrange(n)
        w = rows[a]["text"].split()
        w[3] = "zzz"
        rows[b]["text"] = " ".join(w)
    return rows


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("shards")
    rows = _rows(900, 4)
    paths = [write_jsonl(tmp / f"part{k}.jsonl", rows[k * 300:(k + 1) * 300]) for k in range(3)]
    files = discover([str(p) for p in paths])
    config = ScanConfig(fields=FieldMap(), options={"detector": DetectorOptions(sample=250)}, seed=5, batch_size=64)
    return tmp, files, config, scan_resources(config, files, None)


def _summary(state, files, config):
    fill_excerpts(state.checks, files, config.fields.text)
    out = {}
    for c in state.checks:
        r = c.finish()
        out[c.name] = {"metrics": r.metrics, "details": r.details,
                       "flags": {k: v.tolist() for k, v in r.flags.items()}}
    out["sources"] = state.sources.array().tolist()
    out["reading"] = [state.total, sorted(state.per_file.items()),
                      [state.stats.entry(i) for i in range(len(files))], sorted(state.stats.present)]
    return json.loads(json.dumps(out, sort_keys=True, default=str))


def _one(files, config, resources):
    return scan_shard(files, plan_shards(files, 1)[0], config, build_checks(config, resources), 0, False)


@pytest.mark.parametrize("n", [2, 3, 5, 7])
def test_shards_cover_every_record_once_in_order(corpus, n):
    _, files, config, _ = corpus
    expected = [(b.file_index, r) for b in shard_batches(files, plan_shards(files, 1)[0], config, BadRecordSink())
                for r in b.rows]
    got = []
    for pieces in plan_shards(files, n, min_rows=50):
        starts = []
        for b in shard_batches(files, pieces, config, BadRecordSink()):
            starts.append(b.start)
            got += [(b.file_index, r) for r in b.rows]
        assert starts == sorted(starts) and (not starts or starts[0] == 0)
    assert got == expected
    assert len(plan_shards(files, n, min_rows=50)) == n


def test_row_ranges_split_one_file():
    shards = plan_shards([object()] * 1, 3, slots=[10], min_rows=1)
    assert shards == [[Piece(0, 0, 3)], [Piece(0, 3, 6)], [Piece(0, 6, None)]]
    assert plan_shards([object()] * 1, 3, slots=[10]) == [[Piece(0)], [], []]     # too small to cut
    assert plan_shards([object()] * 2, 3, slots=[0, 0]) == [[Piece(0), Piece(1)], [], []]


@pytest.mark.parametrize("n", [2, 5])
def test_partials_merge_to_one_scan(corpus, n):
    tmp, files, config, resources = corpus
    expected = _summary(_one(files, config, resources), files, config)
    dirs = []
    for i, pieces in enumerate(plan_shards(files, n, min_rows=50)):
        state = scan_shard(files, pieces, config, build_checks(config, resources), 0, False)
        d = str(tmp / f"p{n}-{i}")
        save_partial(d, state, manifest_for((i, n), [f.path for f in files], [], "abc", config.seed, {}))
        dirs.append(d)
    ordered = check_partials([(d, read_manifest(d)) for d in reversed(dirs)])
    merged = None
    for d, m in ordered:
        s = load_partial(d, m, config, resources)
        merged = s if merged is None else (merged.merge(s) or merged)
    assert _summary(merged, files, config) == expected

    broken = [(d, read_manifest(d)) for d in dirs]
    with pytest.raises(AuditError, match="missing"):
        check_partials(broken[:-1])
    with pytest.raises(AuditError, match="both shard 0"):
        check_partials([broken[0], *broken])
    other = dict(broken[1][1], policy_sha256="def")
    with pytest.raises(AuditError, match=rf"{dirs[1]} does not match .*policy_sha256"):
        check_partials([broken[0], (dirs[1], other), *broken[2:]])


def test_not_a_partial(tmp_path):
    with pytest.raises(AuditError, match="not a partial scan state"):
        read_manifest(str(tmp_path))


def test_worker_shards_merge_to_one_scan(corpus):
    _, files, config, resources = corpus
    expected = _summary(_one(files, config, resources), files, config)
    state = scan_sharded(files, config, resources, workers=2, max_bad=0, annotations=False)
    assert _summary(state, files, config) == expected
    assert np.array_equal(state.sources.array(), _one(files, config, resources).sources.array())


@pytest.mark.parametrize("shards", [2, 4])
def test_key_partitioned_merge_equals_one_scan(corpus, shards):
    """The distributed plan (map shards, reduce key partitions) run in one process."""
    from collapse_audit.engine.distributed import InProcess, run_distributed

    _, files, config, resources = corpus
    expected = _summary(_one(files, config, resources), files, config)
    state = run_distributed(InProcess(), files, config, resources, shards=shards, max_bad=0, annotations=False,
                            reducers=3)
    assert _summary(state, files, config) == expected
