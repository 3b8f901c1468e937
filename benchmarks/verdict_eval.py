"""CA101 end to end, as a user meets it: build untagged corpora, scan them with the CLI, tabulate.

    python benchmarks/verdict_eval.py --part m4     # M4 slices: human-only, machine-only, 35% / 50% mixes
    python benchmarks/verdict_eval.py --part l2r    # corpora from the detector's own L2R test split
    python benchmarks/verdict_eval.py --part table  # markdown tables of both (for BENCHMARKS.md)
    python benchmarks/verdict_eval.py --part grid   # the two-witness grid: family x share x size (witness_eval.py)

Every corpus is a JSONL file of untagged records (``id``, ``text``), scanned with the packaged default
policy (CA101: estimated synthetic share at most 0.30) by ``collapse-audit scan FILE -f json``; the
table reads the applicability state, the estimate and its interval, the token estimate and CA101's
status from the result JSON. Nothing here tunes anything: M4 is evaluation only.

What must hold (issue "a synthetic-share verdict you can trust"):
* M4: a human-only slice is never ``fail``, a machine-only one never ``pass``, a mix's interval
  contains the truth or CA101 is ``inconclusive``, and no interval has zero width;
* L2R test split (the detector's held-out home ground): the verdict is definite (fail above the cap,
  pass below) with the truth inside the interval.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from collapse_audit.detectors import train as T  # noqa: E402

OUT = ROOT / "benchmarks" / "out" / "verdict"
CAP = 0.30
L2R_SHARES = (0.0, 0.15, 0.35, 0.6, 1.0)
L2R_SIZE = 1000
L2R_REPS = 3


def log(*a):
    """Progress to stderr, so stdout carries only the tables."""
    print(*a, file=sys.stderr, flush=True)


def write_jsonl(path: Path, texts: list[str]) -> None:
    """An untagged corpus file (``id``, ``text`` per line) as a user would hand it to a scan."""
    with open(path, "w", encoding="utf-8") as fh:
        for i, t in enumerate(texts):
            fh.write(json.dumps({"id": f"r{i}", "text": t}) + "\n")


def scan(path: Path, workdir: Path) -> dict:
    """One CLI scan of ``path`` (packaged default policy) -> the fields the table needs."""
    out = workdir / (path.stem + ".result.json")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.run([sys.executable, "-m", "collapse_audit", "scan", str(path), "-f", "json", "-q",
                        "-o", str(out), "--policy", str(ROOT / "collapse_audit" / "rules" / "default.yaml")],
                       cwd=workdir, env=env, capture_output=True, text=True)
    if p.returncode not in (0, 1):
        raise SystemExit(f"scan of {path.name} exited {p.returncode}: {p.stderr.strip()[-800:]}")
    r = json.loads(out.read_text())
    m = r["metrics"]
    ca101 = next(x for x in r["rules"] if x["id"] == "CA101")
    app = r["detector"].get("applicability") or {}
    failed = [k for k, t in (app.get("tests") or {}).items() if not t.get("passed")]
    return {"state": app.get("state"), "failed_tests": failed, "exit": p.returncode,
            "estimate": m["synthetic.estimated_fraction"], "ci": [m["synthetic.estimated_fraction_ci_low"],
                                                                 m["synthetic.estimated_fraction_ci_high"]],
            "token_estimate": m.get("synthetic.estimated_token_fraction"),
            "token_ci": [m.get("synthetic.estimated_token_fraction_ci_low"),
                         m.get("synthetic.estimated_token_fraction_ci_high")],
            "detected_fraction": m.get("synthetic.detected_fraction"), "ca101": ca101["status"]}


def m4_corpora() -> dict[str, tuple[list[str], float]]:
    """Per M4 domain and over all four: human-only, machine-only, 50% (every pair), 35% mixes."""
    p = T.find_l2r().parent.parent / "m4" / "m4_llama2.jsonl.gz"
    with gzip.open(p, "rt", encoding="utf-8") as fh:
        recs = [json.loads(x) for x in fh]
    rng = np.random.default_rng(0)
    out = {}
    for dom in sorted({r["domain"] for r in recs}) + ["all"]:
        h = [r["text"] for r in recs if r["label"] == "human" and dom in ("all", r["domain"])]
        m = [r["text"] for r in recs if r["label"] != "human" and dom in ("all", r["domain"])]
        out[f"m4_{dom}_human"] = (h, 0.0)
        out[f"m4_{dom}_machine"] = (m, 1.0)
        out[f"m4_{dom}_mix50"] = (h + m, len(m) / (len(h) + len(m)))
        k = round(0.35 / 0.65 * len(h))
        pick = [m[i] for i in rng.choice(len(m), k, replace=False)]
        out[f"m4_{dom}_mix35"] = (h + pick, k / (len(h) + k))
    return out


def l2r_corpora() -> dict[str, tuple[list[str], float]]:
    """Corpora from the L2R *test* split (never used to fit or threshold the detector), drawn without
    replacement; the split has 621 human texts, so low shares get fewer than 1,000 records."""
    d = T.load_l2r()
    te = d.split == "test"
    hum, syn = np.flatnonzero(te & (d.y == 0)), np.flatnonzero(te & (d.y == 1))
    rng = np.random.default_rng(1)
    out = {}
    for share in L2R_SHARES:
        n = L2R_SIZE if share == 1.0 else min(L2R_SIZE, int(len(hum) / (1 - share)))
        k = round(share * n)
        for rep in range(L2R_REPS):
            idx = np.concatenate([rng.choice(syn, k, replace=False), rng.choice(hum, n - k, replace=False)])
            rng.shuffle(idx)
            out[f"l2r_test_{round(share * 100):03d}_r{rep}"] = ([d.texts[i] for i in idx], k / n)
    return out


def run(part: str) -> None:
    """Scan every corpus of one part and store its rows for ``table`` under benchmarks/out/verdict."""
    corpora = m4_corpora() if part == "m4" else l2r_corpora()
    OUT.mkdir(parents=True, exist_ok=True)
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, (texts, truth) in corpora.items():
            f = work / f"{name}.jsonl"
            write_jsonl(f, texts)
            r = scan(f, work)
            lo, hi = r["ci"]
            r.update(n=len(texts), truth=truth, truth_inside=lo - 1e-9 <= truth <= hi + 1e-9, width=hi - lo)
            rows[name] = r
            log(f"{name}: n={len(texts)} truth={truth:.2f} {r['state']} {r['estimate']:.3f} "
                f"({lo:.3f}-{hi:.3f}) CA101 {r['ca101']}")
    (OUT / f"{part}.json").write_text(json.dumps(rows, indent=1))


def expected(truth: float) -> str:
    """CA101's right definite status for a corpus whose true synthetic share is ``truth``."""
    return "fail" if truth > CAP else "pass"


