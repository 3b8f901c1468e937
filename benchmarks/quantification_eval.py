"""Share estimators and the applicability test, measured on L2R folds; then M4 once.

    python benchmarks/quantification_eval.py --part folds      # fold error rates -> out/quant/folds.json
    python -m collapse_audit.detectors.rebuild_reference --folds benchmarks/out/quant/folds.json
                                                               # rebuild models/default_reference.npz
    python benchmarks/quantification_eval.py --part calibrate  # estimator choice + test thresholds (L2R only)
    python benchmarks/quantification_eval.py --part m4         # the one-off M4 report (never tuned on)
    python benchmarks/quantification_eval.py --part table      # markdown tables of the two above

Out-of-fold scores: read from a parquet file (columns fold, domain, generator,
label, score, n_chars) when given with --oof, else from the per-fold caches of
benchmarks/detector_eval.py (benchmarks/out/detector/default_{lodo,logo}_*.json).

Simulation (why it is honest): the shipped model's validation histograms are the reference; a
corpus from a held-out fold is scored by the fold model that never saw that domain/generator -
exactly the situation of the shipped model on an unseen domain. Feature statistics of the
applicability test are rebuilt without the held-out domain/generator for each fold.
In-domain corpora: the shipped model's scores on the L2R *test* split (never used for a decision
in training). Truth shares 0, 0.1, 0.35, 0.7, 1.0; corpus sizes 400 (folds) and 2,000 (in-domain).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from collapse_audit.detectors import applicability as A
from collapse_audit.detectors import quantify as Q
from collapse_audit.detectors import train as T

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out" / "quant"
DET_OUT = ROOT / "benchmarks" / "out" / "detector"
SHARES = (0.0, 0.1, 0.35, 0.7, 1.0)
REPS = 4
CAP = 0.30


def log(*a):
    """Progress on stderr, so stdout keeps only the results."""
    print(*a, file=sys.stderr, flush=True)


def sigmoid(z):
    """Logistic function, clipped so extreme logits do not overflow."""
    return 1.0 / (1.0 + np.exp(-np.clip(np.asarray(z, np.float64), -50, 50)))


def load_oof(d: T.L2R, oof: str | None) -> dict:
    """{fold: (record indices into L2R, scores)}."""
    if oof:
        import pyarrow.parquet as pq

        t = pq.read_table(oof)
        cols = {c: np.asarray(t.column(c).to_pylist()) for c in t.column_names}
        groups = {f: np.flatnonzero(cols["fold"] == f) for f in dict.fromkeys(cols["fold"].tolist())}
        if "index" in cols:
            return {f: (cols["index"][r], cols["score"][r]) for f, r in groups.items()}
        return oof_with_index(d, cols, groups)
    out = {}
    for p in sorted(DET_OUT.glob("default_lo[dg]o_*.json")):
        r = json.loads(p.read_text())
        out[r["fold"]] = (np.asarray(r["index"]), sigmoid(r["logit"]))
    if not out:
        raise SystemExit("no out-of-fold scores: run `python benchmarks/detector_eval.py --part lodo` "
                         "and `--part logo` first")
    return out


def oof_with_index(d: T.L2R, cols: dict, groups: dict) -> dict:
    """Record indices of a table written by ``train.write_oof`` (no index column): each fold's rows
    are ``flatnonzero(test mask & fold subset)`` in L2R order; checked against label and length."""
    keep = T.fold_subset(d)
    sets = T.fold_sets(d)
    out = {}
    for f, r in groups.items():
        idx = np.flatnonzero(sets[f][1] & keep)
        lens = np.array([len(d.texts[i]) for i in idx])
        if len(idx) != len(r) or not (np.array_equal(lens, cols["n_chars"][r])
                                      and np.array_equal(d.y[idx], cols["label"][r])):
            raise SystemExit(f"out-of-fold rows of {f} do not match the L2R fold subset")
        out[f] = (idx, cols["score"][r])
    return out


def fold_rates(d, oof, thr) -> list:
    """TPR, FPR, AUROC and class counts per L2R fold at threshold ``thr``, from the out-of-fold scores."""
    from collapse_audit.detectors import evaluate as E

    rows = []
    for f, (idx, s) in sorted(oof.items()):
        y = d.y[idx] == 1
        rows.append({"fold": f, "tpr": float((s[y] >= thr).mean()), "fpr": float((s[~y] >= thr).mean()),
                     "auroc": float(E.auroc(y.astype(int), s)), "n_pos": int(y.sum()), "n_neg": int((~y).sum())})
    return rows


def features_all(d) -> tuple[np.ndarray, np.ndarray]:
    """Dense features and the code/non-English flag of every L2R text, cached under the output folder."""
    OUT.mkdir(parents=True, exist_ok=True)
    fx, ff = OUT / "dense.npy", OUT / "foreign.npy"
    if not fx.is_file():
        log("dense features of all L2R texts ...")
        X = np.concatenate([A.dense_features(d.texts[i:i + 2048]) for i in range(0, len(d.texts), 2048)])
        np.save(fx, X)
        np.save(ff, np.array([A.is_code(t) or A.is_non_english(t) for t in d.texts]))
    return np.load(fx), np.load(ff)


def corpora(y: np.ndarray, size: int, rng):
    """(truth, indices) corpora with the SHARES, drawn with replacement from one pool."""
    pos, neg = np.flatnonzero(y), np.flatnonzero(~y)
    for share in SHARES:
        k = round(share * size)
        if (k and not pos.size) or (size - k and not neg.size):
            continue
        for _ in range(REPS):
            idx = np.concatenate([rng.choice(pos, k) if k else np.array([], int),
                                  rng.choice(neg, size - k) if size - k else np.array([], int)])
            yield share, idx


def statistics(s, X, foreign, ref_score: Q.ScoreReference, feat, foreign_rate) -> dict:
    """Raw applicability statistics of one corpus (thresholds applied later)."""
    fs = A.fit_statistics(s, ref_score)
    mu, prec, cut = feat
    dd = X - mu
    dist = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", dd, prec, dd), 0))
    return {"fit_excess": fs["ambiguous_excess"], "fit_kl": fs["kl"], "kl_excess": fs["kl_excess"],
            "confident_excess": fs["confident_human_excess"],
            "outlier_excess": float((dist > cut).mean()) - (1 - A.OUTLIER_Q) - A._allowance(1 - A.OUTLIER_Q, len(s)),
            "foreign_excess": float(np.mean(foreign)) - foreign_rate - A._allowance(foreign_rate, len(s))}


def simulate(d, oof, ref: A.Reference, X, foreign, seed=0, fold_size=400) -> list:
    """One row per corpus: truth, both estimators' raw result, applicability statistics."""
    from collapse_audit.detectors.default import DefaultDetector

    rng = np.random.default_rng(seed)
    rows = []
    # in-domain: shipped model on the test split
    te = np.flatnonzero(d.split == "test")
    cache = OUT / "test_scores.npy"
    if not cache.is_file():
        np.save(cache, DefaultDetector().score([d.texts[i] for i in te]))
    s_te = np.load(cache)
    fit_mask = d.split != "test"
    feat_all = A.feature_reference(X[fit_mask])
    groups = [("in-domain:test", te, s_te, feat_all, ref.foreign_rate)]
    for f, (idx, s) in sorted(oof.items()):
        kind, name = f.split(":", 1)
        keep = fit_mask & ((d.domain != name) if kind == "lodo" else (d.generator != name))
        fr = float(foreign[keep].mean())
        groups.append((f, idx, s, A.feature_reference(X[keep]), fr))
    for gname, idx, s, feat, fr in groups:
        y = d.y[idx] == 1
        size = 2000 if gname.startswith("in-domain") else fold_size
        for truth, ci in corpora(y, size, rng):
            rec = idx[ci]
            sc = s[ci]
            row = {"group": gname, "truth": truth, "n": len(ci)}
            for m in Q.METHODS:
                r = Q.estimate_undeclared(sc, ref.score, m, seed=len(rows))
                row[m] = [r["estimate"], r["ci_low"], r["ci_high"]]
            for m, o in (("hist+acc", "hist"), ("acc+hist", "acc")):
                row[m] = [row[o][0], min(row["hist"][1], row["acc"][1]), max(row["hist"][2], row["acc"][2])]
            k = float((sc >= ref.score.threshold).sum())
            row["widened"] = list(Q.rate_bounds(*Q._flag_interval(k, len(sc)),
                                                [x for x in ref.score.folds if x["fold"] != gname]))
            row.update(statistics(sc, X[rec], foreign[rec], ref.score, feat, fr))
            rows.append(row)
        log(f"{gname}: {sum(r['group'] == gname for r in rows)} corpora")
    return rows


