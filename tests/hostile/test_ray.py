"""``--engine ray`` under hostile conditions, and the shard/merge property extended to Ray and
``--against``: one local Ray cluster for the in-process tests of this module, a fixed number of
examples, and CLI runs that must end with one line, the right exit code and no orphan process.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import pytest
from helpers import REPO, alive, descendant_pids, process_names, run_cli, write_jsonl, zipf_texts

ray = pytest.importorskip("ray", reason="Ray is an optional extra (pip install 'collapse-audit[ray]')")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from collapse_audit.engine import ScanOptions, run_scan  # noqa: E402
from collapse_audit.engine.merge import run_merge, run_partial  # noqa: E402
from collapse_audit.errors import AuditError  # noqa: E402

from .conftest import assert_one_clean_line  # noqa: E402

SAMPLE = 60


def _rows(n: int, seed: int, dups: int) -> list[dict]:
    rng = random.Random(seed)
    rows = [{"id": f"{seed}-{i}", "text": t, "source": f"s{i % 3}", "provenance": "human"}
            for i, t in enumerate(zipf_texts(n, 2000, 30, seed=seed))]
    for _ in range(dups):                        # exact and near copies, across shard boundaries
        a, b = rng.randrange(n), rng.randrange(n)
        words = rows[a]["text"].split()
        if rng.random() < 0.5:
            words[2] = "zzz"
        rows[b]["text"] = " ".join(words)
    return rows


def _comparable(result) -> dict:
    out = json.loads(result.to_json())
    out.pop("run")
    return out


@pytest.fixture(scope="module")
def cluster():
    """One local 2-CPU cluster for the module (the in-process engine runs join it)."""
    if ray.is_initialized():
        ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def workdir():
    d = Path(tempfile.mkdtemp(prefix="ray-props-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _opts(paths, **kw) -> ScanOptions:
    return ScanOptions(paths=[str(p) for p in paths], workers=1, progress=False, sample=SAMPLE, batch_size=32,
                       select=["CA201"], **kw)


@settings(max_examples=3, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(n=st.integers(60, 140), seed=st.integers(0, 10_000), dups=st.integers(0, 25), shards=st.integers(2, 4))
def test_one_scan_shards_merged_and_ray_agree_also_against_an_earlier_state(cluster, workdir, n, seed, dups,
                                                                             shards):
    case = workdir / f"{n}-{seed}-{dups}-{shards}"
    case.mkdir()
    earlier_rows = _rows(n // 2, seed + 1, 0)
    rows = _rows(n, seed, dups) + earlier_rows[: n // 4]          # some records were seen before
    corpus = [write_jsonl(case / "a.jsonl", rows[: n // 2]), write_jsonl(case / "b.jsonl", rows[n // 2:])]
    earlier = write_jsonl(case / "earlier.jsonl", earlier_rows)
    state = str(case / "state")
    run_partial(_opts([earlier], partial=state))

    for against in (None, state):
        one = _comparable(run_scan(_opts(corpus, against=against)))
        dirs = []
        for i in range(shards):
            d = str(case / f"p{i}-{bool(against)}")
            run_partial(_opts(corpus, shard=(i, shards), partial=d, against=against))
            dirs.append(d)
        merged = _comparable(run_merge(_opts([], against=against), dirs[::-1]))
        on_ray = _comparable(run_scan(_opts(corpus, against=against, engine="ray")))
        assert merged == one
        assert on_ray == one
        if against:
            assert one["metrics"]["duplicates.against_exact_count"] >= n // 4


def test_ray_engine_refuses_to_write_a_shard(cluster, tmp_path):
    corpus = write_jsonl(tmp_path / "c.jsonl", _rows(20, 1, 0))
    with pytest.raises(AuditError, match="--engine ray .* --shard/--partial"):
        run_partial(replace(_opts([corpus], shard=(0, 2), partial=str(tmp_path / "p")), engine="ray"))
    assert not (tmp_path / "p").exists()


# ---- the CLI: one line, the right exit code, no orphan ---------------------------------------------

def test_bad_record_under_ray_is_one_clean_line(tmp_path):
    corpus = write_jsonl(tmp_path / "c.jsonl", [{"id": i, "text": f"record {i} " * 8} for i in range(200)]
                         + ["{broken"])
    proc = run_cli("scan", corpus, "--engine", "ray", "-q")
    assert proc.returncode == 2
    assert_one_clean_line(proc.stderr, str(corpus), "line 201")


def test_quiet_ray_scan_prints_nothing_but_the_report(tmp_path):
    """Valid input: the Ray scan gives the local result, and -q leaves stderr empty (no Ray log line)."""
    corpus = write_jsonl(tmp_path / "c.jsonl", _rows(80, 3, 10))
    there = run_cli("scan", corpus, "--engine", "ray", "-q", "-f", "json", "--exit-zero", "--sample", str(SAMPLE))
    here = run_cli("scan", corpus, "-w", "1", "-q", "-f", "json", "--exit-zero", "--sample", str(SAMPLE))
    assert there.returncode == 0 and there.stderr == "", there.stderr
    a, b = json.loads(there.stdout), json.loads(here.stdout)
    a.pop("run"), b.pop("run")
    assert a == b


def test_ray_address_with_nothing_listening_is_one_line():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]                 # closed again: nothing listens there
    proc = run_cli("scan", REPO / "sample_data", "--engine", "ray", "--ray-address", f"127.0.0.1:{port}", "-q",
                   env={"COLLAPSE_AUDIT_REMOTE_TIMEOUT": "3"})
    assert proc.returncode == 2
    assert_one_clean_line(proc.stderr, f"127.0.0.1:{port}", "COLLAPSE_AUDIT_REMOTE_TIMEOUT")


def test_ray_address_that_is_not_a_ray_cluster_is_one_line():
    with socket.socket() as s:                     # accepts (backlog), never speaks
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        address = f"127.0.0.1:{s.getsockname()[1]}"
        proc = run_cli("scan", REPO / "sample_data", "--engine", "ray", "--ray-address", address, "-q",
                       env={"COLLAPSE_AUDIT_REMOTE_TIMEOUT": "2"})
    assert proc.returncode == 2
    assert_one_clean_line(proc.stderr, address)


def test_shard_with_ray_is_refused_before_reading(tmp_path):
    proc = run_cli("scan", REPO / "sample_data", "--engine", "ray", "--shard", "0/2", "--partial", tmp_path / "p")
    assert proc.returncode == 2
    assert_one_clean_line(proc.stderr, "--engine ray", "--shard")
    assert not (tmp_path / "p").exists()


def test_sigterm_during_a_ray_scan_exits_143_and_leaves_no_process(tmp_path):
    corpus = write_jsonl(tmp_path / "big.jsonl", _rows(6000, 5, 50))
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    proc = subprocess.Popen([sys.executable, "-m", "collapse_audit", "scan", str(corpus), "--engine", "ray", "-q",
                             "-f", "json", "-o", str(tmp_path / "r.json")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=REPO, env=env, start_new_session=True, text=True)
    try:
        deadline = time.monotonic() + 240
        while "raylet" not in process_names(descendant_pids(proc.pid)) and proc.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(3.0)                             # the cluster is up; the driver is connecting or scanning
        family = descendant_pids(proc.pid)
        assert proc.poll() is None, "the scan ended before it could be signalled"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 143, err
    assert err.strip().splitlines()[-1] == "collapse-audit: terminated", err
    assert "Traceback" not in err
    deadline = time.monotonic() + 30
    while any(alive(p) for p in family) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [p for p in family if alive(p)]
    for p in left:                                  # never leave them behind, even when failing
        os.kill(p, signal.SIGKILL)
    assert not left, f"orphaned processes: {process_names(set(left))}"
    assert not (tmp_path / "r.json").exists()
