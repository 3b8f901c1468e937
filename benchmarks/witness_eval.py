"""The two-witness synthetic share, measured: feature choice, shipped reference, AUROC, verdict grid.

Reads the scored pools of ``benchmarks/lm_pools.py`` (run it first: every text is scored once by
both witnesses and cached) and reports, in markdown for BENCHMARKS.md:

* ``--part features`` - AUROC of each language-model feature, human vs machine, on the reference pools
  (l2r-train, base): the witness's axis is the best one, chosen here and nowhere else;
* ``--part auroc``    - per-record AUROC of the joint posterior P(machine | both scores) per base-model
  generator (leave-one-generator-out: the reference is rebuilt without it), on the L2R test pool
  and per M4 domain (M4 never enters a reference);
* ``--part grid``     - the verdict grid: family (chat / base / m4 / mixed) x true share (0, 10, 35, 50,
  100%) x corpus size (300, 1,000, 3,000), ``REPS`` corpora per cell, each judged as CA101 would
  (cap 30%): definite-and-right / inconclusive / wrong, interval width, truth inside. Corpora are
  drawn (seeded, with replacement) from the held-out pools' scored records at the estimator level
  (the scan's ``assess_two``), the language-model sample capped at 500 as the default policy does;
  base-model corpora use the reference without their generator;
* ``--ship``          - write ``collapse_audit/detectors/models/joint_reference.npz`` from l2r-train + base.

    python benchmarks/lm_pools.py && python benchmarks/witness_eval.py --part features --part auroc --part grid
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import xxhash

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from collapse_audit.detectors import witnesses as W  # noqa: E402
from collapse_audit.detectors.lm_witness import FEATURES  # noqa: E402

POOLS = HERE / "data" / "pools.parquet"
SHIP = REPO / "collapse_audit" / "detectors" / "models" / W.REFERENCE_FILE
CAP = 0.30
LM_SAMPLE = 500
SHARES = (0.0, 0.10, 0.35, 0.50, 1.0)
SIZES = (300, 1000, 3000)
REPS = 6
SEED = 11


def load(path: Path = POOLS) -> dict[str, np.ndarray]:
    """The pools with both witnesses' scores (records the language model could not score dropped)."""
    import pyarrow.parquet as pq

    t = pq.read_table(path).to_pydict()
    d = {k: np.asarray(v) for k, v in t.items() if k != "text"}
    ok = np.isfinite(d["curvature"].astype(np.float64))
    d = {k: v[ok] for k, v in d.items()}
    d["family"] = np.array([family(p, lab) for p, lab in zip(d["pool"], d["label"], strict=True)])
    return d


def family(pool: str, label: str) -> str:
    """The reference family of a record."""
    if label == "human":
        return "human"
    return "base" if pool == "base" else ("chat" if pool.startswith("l2r") else "m4")


