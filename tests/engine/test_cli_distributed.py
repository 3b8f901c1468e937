"""The sharded commands end to end: scan --shard/--partial + merge, -w N, --against, bad partials."""

from __future__ import annotations

import json
import subprocess
import sys

import pyarrow.parquet as pq
import pytest
from helpers import REPO, run_cli

SAMPLE = "700"


def _generate(path, records, seed=42):
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "generate_corpus.py"), "--records", str(records),
                    "--out", str(path), "--seed", str(seed)], check=True, capture_output=True)
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dist")
    whole = _generate(tmp / "all.jsonl", 3000)
    lines = whole.read_text(encoding="utf-8").splitlines(keepends=True)
    parts = []
    for k, (a, b) in enumerate(((0, 1200), (1200, 2100), (2100, 3000))):
        p = tmp / f"part{k}.jsonl"
        p.write_text("".join(lines[a:b]), encoding="utf-8")
        parts.append(str(p))
    return tmp, parts


def _json(res):
    assert res.returncode in (0, 1), res.stderr
    out = json.loads(res.stdout)
    out.pop("run")
    return out


def _scan(parts, *args):
    return _json(run_cli("scan", *parts, "-f", "json", "-q", "--sample", SAMPLE, *args))


def _partials(tmp, parts, n, name, *args):
    dirs = []
    for i in range(n):
        d = tmp / f"{name}{i}"
        r = run_cli("scan", *parts, "--shard", f"{i}/{n}", "--partial", d, "-q", "--sample", SAMPLE, *args)
        assert r.returncode == 0, r.stderr
        dirs.append(str(d))
    return dirs


def test_shards_merged_equal_one_scan_and_workers(corpus, tmp_path):
    tmp, parts = corpus
    one = _scan(parts, "-w", "1")
    two = _scan(parts, "-w", "2")
    dirs = _partials(tmp, parts, 4, "p", "-w", "1")
    merged = _json(run_cli("merge", *reversed(dirs), "-f", "json", "-q", "--sample", SAMPLE,
                           "--annotations", tmp_path / "ann.parquet"))
    # identical, per-source diversity included: each source has more token types than its table
    # holds, and the vocabulary sample merges to the same state for any shard plan
    assert merged == two == one
    assert merged["details"]["diversity"]["estimated_sources"]
    assert merged["metrics"]["duplicates.near_count"] > 0 and merged["metrics"]["duplicates.exact_count"] > 0
    ann = pq.read_table(tmp_path / "ann.parquet")
    assert ann.num_rows == 3000 and "seen_before" in ann.column_names


def test_partials_that_do_not_belong_together_are_refused(corpus):
    tmp, parts = corpus
    dirs = _partials(tmp, parts, 2, "q")
    other = _partials(tmp, parts, 2, "s", "--seed", "9")
    r = run_cli("merge", dirs[0], "-f", "json", "-q", "--sample", SAMPLE)
    assert r.returncode == 2 and "1/2 missing" in r.stderr
    r = run_cli("merge", dirs[0], dirs[0], dirs[1], "-f", "json", "-q", "--sample", SAMPLE)
    assert r.returncode == 2 and "both shard 0/2" in r.stderr
    r = run_cli("merge", dirs[0], other[1], "-f", "json", "-q", "--sample", SAMPLE)
    assert r.returncode == 2 and other[1] in r.stderr and "seed" in r.stderr
    r = run_cli("merge", dirs[0], dirs[1], "-f", "json", "-q")          # another detector sample
    assert r.returncode == 2 and "sample" in r.stderr
    r = run_cli("merge", str(tmp), "-q")
    assert r.returncode == 2 and "not a partial scan state" in r.stderr
    r = run_cli("scan", *parts, "--shard", "2/2", "--partial", tmp / "x", "-q")
    assert r.returncode == 2 and "between 0 and N-1" in r.stderr


def test_against_an_earlier_snapshot(corpus, tmp_path):
    tmp, parts = corpus
    state = tmp_path / "earlier"
    r = run_cli("scan", parts[0], "--partial", state, "-q", "--sample", SAMPLE)
    assert r.returncode == 0, r.stderr
    res = _scan([parts[0], parts[1]], "-w", "1", "--against", state, "--annotations", tmp_path / "a.parquet")
    m = res["metrics"]
    assert m["duplicates.against_exact_count"] >= 1200          # every record of part0 was seen
    assert m["duplicates.against_near_count"] >= m["duplicates.against_exact_count"]
    assert m["duplicates.against_near_count"] < 2100
    ann = pq.read_table(tmp_path / "a.parquet").to_pydict()
    assert ann["seen_before"][0] == f"{parts[0]}:1"          # its first line
    assert res["details"]["seen_before"]["earlier"]["records"] == 1200
    r = run_cli("scan", parts[1], "--against", state, "--seed", "3", "-q", "--sample", SAMPLE)
    assert r.returncode == 2 and "--seed" in r.stderr


def test_ray_engine_without_ray_is_a_clear_error(monkeypatch):
    from collapse_audit.engine import ray_engine
    from collapse_audit.errors import AuditError

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(AuditError, match="needs Ray"):
        ray_engine.import_ray()


def test_json_is_identical_for_any_workers_batch_size_and_engine(corpus):
    tmp, parts = corpus
    one = _scan(parts, "-w", "1")
    for args in (("-w", "3"), ("-w", "4"), ("-w", "2", "--batch-size", "97"), ("-w", "1", "--batch-size", "1000")):
        assert _scan(parts, *args) == one, args
    pytest.importorskip("ray", reason="Ray is an optional extra (pip install 'collapse-audit[ray]')")
    assert _scan(parts, "-w", "2", "--engine", "ray") == one
