"""How the whole scan scales with workers, local engine vs Ray: wall time, the main process's share
of CPU time, peak memory of the process tree (PSS) and whether the results are identical.

    python benchmarks/generate_corpus.py --records 100000 --out /tmp/c100k.jsonl
    split -n l/8 -d --additional-suffix=.jsonl /tmp/c100k.jsonl /tmp/parts/part
    nice -n 10 python benchmarks/scaling.py /tmp/parts/*.jsonl --workers 1,2 --engines local,ray

Each configuration runs in a fresh child process (``--one``), which runs ``run_scan`` in-process and
measures:

* ``wall_s``       - the scan's wall time;
* ``main_cpu_s``   - user+system CPU of the main (driver) process during the scan, less the
  measuring thread's own;
* ``workers_cpu_s``- user+system CPU of its descendants: the local workers (reaped children), or
  the local Ray cluster's processes (the last /proc value seen of each, sampled every 0.5 s);
* ``main_share``   - main / (main + workers);
* ``peak_pss_mib`` - the largest sum of PSS (``/proc/PID/smaps_rollup``: shared pages split between
  the processes that map them, so not double counted) over the process and all its descendants,
  sampled every 0.5 s;
* ``result_sha``   - SHA-256 of the JSON result without ``run``; equal values mean identical results.

The machine, its load and the command go to ``benchmarks/SCALING.md`` by hand.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(entry))
    return out


def _tree(pid: int) -> list[int]:
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo.extend(_children(p))
    return seen


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_s(pid: int) -> float:
    """utime + stime (+ reaped children's) of one process, from /proc."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            f = fh.read().rsplit(")", 1)[1].split()
        return sum(int(x) for x in f[11:15]) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


class PeakPss(threading.Thread):
    """Samples the process tree: peak total PSS, and the last CPU time seen of every descendant
    (Ray's processes are not this process's reaped children). Its own CPU time is reported so it
    can be taken out of the main process's."""

    def __init__(self, pid: int, every: float = 0.5):
        super().__init__(daemon=True)
        self.pid, self.every, self.peak, self.done = pid, every, 0, threading.Event()
        self.cpu: dict[int, float] = {}
        self.own_cpu = 0.0

    def run(self) -> None:
        """Sample until told to stop."""
        t0 = time.thread_time()
        while not self.done.is_set():
            tree = _tree(self.pid)
            self.peak = max(self.peak, sum(_pss_kib(p) for p in tree))
            for p in tree:
                if p != self.pid:
                    self.cpu[p] = max(self.cpu.get(p, 0.0), _cpu_s(p))
            self.done.wait(self.every)
        self.own_cpu = time.thread_time() - t0


def _cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def one(paths: list[str], engine: str, workers: int) -> dict:
    """Run one scan in this process and measure it."""
    sys.path.insert(0, str(REPO))
    from collapse_audit.engine import ScanOptions, run_scan

    opts = ScanOptions(paths=paths, workers=workers, engine=engine, progress=False)
    sampler = PeakPss(os.getpid())
    sampler.start()
    main0, kids0, t0 = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN), time.perf_counter()
    result = run_scan(opts)
    wall = time.perf_counter() - t0
    main = _cpu(resource.RUSAGE_SELF) - main0
    sampler.done.set()
    sampler.join()
    main -= sampler.own_cpu
    if engine == "ray":
        import ray

        ray.shutdown()
    kids = max(_cpu(resource.RUSAGE_CHILDREN) - kids0, sum(sampler.cpu.values()))
    doc = json.loads(result.to_json())
    doc.pop("run")
    return {"engine": engine, "workers": workers, "records": doc["metrics"]["records.total"],
            "wall_s": round(wall, 2), "main_cpu_s": round(main, 2), "workers_cpu_s": round(kids, 2),
            "main_share": round(main / (main + kids), 4) if main + kids else None,
            "peak_pss_mib": round(sampler.peak / 1024, 1),
            "result_sha": hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]}


def main() -> None:
    """Run every configuration in a fresh process and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--engines", default="local")
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", default=None, help="Append the rows as JSON lines to this file.")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.paths, args.engines, int(args.workers))))
        return
    rows = []
    for engine in args.engines.split(","):
        for w in (int(x) for x in args.workers.split(",")):
            p = subprocess.run([sys.executable, __file__, "--one", "--engines", engine, "--workers", str(w),
                                *args.paths], capture_output=True, text=True)
            if p.returncode != 0:
                print(f"{engine} w={w}: failed\n{p.stderr[-2000:]}", file=sys.stderr)
                continue
            row = json.loads(p.stdout.strip().splitlines()[-1])
            row["loadavg"] = os.getloadavg()[0]
            rows.append(row)
            print(json.dumps(row), flush=True)
            if args.out:
                with open(args.out, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(row) + "\n")
    base = {r["engine"]: r for r in rows if r["workers"] == 1}
    for r in rows:
        b = base.get(r["engine"])
        if b:
            r["speedup"] = round(b["wall_s"] / r["wall_s"], 2)
    print("\n| engine | workers | wall (s) | speed-up | main share of CPU | peak PSS (MiB) | result |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['engine']} | {r['workers']} | {r['wall_s']} | {r.get('speedup', '')} | "
              f"{r['main_share']:.1%} | {r['peak_pss_mib']} | {r['result_sha']} |")


if __name__ == "__main__":
    main()