def table(part: str) -> str:
    """Markdown table of one part's stored rows plus the summary line of what must hold."""
    rows = json.loads((OUT / f"{part}.json").read_text())
    lines = ["| corpus | records | truth | state | failed tests | estimate (95% interval) | by tokens | "
             "truth inside | CA101 |", "| --- | ---: | ---: | --- | --- | --- | --- | --- | --- |"]
    for name, r in rows.items():
        tok = ("-" if r["token_estimate"] is None else
               f"{r['token_estimate']:.1%} ({r['token_ci'][0]:.1%}-{r['token_ci'][1]:.1%})")
        lines.append(f"| {name} | {r['n']} | {r['truth']:.2f} | {r['state']} | {', '.join(r['failed_tests']) or '-'} "
                     f"| {r['estimate']:.1%} ({r['ci'][0]:.1%}-{r['ci'][1]:.1%}) | {tok} | "
                     f"{'yes' if r['truth_inside'] else 'no'} | {r['ca101']} |")
    v = list(rows.values())
    zero = sum(r["width"] <= 0 for r in v)
    lines.append("")
    if part == "m4":
        bad_h = [n for n, r in rows.items() if r["truth"] == 0 and r["ca101"] == "fail"]
        bad_m = [n for n, r in rows.items() if r["truth"] == 1 and r["ca101"] == "pass"]
        bad_x = [n for n, r in rows.items() if 0 < r["truth"] < 1 and not r["truth_inside"]
                 and r["ca101"] != "inconclusive"]
        lines.append(f"Human-only slices failed: {len(bad_h)} {bad_h or ''}; machine-only passed: {len(bad_m)} "
                     f"{bad_m or ''}; mixes with the truth outside a definite verdict's interval: {len(bad_x)} "
                     f"{bad_x or ''}; zero-width intervals: {zero}.")
    else:
        definite = [r for r in v if r["ca101"] in ("pass", "fail")]
        right = [r for r in definite if r["ca101"] == expected(r["truth"])]
        lines.append(f"Abstention (unvalidated): {np.mean([r['state'] != 'validated' for r in v]):.2f}; "
                     f"definite verdicts {len(definite)} of {len(v)}, right {len(right)}; truth inside "
                     f"{sum(r['truth_inside'] for r in v)} of {len(v)}; mean interval width "
                     f"{np.mean([r['width'] for r in v]):.3f}; zero-width intervals: {zero}.")
    return "\n".join(lines)


def main():
    """Command line: run one part, or print the tables of the parts already run."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", required=True, choices=["m4", "l2r", "table", "grid"])
    a = ap.parse_args()
    if a.part == "grid":
        import witness_eval

        print(witness_eval.part_grid(witness_eval.load(), "curvature"))
        return
    if a.part == "table":
        for part in ("m4", "l2r"):
            if (OUT / f"{part}.json").is_file():
                print(f"### {part}\n\n{table(part)}\n")
        return
    run(a.part)


if __name__ == "__main__":
    main()