def verdict(lo, hi, validated, cap=CAP):
    """The rule status a max-``cap`` rule gets from an interval: the same logic as the policy's interval rules."""
    if lo > cap:
        return "fail"
    if validated and hi <= cap:
        return "pass"
    return "inconclusive"


def summarise(rows, method, fit_max, out_max, kl_max=1e9, foreign_max=A.FOREIGN_EXCESS_MAX,
              conf_max=1e9) -> dict:
    """Per scope (in-domain, LODO, LOGO): error, interval coverage and width, abstentions and wrong verdicts."""
    out = {}
    for scope in ("in-domain", "lodo", "logo"):
        rs = [r for r in rows if r["group"].startswith(scope)]
        if not rs:
            continue
        err, cov, wid, abst, wrong, definite, bad, flagged_bad = [], [], [], [], 0, 0, 0, 0
        cov_final, wid_final = [], []
        for r in rs:
            est, lo, hi = r[method]
            flag = (r["fit_excess"] > fit_max or r["outlier_excess"] > out_max or r["kl_excess"] > kl_max
                    or r["foreign_excess"] > foreign_max or r.get("confident_excess", -1) > conf_max)
            err.append(abs(est - r["truth"]))
            inside = lo - 1e-9 <= r["truth"] <= hi + 1e-9
            cov.append(inside)
            wid.append(hi - lo)
            abst.append(flag)
            flo, fhi = (min(lo, r["widened"][0]), max(hi, r["widened"][1])) if flag else (lo, hi)
            cov_final.append(flo - 1e-9 <= r["truth"] <= fhi + 1e-9)
            wid_final.append(fhi - flo)
            v = verdict(flo, fhi, not flag)
            definite += v != "inconclusive"
            wrong += (v == "pass" and r["truth"] > CAP) or (v == "fail" and r["truth"] <= CAP)
            bad += not inside
            flagged_bad += (not inside) and flag
        out[scope] = {"corpora": len(rs), "mean_abs_error": float(np.mean(err)),
                      "raw_coverage": float(np.mean(cov)), "raw_mean_width": float(np.mean(wid)),
                      "abstention_rate": float(np.mean(abst)), "final_coverage": float(np.mean(cov_final)),
                      "final_mean_width": float(np.mean(wid_final)), "definite_verdicts": definite / len(rs),
                      "wrong_verdicts_at_cap": wrong, "raw_misses": bad, "raw_misses_flagged": flagged_bad}
    return out