def auroc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Mann-Whitney AUROC (ties count half)."""
    s = np.concatenate([pos, neg])
    ranks = _ranks(s)
    r = ranks[: len(pos)].sum()
    return float((r - len(pos) * (len(pos) + 1) / 2) / max(len(pos) * len(neg), 1))


def _ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x))
    sx = x[order]
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and sx[j + 1] == sx[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def reference_mask(d: dict) -> np.ndarray:
    """Records the shipped reference is built from: l2r-val (human + chat; the trained detector never
    fitted on that split, so its scores there are honest) and base (human + base)."""
    return (d["pool"] == "l2r-val") | (d["pool"] == "base")


def human_group(pool: str, domain: str) -> str:
    """The human family's sub-groups: its spread between sources is uncertainty as the generators' is
    (base_models' three sources; L2R's domains in four hashed groups, enough records per group)."""
    if pool == "base":
        return f"base:{domain}"
    return f"{pool}:{xxhash.xxh32_intdigest(domain.encode()) % 4}"


def build(d: dict, mask: np.ndarray, feature: str) -> W.JointModel:
    """A joint model from the masked records."""
    gen = np.array([human_group(p, dom) if f == "human" else g
                    for p, dom, f, g in zip(d["pool"], d["domain"], d["family"], d["generator"], strict=True)])
    return W.build_joint_model(d["default"][mask].astype(np.float64), d[feature][mask].astype(np.float64),
                               d["family"][mask], gen[mask], feature,
                               meta={"built_from": "L2R validation split (human + 4 chat generators), "
                                     "base_models (human + 5 base-model generators); benchmarks/lm_pools.py pools"})


def part_features(d: dict) -> str:
    """AUROC per feature and reference pool (human vs machine)."""
    rows = ["| feature | l2r-train | l2r-val | base | l2r-test | m4 |", "|---|---|---|---|---|---|"]
    for f in FEATURES:
        cells = []
        for pool in ("l2r-train", "l2r-val", "base", "l2r-test", "m4"):
            m = d["pool"] == pool
            x = d[f][m].astype(np.float64)
            y = d["label"][m] != "human"
            cells.append(f"{auroc(x[y], x[~y]):.3f}")
        rows.append(f"| {f} | " + " | ".join(cells) + " |")
    x = d["default"].astype(np.float64)
    cells = []
    for pool in ("l2r-train", "l2r-val", "base", "l2r-test", "m4"):
        m = d["pool"] == pool
        y = d["label"][m] != "human"
        cells.append(f"{auroc(x[m][y], x[m][~y]):.3f}")
    rows.append("| (trained detector) | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def posterior_machine(model: W.JointModel, trained: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """P(machine | cell) with family priors 1/2 human, 1/4 chat, 1/4 base: the per-record joint score."""
    h = model.ref.mean()
    cells = model.cells(trained, lm)
    num = 0.25 * h[1][cells] + 0.25 * h[2][cells]
    return num / (num + 0.5 * h[0][cells])


def auroc_rows(d: dict, feature: str) -> list[dict]:
    """Per-record AUROC of each witness alone and of the joint posterior (LOGO on base generators)."""
    ref = reference_mask(d)
    full = build(d, ref, feature)
    t, lmx = d["default"].astype(np.float64), d[feature].astype(np.float64)
    rows = []

    def row(name, model, pos, neg):
        js = posterior_machine(model, t, lmx)
        rows.append({"set": name, "n_pos": int(pos.sum()), "n_neg": int(neg.sum()),
                     "trained": round(auroc(t[pos], t[neg]), 4), "lm": round(auroc(lmx[pos], lmx[neg]), 4),
                     "joint": round(auroc(js[pos], js[neg]), 4)})

    human_base = (d["pool"] == "base") & (d["label"] == "human")
    for g in sorted(set(d["generator"][(d["pool"] == "base") & (d["label"] != "human")])):
        logo = build(d, ref & ~((d["pool"] == "base") & (d["generator"] == g)), feature)
        row(f"base: {g} (LOGO)", logo, (d["pool"] == "base") & (d["generator"] == g), human_base)
    test = d["pool"] == "l2r-test"
    row("L2R test split", full, test & (d["label"] != "human"), test & (d["label"] == "human"))
    for dom in sorted(set(d["domain"][d["pool"] == "m4"])):
        m = (d["pool"] == "m4") & (d["domain"] == dom)
        row(f"M4 {dom}", full, m & (d["label"] != "human"), m & (d["label"] == "human"))
    return rows


def part_auroc(d: dict, feature: str) -> str:
    """The AUROC rows as a markdown table."""
    out = ["| set | n machine / human | trained alone | LM alone | joint (both) |", "|---|---|---|---|---|"]
    out += [f"| {r['set']} | {r['n_pos']} / {r['n_neg']} | {r['trained']:.3f} | {r['lm']:.3f} | {r['joint']:.3f} |"
            for r in auroc_rows(d, feature)]
    return "\n".join(out)


def grid_sources(d: dict) -> dict[str, tuple[np.ndarray, list[tuple[np.ndarray, str | None]]]]:
    """Per family group: the human records and the machine records (with the generator to leave out)."""
    test_h = np.flatnonzero((d["pool"] == "l2r-test") & (d["label"] == "human"))
    base_h = np.flatnonzero((d["pool"] == "base") & (d["label"] == "human"))
    m4_h = np.flatnonzero((d["pool"] == "m4") & (d["label"] == "human"))
    chat = np.flatnonzero((d["pool"] == "l2r-test") & (d["label"] != "human"))
    m4 = np.flatnonzero((d["pool"] == "m4") & (d["label"] != "human"))
    base = [(np.flatnonzero((d["pool"] == "base") & (d["generator"] == g)), g)
            for g in sorted(set(d["generator"][(d["pool"] == "base") & (d["label"] != "human")]))]
    return {"chat": (test_h, [(chat, None)]), "base": (base_h, base), "m4": (m4_h, [(m4, None)]),
            "mixed": (np.concatenate([test_h, base_h]), [(chat, None)] + base)}


def judge(lo: float, hi: float, validated: bool) -> str:
    """CA101's status for an interval (cap 30%)."""
    if lo > CAP:
        return "fail"
    if validated and hi <= CAP:
        return "pass"
    return "inconclusive"


