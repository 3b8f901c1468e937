"""`--engine ray` on a local 2-CPU Ray cluster gives the local engine's JSON (20k generated records)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from helpers import REPO

ray = pytest.importorskip("ray", reason="Ray is an optional extra (pip install 'collapse-audit[ray]')")

from collapse_audit.engine import ScanOptions, run_scan  # noqa: E402


@pytest.fixture
def cluster(ray_cluster):
    return ray_cluster


def _json(opts):
    out = json.loads(run_scan(opts).to_json())
    return out.pop("run"), out


def test_ray_engine_json_equals_local_engine(cluster, tmp_path):
    corpus = tmp_path / "c20k.jsonl"
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "generate_corpus.py"), "--records", "20000",
                    "--out", str(corpus)], check=True, capture_output=True)
    run_local, local = _json(ScanOptions(paths=[str(corpus)], workers=2, progress=False))
    run_ray, distributed = _json(ScanOptions(paths=[str(corpus)], workers=2, engine="ray", progress=False))
    assert run_ray["engine"] == "ray" and "engine" not in run_local
    assert distributed == local
    assert local["metrics"]["duplicates.near_count"] > 500 and local["metrics"]["records.total"] == 20000
