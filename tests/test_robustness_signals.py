"""Signals and the worker pool: one line, exit 130/143, no orphaned workers, no partial output;
identical results for any worker count and for the fork and spawn start methods."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from helpers import REPO, alive, child_pids, run_cli, words, write_jsonl

from collapse_audit.engine import ScanOptions, parallel, run_scan

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to find child processes")


@pytest.fixture(scope="module")
def big_corpus(tmp_path_factory):
    """Large enough that a 2-worker scan is still running seconds after its workers start."""
    import random

    rng = random.Random(7)
    vocab = [f"w{k}" for k in range(5000)]
    path = tmp_path_factory.mktemp("big") / "big.jsonl"
    write_jsonl(path, [{"id": i, "text": " ".join(rng.choices(vocab, k=60))} for i in range(40000)])
    return path


@pytest.mark.parametrize("signame, code, line, whole_group", [
    ("SIGTERM", 143, "collapse-audit: terminated", False),
    ("SIGINT", 130, "collapse-audit: interrupted", True),   # Ctrl-C reaches every process of the group
])
def test_signal_stops_scan_and_workers_with_one_line(tmp_path, big_corpus, signame, code, line, whole_group):
    out = tmp_path / "report.json"
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    proc = subprocess.Popen([sys.executable, "-m", "collapse_audit", "scan", str(big_corpus), "-w", "2", "-q",
                             "-f", "json", "-o", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=REPO, env=env, start_new_session=True, text=True)
    try:
        deadline = time.monotonic() + 120
        while len(child_pids(proc.pid)) < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # workers busy with batches
        workers = child_pids(proc.pid)
        assert proc.poll() is None, "the scan finished before it could be signalled; enlarge the corpus"
        assert len(workers) >= 2
        sig = getattr(signal, signame)
        if whole_group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == code, err
    assert err.strip().splitlines() == [line], err
    deadline = time.monotonic() + 5
    while any(alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [w for w in workers if alive(w)], "orphaned workers"
    assert os.listdir(tmp_path) == [], "no report and no temp file may be left behind"


def _result(corpus, workers: int) -> dict:
    res = run_scan(ScanOptions(paths=[str(corpus)], workers=workers, progress=False, batch_size=64)).to_dict()
    for k in ("run",):
        res.pop(k)
    return json.loads(json.dumps(res, sort_keys=True, default=str))


def test_spawn_fork_and_one_worker_give_identical_results(tmp_path, monkeypatch):
    recs = [{"id": i, "text": words(i % 150, 50), "provenance": "human" if i % 3 else "synthetic",
             "source": f"s{i % 4}"} for i in range(400)]
    corpus = write_jsonl(tmp_path / "c.jsonl", recs)
    one = _result(corpus, 1)
    monkeypatch.setattr(parallel, "default_start_method", lambda: "fork")
    forked = _result(corpus, 2)
    monkeypatch.setattr(parallel, "default_start_method", lambda: "spawn")
    spawned = _result(corpus, 3)
    assert one["metrics"]["duplicates.exact_fraction"] > 0  # the corpus has duplicates to find
    assert forked == one
    assert spawned == one


def test_workers_are_gone_after_an_error_in_the_pipeline(tmp_path):
    """A bad record mid-stream with 2 workers: exit 2, one line (no worker traceback)."""
    recs = [{"id": i, "text": words(i)} for i in range(3000)] + ["{broken"]
    corpus = write_jsonl(tmp_path / "c.jsonl", recs)
    proc = run_cli("scan", corpus, "-w", "2", "-q", "--batch-size", "100")
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "line 3001" in proc.stderr


_HALF_SENT_RESULT = """
import os, struct, sys, time
from concurrent.futures import ProcessPoolExecutor
import multiprocessing
from collapse_audit.engine import parallel

POOL = None

def half_send():
    # what a worker killed in the middle of sending its state leaves in the result pipe
    os.write(POOL._result_queue._writer.fileno(), struct.pack("!i", 1 << 20) + b"x" * 64)
    time.sleep(600)

if __name__ == "__main__":
    POOL = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
    fut = POOL.submit(half_send)
    while not POOL._processes:
        time.sleep(0.05)
    time.sleep(1.0)  # the manager thread is now blocked reading the rest of the message
    parallel._terminate(POOL)
    print("stopped")
"""


def test_terminating_workers_mid_send_does_not_hang_the_exit(tmp_path):
    """The cause of the Ctrl-C hang, made deterministic: a worker dies after sending half of its result.

    The pool's manager thread then waits for the other half; stopping the pool must still return
    and the interpreter must still exit (it joins that thread at exit)."""
    script = tmp_path / "half_sent.py"
    script.write_text(_HALF_SENT_RESULT)
    proc = subprocess.run([sys.executable, str(script)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "stopped"
