"""Scan throughput and memory, side by side with MinHash libraries (signatures only).

    python benchmarks/run.py --corpus benchmarks/data/c100k.jsonl [--corpus-large benchmarks/data/c1m.jsonl]

Measures, on the same machine and the same data:

* ``collapse-audit scan FILE --format json -o /dev/null --workers W`` — whole scan, default
  detector and policy (skipped with a note if the CLI cannot run);
* ``dup-checks`` — the two duplicate checks alone through the engine's reader and worker pool
  (``collapse_audit.engine.parallel``), i.e. the part this benchmark is about;
* competitors, signatures only (128 permutations, 5-word shingles of lower-cased ``\\w+`` tokens,
  from texts already in memory): datasketch ``MinHash`` per document (``update_batch``),
  datasketch ``MinHash.bulk``, rensa ``RMinHash``, datatrove's ``MinhashDedupSignature``
  signature code (``get_shingles`` + ``get_signature``; its English word tokenizer needs spaCy,
  which is not installed, so it gets ``str.split`` instead — which only flatters it).

Every figure is the median of ``--repeats`` runs. Peak RSS is sampled from /proc every 50 ms for
the process and all its children (``main`` = the scanning process, ``tree`` = sum over the
process tree at the same instant; forked workers share pages with the parent, so ``tree``
over-counts). Writes ``benchmarks/SCAN.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
WORD = re.compile(r"\w+")


# ---- process-tree memory sampler ----------------------------------------------------------------

def _children(pid: int) -> list[int]:
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return out


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_s(pid: int) -> float:
    """user + system CPU seconds of one process so far (``/proc/PID/stat``)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def run_measured(cmd: list[str], env=None, cwd=None) -> dict:
    """Run ``cmd``; wall time, CPU time of its whole tree (user + system of every finished
    descendant), peak RSS of the process and of its whole tree (MiB), output."""
    import resource
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd or ROOT,
                            env=env)
    peak = {"main": 0, "tree": 0}
    cpu_seen: dict[int, float] = {}
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            main = _rss_kb(proc.pid)
            cpu_seen[proc.pid] = max(cpu_seen.get(proc.pid, 0.0), _cpu_s(proc.pid))
            tree, todo = main, _children(proc.pid)
            while todo:
                c = todo.pop()
                tree += _rss_kb(c)
                cpu_seen[c] = max(cpu_seen.get(c, 0.0), _cpu_s(c))
                todo += _children(c)
            peak["main"] = max(peak["main"], main)
            peak["tree"] = max(peak["tree"], tree)
            stop.wait(0.05)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    stop.set()
    th.join()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    # rusage only counts descendants that were waited for; pools whose workers hang off a fork
    # server (datatrove's multiprocess) escape it, so take the sampled /proc sum when it is larger
    cpu = max(cpu, sum(cpu_seen.values()))
    return {"wall": wall, "cpu": cpu, "rc": proc.returncode, "rss_main": peak["main"] / 1024,
            "rss_tree": peak["tree"] / 1024, "stdout": out, "stderr": err}


def count_records(path: str) -> int:
    """Non-blank lines of a JSONL file: the record count the docs/s figures divide by."""
    with open(path, "rb") as f:
        return sum(1 for line in f if line.strip())


def machine() -> dict:
    """CPU, memory, library versions and load of this machine, for the report's header."""
    model = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        mem = int(open("/proc/meminfo").readline().split()[1]) // 1024
    except OSError:
        pass
    import datasketch
    import numpy
    import pyarrow
    return {"nproc": os.cpu_count(), "cpu": model, "mem_mib": mem, "python": platform.python_version(),
            "numpy": numpy.__version__, "pyarrow": pyarrow.__version__, "datasketch": datasketch.__version__,
            "load": os.getloadavg()}


# ---- the duplicate checks alone, through the engine -----------------------------------------------