def calibrate(rows) -> dict:
    """Estimator by fold error; thresholds: fewest wrong verdicts on folds, in-domain abstention <= 5%."""
    res = {"estimator_error": {m: summarise(rows, m, 1e9, 1e9) for m in Q.METHODS + ("hist+acc", "acc+hist")}}
    fold_err = {m: np.mean([v["mean_abs_error"] for k, v in res["estimator_error"][m].items() if k != "in-domain"])
                for m in Q.METHODS}
    method = min(fold_err, key=fold_err.get) + "+" + max(fold_err, key=fold_err.get)
    best = None
    for fit_max in (0.0, 0.02, 0.05, 0.08, 0.12, 0.2, 1e9):
        for out_max in (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 1e9):
            for kl_max in (0.03, 0.05, 0.1, 0.15, 0.2, 0.3, 1e9):
                for conf_max in (0.0, 0.02, 0.05, 0.08, 0.12, 1e9):
                    s = summarise(rows, method, fit_max, out_max, kl_max, conf_max=conf_max)
                    if s["in-domain"]["abstention_rate"] > 0.05:
                        continue
                    wrong = sum(v["wrong_verdicts_at_cap"] for v in s.values())
                    misses = sum(v["raw_misses"] - v["raw_misses_flagged"] for k, v in s.items() if k != "in-domain")
                    abst = np.mean([v["abstention_rate"] for k, v in s.items() if k != "in-domain"])
                    key = (wrong, misses, abst)
                    if best is None or key < best[0]:
                        best = (key, fit_max, out_max, kl_max, s, conf_max)
    res.update({"fold_mean_abs_error": fold_err, "chosen_method": method, "ambiguous_excess_max": best[1],
                "outlier_excess_max": best[2], "fit_kl_max": best[3], "confident_excess_max": best[5],
                "chosen": best[4]})
    return res


