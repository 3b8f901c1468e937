"""The scan's serial fraction as a user pays it: the main process's share of all CPU of a sharded scan,
counted from process start (interpreter, imports, planning, merging, the report), and the CPU per
record of the whole process tree - optionally for two source trees side by side, in the same run.

    python benchmarks/generate_corpus.py --records 100000 --out /tmp/c100k.jsonl
    split -n l/8 -d --additional-suffix=.jsonl /tmp/c100k.jsonl /tmp/parts/part
    python benchmarks/serial_fraction.py /tmp/parts/*.jsonl --workers 2 --runs 3 [--vs /path/to/older/checkout]

Each run is a fresh ``python -c`` child that puts the source tree first on ``sys.path`` and runs the
command line exactly as the ``collapse-audit`` entry point does (``scan PATHS -w N --format json``).
Just before that interpreter exits (the last ``atexit`` handler, after the worker pool is shut down)
it writes ``os.times()``: its own user+system CPU - the *main process*, from its first instruction -
and that of its reaped descendants - the *workers*. The parent checks the tree's total against
``getrusage(RUSAGE_CHILDREN)``. Reported per tree, median over ``--runs`` (runs of the trees
alternate, so the machine's load falls on both alike):

* ``main_s``       - main process CPU from process start;
* ``workers_s``    - CPU of the worker processes;
* ``main_share``   - main / (main + workers): the serial fraction (issue 18's target: <= 5% at 2 workers);
* ``tree_us_per_record`` - (main + workers) / records, in microseconds: must not rise after a change;
* ``wall_s``       - wall time (says little on a loaded machine).

Each tree's package is byte-compiled first (``compileall``), as ``pip install`` leaves it: a tree whose
modules compile from source on every start (``PYTHONDONTWRITEBYTECODE`` with no ``__pycache__``) would
add about half a second of compiling to every process. The detector's witnesses are pinned to the
trained one (``COLLAPSE_AUDIT_WITNESSES=trained``, read only by trees that know it), so an older tree
and this one do the same work; the language-model witness, where installed, is measured with
``--witnesses-env trained+lm``. Numbers go to BENCHMARKS.md by hand with the
machine and its load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# The child: the source tree first on sys.path, the times written by the last atexit handler to run
# (handlers run in reverse order of registration, so this one follows multiprocessing's own clean-up).
CHILD = """
import atexit, json, os, sys
tree, out = sys.argv[1], sys.argv[2]
sys.path.insert(0, tree)
def _times():
    t = os.times()
    with open(out, "w") as fh:
        json.dump({"main": t.user + t.system, "children": t.children_user + t.children_system}, fh)
atexit.register(_times)
sys.argv = ["collapse-audit", *sys.argv[3:]]
from collapse_audit.cli import main
sys.exit(main())
"""


def one_run(python: str, tree: Path, args: list[str], env: dict[str, str]) -> dict[str, float]:
    """Run the scan once from ``tree``; its CPU split, wall time and record count."""
    with tempfile.TemporaryDirectory() as tmp:
        times_file, report = Path(tmp) / "times.json", Path(tmp) / "report.json"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run([python, "-c", CHILD, str(tree), str(times_file), *args, "-o", str(report)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode not in (0, 1):
            sys.exit(f"scan from {tree} failed ({proc.returncode}): {proc.stderr[-1500:]}")
        times = json.loads(times_file.read_text())
        records = json.loads(report.read_text())["records"]["total"]
    total = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    main, workers = times["main"], times["children"]
    return {"main_s": main, "workers_s": workers, "main_share": main / (main + workers), "wall_s": wall,
            "tree_us_per_record": 1e6 * (main + workers) / records, "records": records,
            "unaccounted_s": total - main - workers}


def summarise(runs: list[dict[str, float]]) -> dict[str, float]:
    """Median of each figure over the runs."""
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def main() -> None:
    """Run the scans, alternating the trees, and print each tree's medians."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--vs", type=Path, help="another source tree (e.g. a checkout of an older commit) to run alike")
    ap.add_argument("--witnesses-env", default="trained", help="COLLAPSE_AUDIT_WITNESSES for the runs")
    ap.add_argument("--python", default=sys.executable)
    opts = ap.parse_args()
    trees = [REPO] + ([opts.vs.resolve()] if opts.vs else [])
    args = ["scan", *opts.paths, "-w", str(opts.workers), "--format", "json", "--quiet"]
    env = {**os.environ, "COLLAPSE_AUDIT_WITNESSES": opts.witnesses_env}
    for tree in trees:
        subprocess.run([opts.python, "-m", "compileall", "-q", str(tree / "collapse_audit")], check=True)
    runs: dict[Path, list[dict[str, float]]] = {t: [] for t in trees}
    for i in range(opts.runs):
        for tree in trees if i % 2 == 0 else trees[::-1]:
            runs[tree].append(one_run(opts.python, tree, args, env))
            print(f"run {i + 1} {tree}: " + ", ".join(f"{k}={v:.4g}" for k, v in runs[tree][-1].items()),
                  file=sys.stderr)
    for tree in trees:
        med = summarise(runs[tree])
        print(f"{tree}  (median of {opts.runs}, {opts.workers} workers, {int(med['records'])} records)")
        print(f"  main process CPU {med['main_s']:.2f} s, workers {med['workers_s']:.2f} s, "
              f"main share {100 * med['main_share']:.1f} %, tree {med['tree_us_per_record']:.0f} us/record, "
              f"wall {med['wall_s']:.1f} s (unaccounted by os.times: {med['unaccounted_s']:.2f} s)")


if __name__ == "__main__":
    main()