def pipeline_main(path: str, workers: int, out_json: str | None) -> None:
    """Run only the two duplicate checks over ``path`` and print records, seconds, metrics and index sizes."""
    sys.path.insert(0, str(ROOT))
    from collapse_audit.checks.exact_duplicates import ExactDuplicates
    from collapse_audit.checks.near_duplicates import NearDuplicates
    from collapse_audit.config import ScanConfig
    from collapse_audit.engine.parallel import prepared_batches
    from collapse_audit.engine.scan import read_batches
    from collapse_audit.readers import BadRecordSink

    cfg = ScanConfig(workers=workers)
    checks = [ExactDuplicates.from_config(cfg), NearDuplicates.from_config(cfg)]
    t0 = time.perf_counter()
    n = 0
    for batch, prepared in prepared_batches(checks, read_batches([path], cfg, BadRecordSink()), workers):
        for check, prep in zip(checks, prepared, strict=True):
            check.observe(batch, prep)
        n += len(batch)
    results = {c.name: c.finish() for c in checks}
    dt = time.perf_counter() - t0
    state = {"band_index_mib": sum(b.nbytes for b in checks[1].band_index) / 2**20,
             "signatures_mib": checks[1].sigs.nbytes / 2**20,
             "exact_index_mib": checks[0].index.nbytes / 2**20}
    metrics = {k: v for r in results.values() for k, v in r.metrics.items()}
    if out_json:
        import pyarrow as pa
        import pyarrow.parquet as pq
        cols = {k: v for r in results.values() for k, v in r.columns.items()}
        pq.write_table(pa.table(cols), out_json)
    print(json.dumps({"records": n, "seconds": dt, "metrics": metrics, "state": state}))


def lsh_memory_main(path: str, n: int) -> None:
    """RSS growth of datasketch's in-memory MinHashLSH (threshold 0.8, 128 perms) per record."""
    sys.path.insert(0, str(ROOT))
    import gc

    from datasketch import LeanMinHash, MinHashLSH

    from collapse_audit.text.minhash import MinHasher

    texts = []
    with open(path) as f:
        for line in f:
            texts.append(json.loads(line)["text"])
            if len(texts) >= n:
                break
    sigs = MinHasher().signatures(texts)
    del texts
    mhs = [LeanMinHash(seed=0, hashvalues=s, scheme="legacy") for s in sigs]
    gc.collect()
    before = _rss_kb(os.getpid())
    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    for i, m in enumerate(mhs):
        lsh.insert(i, m)
    gc.collect()
    after = _rss_kb(os.getpid())
    print(json.dumps({"records": len(mhs), "bytes_per_record": (after - before) * 1024 / len(mhs)}))


# ---- competitors (signatures only) -------------------------------------------------------------------

def shingle_strings(text: str, k: int = 5) -> list[str]:
    """Our shingles as joined strings, the input form the competitor libraries take."""
    toks = WORD.findall(unicodedata.normalize("NFC", text).lower())
    if len(toks) < k:
        return [" ".join(toks)]
    return [" ".join(toks[i:i + k]) for i in range(len(toks) - k + 1)]


