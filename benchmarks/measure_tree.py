"""Run one command and measure its whole process tree: wall time, CPU time, peak RSS and PSS, and
how far it has read its input - written to a JSON file every few seconds, so a run that is
stopped early still leaves an honest partial measurement.

    python benchmarks/measure_tree.py --out benchmarks/out/scan10m.json -- \\
        python -m collapse_audit scan benchmarks/data/c10m -f json -o /dev/null --workers 2 -q

* RSS of a tree counts pages shared between a parent and its forked workers once per process;
  PSS (``/proc/PID/smaps_rollup``) divides each shared page among its sharers, so the PSS sum
  over the tree is the tree's real footprint.
* CPU time is user + system of every process of the tree (``/proc/PID/stat`` while running,
  ``wait4`` rusage of the finished tree at the end).
* Progress: for each input file the tree has open (``/proc/PID/fd`` links into ``--watch``), the
  read offset from ``/proc/PID/fdinfo``; files are listed in the order first seen.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants alive now (from ``/proc/PID/task/*/children``)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out


def _kb(path: str, key: str) -> int:
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by one process; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK       # utime + stime
    except (OSError, IndexError, ValueError):
        return 0.0


def read_positions(pids: list[int], watch: str) -> dict[str, int]:
    """Furthest read offset per file under ``watch`` open in any of ``pids`` (the input progress)."""
    pos: dict[str, int] = {}
    for p in pids:
        try:
            fds = os.listdir(f"/proc/{p}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{p}/fd/{fd}")
                if not target.startswith(watch):
                    continue
                with open(f"/proc/{p}/fdinfo/{fd}") as f:
                    off = int(f.readline().split()[1])
            except (OSError, ValueError, IndexError):
                continue
            pos[target] = max(pos.get(target, 0), off)
    return pos


def main(argv=None) -> int:
    """Run the command, sampling its tree until it exits; returns the command's exit status."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="JSON file rewritten every --every seconds")
    ap.add_argument("--watch", default="", help="directory whose open files show progress")
    ap.add_argument("--every", type=float, default=2.0)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args(argv)
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    watch = os.path.realpath(args.watch) if args.watch else None
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd)
    state = {"command": " ".join(cmd), "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
             "load_start": os.getloadavg(), "peak_rss_tree_mib": 0.0, "peak_pss_tree_mib": 0.0,
             "peak_rss_main_mib": 0.0, "files_seen": [], "positions": {}, "done": False}
    cpu_seen: dict[int, float] = {}
    last = 0.0
    while True:
        rc = proc.poll()
        pids = tree(proc.pid) if rc is None else []
        rss = [_kb(f"/proc/{p}/status", "VmRSS:") for p in pids]
        pss = sum(_kb(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids)
        for p in pids:
            cpu_seen[p] = max(cpu_seen.get(p, 0.0), cpu_s(p))
        if pids:
            state["peak_rss_tree_mib"] = max(state["peak_rss_tree_mib"], sum(rss) / 1024)
            state["peak_rss_main_mib"] = max(state["peak_rss_main_mib"], rss[0] / 1024)
            state["peak_pss_tree_mib"] = max(state["peak_pss_tree_mib"], pss / 1024)
        if watch and pids:
            for name, off in read_positions(pids, watch).items():
                if name not in state["files_seen"]:
                    state["files_seen"].append(name)
                state["positions"][name] = off
        now = time.perf_counter()
        state["wall_s"] = round(now - t0, 1)
        state["cpu_s_seen"] = round(sum(cpu_seen.values()), 1)
        if rc is not None:
            ch = resource.getrusage(resource.RUSAGE_CHILDREN)
            state.update(done=True, returncode=rc, cpu_s=round(ch.ru_utime + ch.ru_stime, 1),
                         load_end=os.getloadavg())
        if rc is not None or now - last >= args.every:
            state["load_now"] = os.getloadavg()
            tmp = args.out + ".tmp"
            with open(tmp, "w") as f:
                json.dump(state, f, indent=1)
            os.replace(tmp, args.out)
            last = now
        if rc is not None:
            return rc
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