def m4_report(ref: A.Reference, method: str) -> dict:
    """The one-off M4 report: each slice's state, estimate, interval and verdict at the cap."""
    from collapse_audit.detectors.default import DefaultDetector

    p = T.find_l2r().parent.parent / "m4" / "m4_llama2.jsonl.gz"
    with gzip.open(p, "rt", encoding="utf-8") as fh:
        recs = [json.loads(x) for x in fh]
    texts = [r["text"] for r in recs]
    s = DefaultDetector().score(texts)
    X = A.dense_features(texts)
    dom = np.array([r["domain"] for r in recs])
    y = np.array([r["label"] == "synthetic" for r in recs])
    rng = np.random.default_rng(0)
    slices = {}
    for dname in sorted(set(dom)) + ["all"]:
        base = np.ones(len(recs), bool) if dname == "all" else dom == dname
        h, m = np.flatnonzero(base & ~y), np.flatnonzero(base & y)
        slices[f"{dname}_human"] = h
        slices[f"{dname}_machine"] = m
        slices[f"{dname}_mix50"] = np.concatenate([h, m])
        k = round(0.35 / 0.65 * len(h))
        slices[f"{dname}_mix35"] = np.concatenate([h, rng.choice(m, k, replace=False)])
    out = {}
    for name, idx in slices.items():
        probe = A.Probe(ref)
        probe.update([texts[i] for i in idx], X[idx])
        appl = A.assess(probe, s[idx], ref)
        toks = [A.token_count(texts[i]) for i in idx]
        a = Q.assess_share(s[idx], reference=ref.score, applicability=appl, tokens=toks, method=method)
        truth = float(y[idx].mean())
        out[name] = {"truth": truth, "n": len(idx), "state": appl["state"], "reason": appl["reason"],
                     "tests": appl["tests"], "estimate": a.estimate, "ci": [a.ci_low, a.ci_high],
                     "token_estimate": a.token_estimate,
                     "token_ci": [a.token_ci_low, a.token_ci_high],
                     "raw_ci": a.details.get("raw_ci"), "truth_inside": a.ci_low <= truth <= a.ci_high,
                     "verdict_at_cap_0.30": verdict(a.ci_low, a.ci_high, a.validated)}
        log(f"{name}: {appl['state']} {a.estimate:.3f} ({a.ci_low:.3f}-{a.ci_high:.3f}) truth {truth:.2f} "
            f"-> {out[name]['verdict_at_cap_0.30']}")
    return out