def competitors(texts: list[str], repeats: int) -> dict[str, float]:
    """Median docs/s and docs/CPU-s of each MinHash library's signatures over ``texts`` (those installed)."""
    from datasketch import MinHash

    def ds_per_doc():
        for t in texts:
            m = MinHash(num_perm=128)
            m.update_batch([s.encode("utf-8") for s in shingle_strings(t)])
            m.digest()

    def ds_bulk():
        MinHash.bulk([[s.encode("utf-8") for s in shingle_strings(t)] for t in texts], num_perm=128)

    fns = {"datasketch MinHash (per document)": ds_per_doc, "datasketch MinHash.bulk": ds_bulk}
    try:
        from rensa import RMinHash

        def rensa_run():
            for t in texts:
                m = RMinHash(num_perm=128, seed=42)
                m.update(shingle_strings(t))
                m.digest()
        fns["rensa RMinHash"] = rensa_run
    except ImportError as exc:
        print(f"rensa unavailable: {exc}", file=sys.stderr)
    try:
        from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature

        class _Split:
            @staticmethod
            def word_tokenize(text):
                return text.split()

        def datatrove_run():
            step = MinhashDedupSignature.__new__(MinhashDedupSignature)
            # the stage's own signature code, without its spaCy tokenizer and file output
            step.config = MinhashConfig(n_grams=5, num_buckets=16, hashes_per_bucket=8)
            step.num_hashes = 128
            step._parameters = None
            import xxhash
            # datatrove's xxhash64 helper hands str to xxhash, which xxhash 4 rejects: encode first
            step._hash_func = lambda s: xxhash.xxh64_intdigest(s.encode("utf-8"))
            step.word_tokenizer = _Split()
            for t in texts:
                step.get_signature(step.get_shingles(t))
        fns["datatrove MinhashDedupSignature (str.split tokens)"] = datatrove_run
    except Exception as exc:  # pragma: no cover
        print(f"datatrove unavailable: {exc}", file=sys.stderr)

    rates = {}
    for name, fn in fns.items():
        times, cpus = [], []
        try:
            for _ in range(repeats):
                t0, c0 = time.perf_counter(), time.process_time()
                fn()
                times.append(time.perf_counter() - t0)
                cpus.append(time.process_time() - c0)
        except Exception as exc:
            print(f"  {name}: failed ({type(exc).__name__}: {exc})", file=sys.stderr)
            continue
        rates[name] = {"docs_s": len(texts) / statistics.median(times),
                       "docs_cpu_s": len(texts) / statistics.median(cpus)}
        print(f"  {name}: {rates[name]}", file=sys.stderr)
    return rates


def cli_works() -> bool:
    """Whether the CLI starts here at all (else the whole-scan row is skipped with a note)."""
    try:
        r = subprocess.run([PY, "-m", "collapse_audit", "scan", "--help"], cwd=ROOT, capture_output=True,
                           timeout=120)
        return r.returncode == 0
    except Exception:
        return False


def measure(cmd, repeats, records, label, cwd=None):
    """Run ``cmd`` ``repeats`` times: (median wall, docs/s and peak RSS, or ``None`` if a run failed; last run)."""
    runs = []
    for _ in range(repeats):
        r = run_measured(cmd, cwd=cwd)
        ok = r["rc"] in (0, 1)
        print(f"  {label}: rc={r['rc']} {r['wall']:.1f}s cpu {r['cpu']:.1f}s "
              f"main {r['rss_main']:.0f} MiB tree {r['rss_tree']:.0f} MiB", file=sys.stderr)
        if not ok:
            print(r["stderr"][-2000:], file=sys.stderr)
            return None, r
        runs.append(r)
    wall = statistics.median(r["wall"] for r in runs)
    cpu = statistics.median(r["cpu"] for r in runs)
    return {"label": label, "cmd": " ".join(cmd), "wall": wall, "docs_s": records / wall,
            "docs_cpu_s": records / cpu,
            "rss_main": max(r["rss_main"] for r in runs), "rss_tree": max(r["rss_tree"] for r in runs),
            "runs": [round(r["wall"], 2) for r in runs]}, runs[-1]


