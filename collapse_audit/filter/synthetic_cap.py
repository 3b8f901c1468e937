"""Capping model-generated records to the policy's synthetic share (CA101), and what that leaves behind.

Declared-synthetic records are certain, so they are counted first; the detector only speaks about
the undeclared rest, through its validated true- and false-positive rates:

* A. If the undeclared records alone are estimated over the cap (upper end of the 95% interval),
  records the detector flags are removed, highest score first, stratified per source (each source
  gives up flagged records in proportion to its flagged count, and keeps at least one record),
  until the expected share of what remains is under the cap - or every flagged record is gone.
  Every declared-synthetic record then goes too.
* B. Otherwise declared-synthetic records are kept up to the budget the cap leaves: the largest
  ``d`` with the output's expected synthetic share (upper end) at most the cap, allocated per source
  in proportion to its declared records (a source that would otherwise vanish keeps one first),
  chosen uniformly (seeded) within a source.

Removing by score biases any later score-based estimate: what stays is what the detector misses, so
re-scanning the output would look cleaner than it is. The expected synthetic share of the output is
therefore computed from the pre-filter scores: the undeclared synthetic count ``S`` is estimated by
adjusted classify-and-count, and removing ``m`` of the ``F`` flagged records removes ``m * PPV``
synthetic ones in expectation, with ``PPV = min(1, tpr * S / F)`` (the flagged records' share that
are true positives). The interval is a parametric bootstrap over the flagged share and the
detector's tpr/fpr (Jeffreys Beta posteriors). Removing the highest scores first removes at least
the average PPV, so the expected share is conservative.

Why this does not reuse ``detectors.quantify`` (the scan's estimator): the scan estimates the share
of a fixed corpus; the cap needs the share *after removing m flagged records*, i.e. the PPV of the
removed ones, which the score-histogram posterior does not expose yet. Moving this onto the
histogram model (PPV per score bin) is the next step; until then the cap is refused whenever the
scan's estimate is not validated, so the two never disagree about whether rates may be used.

Capping by score is refused (AuditError, exit 2) when the estimate is not validated for the corpus:
on text outside the detector's domain it would mostly strip human records.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..checks.provenance_tags import SYNTHETIC
from ..errors import AuditError
from .records import RecordTable

DRAWS = 4000
MIN_YOUDEN = 0.05


@dataclass
class CapResult:
    """What the cap step removed, the output share it expects, and why (the filter report's entry)."""

    cap: float
    removed_declared: np.ndarray     # bool per record
    removed_scored: np.ndarray       # bool per record
    declared_kept: int
    declared_total: int
    flagged_total: int
    expected: dict | None            # expected synthetic share of the output: estimate, ci_low, ci_high
    before: dict | None              # the same for the records entering the cap step
    reachable: bool                  # False when removing every flagged record still leaves the bound over the cap
    note: str


class ShareModel:
    """Bootstrap draws of the undeclared synthetic count and the flagged records' PPV."""

    def __init__(self, n_und: int, n_scored: int, n_flagged: int, v: dict, seed: int):
        tpr, fpr = float(v["tpr"]), float(v["fpr"])
        n_pos, n_neg = int(v["n_pos"]), int(v["n_neg"])
        rng = np.random.default_rng(seed)
        f_d = rng.beta(n_flagged + 0.5, n_scored - n_flagged + 0.5, DRAWS)
        tpr_d = rng.beta(tpr * n_pos + 0.5, n_pos - tpr * n_pos + 0.5, DRAWS)
        fpr_d = rng.beta(fpr * n_neg + 0.5, n_neg - fpr * n_neg + 0.5, DRAWS)
        f_hat = n_flagged / n_scored
        self.n_und = n_und
        self.flagged = f_hat * n_und                                    # flagged among all undeclared
        with np.errstate(divide="ignore", invalid="ignore"):
            p_d = np.where(tpr_d - fpr_d > 1e-9, (f_d - fpr_d) / (tpr_d - fpr_d), (f_d > fpr_d) * 1.0)
        p_d = np.clip(p_d, 0.0, 1.0)
        p = min(max((f_hat - fpr) / (tpr - fpr), 0.0), 1.0)
        # column 0 is the point estimate, the rest the bootstrap draws
        self.synth = np.concatenate([[p], p_d]) * n_und
        tprs = np.concatenate([[tpr], tpr_d])
        flagged = np.concatenate([[f_hat], f_d]) * n_und
        with np.errstate(divide="ignore", invalid="ignore"):
            self.ppv = np.where(flagged > 0, np.minimum(1.0, tprs * self.synth / flagged), 0.0)

    def share(self, removed_flagged: int, declared_kept: int) -> dict:
        """Expected synthetic share of the output (point, 95% interval) after removing these records."""
        kept = self.n_und - removed_flagged + declared_kept
        remaining = np.maximum(self.synth - removed_flagged * self.ppv, 0.0)
        s = (declared_kept + remaining) / max(kept, 1)
        lo, hi = np.percentile(s[1:], [2.5, 97.5])
        est = float(s[0])
        return {"estimate": est, "ci_low": float(min(lo, est)), "ci_high": float(max(hi, est)),
                "expected_synthetic_records": float(declared_kept + remaining[0]), "records": int(kept)}


def usable_validation(v: dict) -> bool:
    """Whether the detector's validation carries counts and a tpr - fpr gap large enough to estimate from."""
    try:
        tpr, fpr, n_pos, n_neg = float(v["tpr"]), float(v["fpr"]), int(v["n_pos"]), int(v["n_neg"])
    except (KeyError, TypeError, ValueError):
        return False
    return n_pos > 0 and n_neg > 0 and tpr - fpr >= MIN_YOUDEN


def cap_synthetic(records: RecordTable, kept: np.ndarray, cap: float, validation: dict,
                  estimate_validated: tuple[bool, str], threshold: float, seed: int, rule_id: str) -> CapResult:
    """Choose the flagged and declared-synthetic records to drop so the output's share bound meets ``cap``."""
    declared = kept & (records.tag == SYNTHETIC)
    und = kept & ~declared
    scored = und & ~np.isnan(records.score)
    flagged = scored & (np.nan_to_num(records.score, nan=-1.0) >= threshold)
    n_und, n_scored, n_flagged = int(und.sum()), int(scored.sum()), int(flagged.sum())
    validated, why = estimate_validated
    if not (validated and n_scored and usable_validation(validation)):
        if not validated:
            why_not = f"the synthetic-share estimate is not validated for this corpus ({why or 'no reason given'})"
        elif not usable_validation(validation):
            why_not = "the detector has no usable validated tpr/fpr"
        else:
            why_not = "no undeclared record carries a detector score"
        return _cap_declared_only(records, declared, und, cap, n_scored, n_flagged, why_not, seed, rule_id)

    model = ShareModel(n_und, n_scored, n_flagged, validation, seed)
    before = model.share(0, int(declared.sum()))
    removed_scored, reachable, notes = _remove_to_cap(records, model, flagged, und, cap, n_scored, rule_id)
    m = int(removed_scored.sum())
    d_max = int(declared.sum())
    first_over = _search(lambda k: model.share(m, k)["ci_high"] > cap, 0, d_max)
    budget = d_max if first_over is None else max(first_over - 1, 0)
    removed_declared = _keep_declared(records, declared, und & ~removed_scored, budget, seed)
    d = int((declared & ~removed_declared).sum())
    if d != budget:
        notes.append(f"kept {d} declared-synthetic records instead of {budget} so that no source disappears")
    return CapResult(cap, removed_declared, removed_scored, d, d_max, n_flagged, model.share(m, d), before,
                     reachable, "; ".join(notes))


def _cap_declared_only(records: RecordTable, declared: np.ndarray, und: np.ndarray, cap: float, n_scored: int,
                       n_flagged: int, why_not: str, seed: int, rule_id: str) -> CapResult:
    """The cap when nothing reliable can be said about the undeclared records (``why_not`` says why).

    If the detector flags more of them than the cap allows, meeting the cap would mean removing by
    an unvalidated score: refused (exit 2). Otherwise the declared-synthetic records are budgeted as
    if the rest were human, and the note says so."""
    if n_scored and n_flagged / n_scored > cap:
        raise AuditError(
            f"Refusing to cap synthetic records by detector score ({rule_id}): {why_not}. The detector flags "
            f"{n_flagged / n_scored:.1%} of the undeclared records, over the {cap:.0%} cap, and removing "
            "them by an unvalidated score would mostly strip human text. Filter without the cap "
            f"(--ignore {rule_id}) or use a detector validated for this corpus.")
    note = (f"{why_not}; no record was removed by detector score and the output's synthetic share "
            "among undeclared records is unknown (declared-synthetic records were capped as if they "
            "were human)")
    n_und = int(und.sum())
    budget = int(np.floor(cap / (1.0 - cap) * n_und + 1e-9)) if cap < 1 else int(declared.sum())
    removed_declared = _keep_declared(records, declared, und, min(budget, int(declared.sum())), seed)
    return CapResult(cap, removed_declared, np.zeros(len(records), dtype=bool),
                     int((declared & ~removed_declared).sum()), int(declared.sum()), n_flagged, None, None, True,
                     note)


def _remove_to_cap(records: RecordTable, model: ShareModel, flagged: np.ndarray, und: np.ndarray, cap: float,
                   n_scored: int, rule_id: str) -> tuple[np.ndarray, bool, list[str]]:
    """(removed mask, whether the cap was reachable, notes) of case A: the fewest flagged records to
    remove, highest score first per source, so that the undeclared records' expected share bound
    meets the cap; nothing when it already does.

    Needs every undeclared record scored: an unscored sample cannot say which records to remove."""
    removed = np.zeros(len(records), dtype=bool)
    if model.share(0, 0)["ci_high"] <= cap:
        return removed, True, []
    if n_scored < model.n_und:
        raise AuditError(f"Capping by detector score ({rule_id}) needs a score for every record, but "
                         f"{model.n_und - n_scored} undeclared records were not scored.")
    n_flagged = int(flagged.sum())
    notes: list[str] = []
    reachable = True
    to_remove = _search(lambda k: model.share(k, 0)["ci_high"] <= cap, 0, n_flagged)
    if to_remove is None:
        to_remove, reachable = n_flagged, False
        notes.append("removing every record the detector flags still leaves the expected synthetic share's "
                     "upper bound over the cap: the detector misses too much of this corpus to reach it")
    return _remove_flagged(records, flagged, und, to_remove), reachable, notes


def _search(ok, lo: int, hi: int) -> int | None:
    """Smallest k in [lo, hi] with ok(k) (assumed monotone), or None."""
    if not ok(hi):
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def allocate(total: int, weights: np.ndarray, limits: np.ndarray) -> np.ndarray:
    """Split ``total`` over groups in proportion to ``weights``, never above ``limits`` (largest remainder)."""
    out = np.zeros(len(weights), dtype=np.int64)
    total = int(min(total, limits.sum()))
    while total > out.sum():
        room = limits - out
        w = np.where(room > 0, weights, 0).astype(np.float64)
        if w.sum() <= 0:
            w = (room > 0).astype(np.float64)
        left = total - int(out.sum())
        share = w / w.sum() * left
        add = np.minimum(np.floor(share).astype(np.int64), room)
        if add.sum() == 0:   # hand the remainder out one by one, largest fractional part first
            order = np.lexsort((np.arange(len(w)), -(share - np.floor(share))))
            for g in order:
                if left == 0:
                    break
                if room[g] > 0:
                    add[g] += 1
                    left -= 1
        out += add
    return out


def _remove_flagged(records: RecordTable, flagged: np.ndarray, und: np.ndarray, m: int) -> np.ndarray:
    """``m`` flagged records, highest score first within each source, allocated per source."""
    k = len(records.source_names)
    src = records.source
    f_per = np.bincount(src[flagged], minlength=k)
    u_per = np.bincount(src[und], minlength=k)
    limits = np.minimum(f_per, np.maximum(u_per - 1, 0))     # every source keeps one record
    take = allocate(m, f_per, limits)
    out = np.zeros(len(src), dtype=bool)
    for s in np.flatnonzero(take):
        idx = np.flatnonzero(flagged & (src == s))
        order = np.lexsort((idx, -records.score[idx]))
        out[idx[order[: take[s]]]] = True
    return out


def _keep_declared(records: RecordTable, declared: np.ndarray, kept_other: np.ndarray, budget: int,
                   seed: int) -> np.ndarray:
    """Mask of declared-synthetic records to remove so that ``budget`` stay, stratified per source."""
    k = len(records.source_names)
    src = records.source
    d_per = np.bincount(src[declared], minlength=k)
    other = np.bincount(src[kept_other], minlength=k)
    keep = np.zeros(k, dtype=np.int64)
    orphans = np.flatnonzero((d_per > 0) & (other == 0))       # sources with nothing else left
    keep[orphans[:budget]] = 1
    keep += allocate(budget - int(keep.sum()), d_per, d_per - keep)
    rng = np.random.default_rng(seed)
    out = declared.copy()
    for s in np.flatnonzero(keep):
        idx = np.flatnonzero(declared & (src == s))
        out[rng.choice(idx, size=int(keep[s]), replace=False)] = False
    return out