def tables() -> str:
    """Markdown tables of the saved calibrate.json and m4.json (for benchmarks/DETECTOR.md)."""
    cal = json.loads((OUT / "calibrate.json").read_text())
    lines = ["| estimator | scope | corpora | mean abs error | raw 95% coverage | mean width |",
             "| --- | --- | ---: | ---: | ---: | ---: |"]
    for m, scopes in cal["estimator_error"].items():
        for sc, v in scopes.items():
            lines.append(f"| {m} | {sc} | {v['corpora']} | {v['mean_abs_error']:.3f} | "
                         f"{v['raw_coverage']:.2f} | {v['raw_mean_width']:.3f} |")
    lines += ["", ("| scope (shipped thresholds) | corpora | abstention (unvalidated) | coverage of the reported "
              "interval | mean width | definite verdicts at cap 0.30 | wrong verdicts | raw misses flagged |"),
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for sc, v in cal["shipped_thresholds"].items():
        lines.append(f"| {sc} | {v['corpora']} | {v['abstention_rate']:.2f} | {v['final_coverage']:.2f} | "
                     f"{v['final_mean_width']:.3f} | {v['definite_verdicts']:.2f} | {v['wrong_verdicts_at_cap']} | "
                     f"{v['raw_misses_flagged']} of {v['raw_misses']} |")
    m4p = OUT / "m4.json"
    if m4p.is_file():
        lines += ["", ("| M4 slice | records | truth | state | estimate (95% interval) | truth inside | "
                  "CA101 at cap 0.30 | failed tests |"), "| --- | ---: | ---: | --- | --- | --- | --- | --- |"]
        for name, v in json.loads(m4p.read_text()).items():
            failed = ", ".join(k for k, t in v["tests"].items() if not t["passed"]) or "-"
            lines.append(f"| {name} | {v['n']} | {v['truth']:.2f} | {v['state']} | {v['estimate']:.1%} "
                         f"({v['ci'][0]:.1%}-{v['ci'][1]:.1%}) | {'yes' if v['truth_inside'] else 'no'} | "
                         f"{v['verdict_at_cap_0.30']} | {failed} |")
    return "\n".join(lines)


def main():
    """Run one part of the evaluation: folds, calibrate or m4 write JSON under the output folder, table prints."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", required=True, choices=["folds", "calibrate", "m4", "table"])
    ap.add_argument("--oof", help="out-of-fold scores (parquet) instead of the detector_eval caches")
    ap.add_argument("--fold-size", type=int, default=400, help="records per fold corpus (calibrate); a size "
                    "other than 400 writes corpora_N.json / calibrate_N.json (the tests' power vs size)")
    a = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if a.part == "table":
        print(tables())
        return
    d = T.load_l2r()
    if a.part == "folds":
        from collapse_audit.detectors.default import DefaultDetector

        rows = fold_rates(d, load_oof(d, a.oof), DefaultDetector().threshold)
        (OUT / "folds.json").write_text(json.dumps(rows, indent=1))
        print(json.dumps(rows, indent=1))
        return
    ref = A.load_reference("default")
    if a.part == "calibrate":
        X, foreign = features_all(d)
        rows = simulate(d, load_oof(d, a.oof), ref, X, foreign, fold_size=a.fold_size)
        sfx = "" if a.fold_size == 400 else f"_{a.fold_size}"
        (OUT / f"corpora{sfx}.json").write_text(json.dumps(rows))
        res = calibrate(rows)
        other = "acc" if Q.DEFAULT_METHOD == "hist" else "hist"
        res["shipped_thresholds"] = summarise(rows, Q.DEFAULT_METHOD + "+" + other, A.AMBIGUOUS_EXCESS_MAX,
                                              A.OUTLIER_EXCESS_MAX, A.FIT_KL_MAX,
                                              conf_max=A.CONFIDENT_EXCESS_MAX)
        (OUT / f"calibrate{sfx}.json").write_text(json.dumps(res, indent=1))
        print(json.dumps(res, indent=1))
    else:
        res = m4_report(ref, Q.DEFAULT_METHOD)
        (OUT / "m4.json").write_text(json.dumps(res, indent=1))
        print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