def main(argv=None) -> int:
    """Measure the scan, the duplicate checks and the competitors, then write the report."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=str(HERE / "data" / "c100k.jsonl"))
    ap.add_argument("--corpus-large", default=None, help="e.g. the 1M-record corpus: time and peak RSS, once")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--competitor-records", type=int, default=20000,
                    help="records the competitors sign (the first N of the corpus)")
    ap.add_argument("--skip-scan", action="store_true")
    ap.add_argument("--scan-workers", default=None,
                    help="comma-separated worker counts for the whole scan (default: 1 and --workers)")
    ap.add_argument("--baseline-root", default=None,
                    help="a checkout of an earlier revision: its whole scan is measured beside this one's")
    ap.add_argument("--no-extras", action="store_true",
                    help="skip the dup-checks rows, the datasketch LSH memory probe and --corpus-large")
    ap.add_argument("--out", default=str(HERE / "SCAN.md"))
    args = ap.parse_args(argv)

    info = machine()
    records = count_records(args.corpus)
    print(f"machine: {info}", file=sys.stderr)
    rows = []
    scan = None
    notes = []
    scan_workers = ([int(x) for x in args.scan_workers.split(",")] if args.scan_workers
                    else sorted({1, args.workers}))
    roots = [("", ROOT)]
    if args.baseline_root:
        rev = subprocess.run(["git", "-C", args.baseline_root, "log", "-1", "--format=%h"], capture_output=True,
                             text=True).stdout.strip() or Path(args.baseline_root).name
        roots.append((f" [baseline {rev}]", Path(args.baseline_root).resolve()))
    if not args.skip_scan and cli_works():
        for w in scan_workers:
            for tag, root in roots:
                scan_cmd = [PY, "-m", "collapse_audit", "scan", str(Path(args.corpus).resolve()), "--format", "json",
                            "-o", "/dev/null", "--workers", str(w), "-q"]
                res, last = measure(scan_cmd, args.repeats, records, f"scan --workers {w}{tag}", cwd=root)
                if res is None:
                    notes.append(f"`collapse-audit scan`{tag} failed (rc={last['rc']}): "
                                 f"{last['stderr'].strip().splitlines()[-1] if last['stderr'].strip() else ''}")
                    continue
                rows.append(res)
                if not tag and w == args.workers:
                    scan = res
    else:
        notes.append("`collapse-audit scan` was not runnable when this was measured; see dup-checks rows.")
    for w in ([] if args.no_extras else sorted({1, args.workers})):
        cmd = [PY, str(HERE / "run.py"), "_pipeline", args.corpus, str(w)]
        res, last = measure(cmd, args.repeats, records, f"dup-checks --workers {w}")
        if res:
            res["detail"] = json.loads(last["stdout"].strip().splitlines()[-1])
            rows.append(res)

    texts = []
    with open(args.corpus) as f:
        for line in f:
            texts.append(json.loads(line)["text"])
            if len(texts) >= args.competitor_records:
                break
    print(f"competitors on {len(texts)} records:", file=sys.stderr)
    comp = competitors(texts, args.repeats)

    lshmem = None
    if not args.no_extras:
        r = subprocess.run([PY, str(HERE / "run.py"), "_lshmem", args.corpus, str(min(100000, records))],
                           capture_output=True, text=True, cwd=ROOT)
        lshmem = json.loads(r.stdout.strip().splitlines()[-1]) if r.returncode == 0 else None
        print(f"datasketch MinHashLSH memory: {lshmem}", file=sys.stderr)

    large = None
    if args.corpus_large and not args.no_extras:
        n_large = count_records(args.corpus_large)
        for label, cmd in (("scan", [PY, "-m", "collapse_audit", "scan", args.corpus_large, "--format", "json",
                                      "-o", "/dev/null", "--workers", str(args.workers)]),
                           ("dup-checks", [PY, str(HERE / "run.py"), "_pipeline", args.corpus_large,
                                           str(args.workers)])):
            if label == "scan" and (scan is None):
                continue
            res, last = measure(cmd, 1, n_large, f"{label} large --workers {args.workers}")
            if res:
                small = next(r for r in rows if r["label"].startswith(label) and
                             r["label"].endswith(f"--workers {args.workers}"))
                res["ratio_vs_small"] = res["wall"] / small["wall"]
                res["cpu_ratio_vs_small"] = (n_large / res["docs_cpu_s"]) / (records / small["docs_cpu_s"])
                res["records"] = n_large
                if label == "dup-checks":
                    res["detail"] = json.loads(last["stdout"].strip().splitlines()[-1])
                large = large or []
                large.append(res)

    write_report(args, info, records, rows, comp, large, notes, len(texts), lshmem)
    return 0


def write_report(args, info, records, rows, comp, large, notes, n_comp, lshmem=None):
    """Write the measurements as the Markdown report ``--out`` (tables plus how they were taken)."""
    rensa = comp.get("rensa RMinHash")
    lines = ["# Scan benchmark", "",
             f"Machine: {info['nproc']} CPUs ({info['cpu']}), {info['mem_mib']} MiB RAM; Python {info['python']}, "
             f"numpy {info['numpy']}, pyarrow {info['pyarrow']}, datasketch {info['datasketch']}. "
             f"Load average at start: {', '.join(f'{x:.2f}' for x in info['load'])}, at the end: "
             f"{', '.join(f'{x:.2f}' for x in os.getloadavg())} (the machine is shared).",
             "",
             f"Corpus: `{args.corpus}` ({records} records; `benchmarks/generate_corpus.py`). "
             f"Median of {args.repeats} runs. Reproduce: `python benchmarks/run.py {' '.join(sys.argv[1:])}`.", "",
             "`docs/s` is wall-clock; `docs/CPU-s` divides by the CPU time of the whole process tree "
             "(user + system), which is what a busy shared machine cannot distort much. With W "
             "workers on W idle cores, wall-clock docs/s approaches W x docs/CPU-s.", "",
             "| what | docs/s | vs rensa | docs/CPU-s | vs rensa | peak RSS main / tree (MiB) | runs (s) |",
             "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        ratio = f"{r['docs_s'] / rensa['docs_s']:.2f}x" if rensa else "n/a"
        ratio_c = f"{r['docs_cpu_s'] / rensa['docs_cpu_s']:.2f}x" if rensa else "n/a"
        lines.append(f"| {r['label']} (`{r['cmd'].replace(PY, 'python')}`) | {r['docs_s']:.0f} | {ratio} | "
                     f"{r['docs_cpu_s']:.0f} | {ratio_c} | {r['rss_main']:.0f} / {r['rss_tree']:.0f} | {r['runs']} |")
    for name, rate in comp.items():
        ratio = f"{rate['docs_s'] / rensa['docs_s']:.2f}x" if rensa else "n/a"
        ratio_c = f"{rate['docs_cpu_s'] / rensa['docs_cpu_s']:.2f}x" if rensa else "n/a"
        lines.append(f"| {name}, signatures only, 1 process ({n_comp} records) | {rate['docs_s']:.0f} | {ratio} | "
                     f"{rate['docs_cpu_s']:.0f} | {ratio_c} | | |")
    if large:
        lines += ["", "Large corpus (one run each):", "",
                  "| what | records | seconds | docs/s | docs/CPU-s | time / time(small) | CPU / CPU(small) | "
                  "peak RSS main / tree (MiB) |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for r in large:
            lines.append(f"| {r['label']} | {r['records']} | {r['wall']:.1f} | {r['docs_s']:.0f} | "
                         f"{r['docs_cpu_s']:.0f} | {r['ratio_vs_small']:.2f} | {r['cpu_ratio_vs_small']:.2f} | "
                         f"{r['rss_main']:.0f} / {r['rss_tree']:.0f} |")
            if "detail" in r:
                lines.append("")
                lines.append(f"State at the end ({r['label']}): " + ", ".join(
                    f"{k} {v:.0f}" for k, v in r["detail"]["state"].items()))
    if lshmem:
        per = lshmem["bytes_per_record"]
        lines += ["", f"datasketch `MinHashLSH` (in-memory storage, threshold 0.8, 128 perms): "
                      f"{per:.0f} bytes of RSS per inserted record (measured over {lshmem['records']} records), "
                      f"i.e. ~{per * 1e6 / 2**30:.2f} GiB at 1M records, before any signature storage. "
                      "The near-duplicate check's own banding (same bands and rows, numpy sorted runs) "
                      "takes 9 x 12 bytes per record."]
    if notes:
        lines += ["", "Notes:", ""] + [f"- {n}" for n in notes]
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_lshmem":
        lsh_memory_main(sys.argv[2], int(sys.argv[3]))
        sys.exit(0)
    if len(sys.argv) > 1 and sys.argv[1] == "_pipeline":
        pipeline_main(sys.argv[2], int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else None)
        sys.exit(0)
    sys.exit(main())