def one_corpus(d: dict, feature: str, models: dict, human: np.ndarray, machines: list, share: float,
               size: int, rng: np.random.Generator) -> dict:
    """Draw one corpus's LM-scored sample and assess it as the scan would."""
    n = min(size, LM_SAMPLE)
    k = int(round(share * n))
    pick_m = [machines[i % len(machines)] for i in range(len(machines))]
    per = np.array_split(np.arange(k), len(pick_m)) if k else [np.arange(0)] * len(pick_m)
    idx = [rng.choice(human, n - k, replace=True)]
    logo = None
    for (pool, g), part in zip(pick_m, per, strict=True):
        if len(part):
            idx.append(rng.choice(pool, len(part), replace=True))
            logo = g if logo is None else logo
    idx = np.concatenate(idx)
    model = models.get(logo, models[None]) if len(machines) == 1 else models["mixed-logo"]
    trained = d["default"][idx].astype(np.float64)
    lm = d[feature][idx].astype(np.float64)
    use = np.ones(len(idx), dtype=bool)
    appl = {"state": "validated", "tests": {"language": {"passed": True}}}
    res = W.assess_two(model, trained, lm, use, appl, 0, np.full(len(idx), 100.0), 0.0, seed=int(rng.integers(1 << 30)))
    verdict = judge(res.ci_low, res.ci_high, res.validated)
    truth = k / n
    right = {"fail": truth > CAP, "pass": truth <= CAP, "inconclusive": None}[verdict]
    return {"verdict": verdict, "right": right, "width": res.ci_high - res.ci_low,
            "inside": res.ci_low <= truth <= res.ci_high, "zero": res.ci_high - res.ci_low <= 0}


def part_grid(d: dict, feature: str, reps: int = REPS, sizes: tuple[int, ...] = SIZES) -> str:
    """The declared verdict grid, per cell: definite-and-right / inconclusive / wrong, width, truth inside."""
    ref = reference_mask(d)
    models: dict = {None: build(d, ref, feature)}
    for g in sorted(set(d["generator"][(d["pool"] == "base") & (d["label"] != "human")])):
        models[g] = build(d, ref & ~((d["pool"] == "base") & (d["generator"] == g)), feature)
    models["mixed-logo"] = models[None]
    rng = np.random.default_rng(SEED)
    rows = ["| family | share | size | right | inconclusive | wrong | mean width | truth inside |",
            "|---|---|---|---|---|---|---|---|"]
    totals: dict = defaultdict(lambda: [0, 0])
    for fam, (human, machines) in grid_sources(d).items():
        for share in SHARES:
            for size in sizes:
                out = []
                for r in range(reps):
                    ms = machines if fam != "base" else [machines[r % len(machines)]]
                    out.append(one_corpus(d, feature, models, human, ms, share, size, rng))
                right = sum(o["right"] is True for o in out)
                wrong = sum(o["right"] is False or o["zero"] for o in out)
                inc = sum(o["verdict"] == "inconclusive" for o in out)
                rows.append(f"| {fam} | {share:.0%} | {size} | {right} | {inc} | {wrong} | "
                            f"{np.mean([o['width'] for o in out]):.3f} | {sum(o['inside'] for o in out)}/{reps} |")
                if size >= 1000 and share in (0.0, 0.5, 1.0):
                    totals[fam][0] += right
                    totals[fam][1] += reps
    summary = "; ".join(f"{f}: {a}/{b} definite and right" for f, (a, b) in totals.items())
    return "\n".join(rows) + f"\n\n0%, 50% and 100% corpora of >= 1,000 records: {summary}."


def main() -> None:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", action="append", choices=["features", "auroc", "grid"], default=[])
    ap.add_argument("--pools", default=str(POOLS), help="the scored pools (benchmarks/lm_pools.py)")
    ap.add_argument("--feature", default="curvature", choices=FEATURES)
    ap.add_argument("--ship", action="store_true")
    ap.add_argument("--reps", type=int, default=REPS, help="corpora per grid cell")
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)), help="corpus sizes of the grid")
    a = ap.parse_args()
    d = load(Path(a.pools))
    print(f"records with both scores: {len(d['pool'])}", file=sys.stderr)
    if "features" in a.part:
        print("### Language-model features, AUROC human vs machine\n\n" + part_features(d) + "\n")
    if "auroc" in a.part:
        print(f"### Per-record AUROC, axis {a.feature}\n\n" + part_auroc(d, a.feature) + "\n")
    if "grid" in a.part:
        sizes = tuple(int(x) for x in a.sizes.split(","))
        print(f"### Verdict grid (cap 30%), axis {a.feature}\n\n" + part_grid(d, a.feature, a.reps, sizes) + "\n")
    if a.ship:
        from collapse_audit.detectors.card import write_card

        model = build(d, reference_mask(d), a.feature)
        model.meta["auroc"] = auroc_rows(d, a.feature)
        W.save_joint_model(SHIP, model)
        write_card(SHIP.parent)
        print(f"wrote {SHIP} and the model card", file=sys.stderr)


if __name__ == "__main__":
    main()
