"""Start-up cost of the command line: median CPU time (user + system) of ``--version``, ``--help``
and the commands that only read the check declarations (``rules list``, ``schema policy``).

    python benchmarks/startup.py [--runs 10] [--python PYTHON]

Each run is a fresh ``python -m collapse_audit ARGS`` child; its CPU time is read from
``getrusage(RUSAGE_CHILDREN)`` around it, so the figure counts the interpreter's own start-up as a
user would pay it, and neither the load of other jobs nor waiting for a core. The target (issue 18)
is under 0.25 s for ``--version`` and ``--help`` on the project's 2-core machine; the others have
none. The module count is ``len(sys.modules)`` when the command exits (``-X importtime`` would miss
the modules imported through ``importlib.import_module``: the built-in checks, and numpy or pyarrow
when ``collapse_audit.lazy`` imports them). Numbers go to BENCHMARKS.md by hand with the machine and
load.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys

COMMANDS = (("--version",), ("--help",), ("rules", "list"), ("schema", "policy"))
TARGET_S = 0.25
# Runs the command as ``python -m collapse_audit`` does, then writes how many modules it imported.
COUNT = """
import atexit, runpy, sys
atexit.register(lambda: sys.stderr.write("\\nmodules: %d\\n" % len(sys.modules)))
runpy.run_module("collapse_audit", run_name="__main__", alter_sys=True)
"""


def cpu_seconds(python: str, args: tuple[str, ...]) -> float:
    """User + system CPU of one fresh ``python -m collapse_audit ARGS``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([python, "-m", "collapse_audit", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, "COLUMNS": "100"}, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def module_count(python: str, args: tuple[str, ...]) -> int:
    """How many modules are loaded when the command exits (the interpreter's own included)."""
    proc = subprocess.run([python, "-c", COUNT, *args], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "100"}, check=True)
    return int(next(line for line in proc.stderr.splitlines() if line.startswith("modules: ")).split()[1])


def main() -> int:
    """Print the table; exit 1 when ``--version`` or ``--help`` misses the target."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--python", default=sys.executable, help="The interpreter to measure (default: this one).")
    args = parser.parse_args()
    print(f"| command | median CPU s ({args.runs} runs) | min | max | modules | under {TARGET_S} s |")
    print("| --- | --- | --- | --- | --- | --- |")
    worst = 0.0
    for cmd in COMMANDS:
        cpu_seconds(args.python, cmd)          # warm the file cache and the bytecode
        times = [cpu_seconds(args.python, cmd) for _ in range(args.runs)]
        median = statistics.median(times)
        if cmd[0].startswith("--"):
            worst = max(worst, median)
        target = ("yes" if median < TARGET_S else "no") if cmd[0].startswith("--") else "(none)"
        print(f"| `collapse-audit {' '.join(cmd)}` | {median:.3f} | {min(times):.3f} | {max(times):.3f} | "
              f"{module_count(args.python, cmd)} | {target} |")
    return 0 if worst < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
