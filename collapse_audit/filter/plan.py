"""The filter's decisions: which records to keep, and for each removed record the rule that removed it.

Pure function of per-record arrays (``RecordTable``), the policy's rules and the detector's figures,
so any engine that can produce those arrays (the local one today, a distributed one later) reuses it
unchanged; writing the output is a separate step (``writers.py``).

Order of the steps, each acting on what the previous ones kept:

1. duplicates (rules on ``duplicates.exact_*`` / ``duplicates.near_*``): every record that is not
   its group's representative goes; the representative is exactly the record the scan's
   ``duplicate_of_row`` points to (the first of its exact group for an exact-only policy);
2. provenance (rules on ``provenance.missing_*``, ``missing_required_*``, ``disallowed_license_*``,
   ``unknown_value_*``) and contamination (``contamination.*``): every record the scan's
   ``issues`` column ties to such a rule goes (the scan already applied any ``where: {source}``);
3. the synthetic-share cap (a rule ``synthetic.estimated_fraction`` max): see ``synthetic_cap.py``.

One byte per record: 0 = keep, k = removed by ``reasons[k - 1]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import AuditError
from ..policy import RuleSpec
from .records import RecordTable
from .synthetic_cap import CapResult, cap_synthetic

DUPLICATE_EXACT = ("duplicates.exact_count", "duplicates.exact_fraction")
DUPLICATE_NEAR = ("duplicates.near_count", "duplicates.near_fraction")
PER_RECORD_PREFIXES = ("provenance.missing_count", "provenance.missing_fraction",
                       "provenance.missing_required_", "provenance.disallowed_license_",
                       "provenance.unknown_value_", "contamination.")
SYNTHETIC_CAP = "synthetic.estimated_fraction"


@dataclass
class Plan:
    """The filter's decision per record (kept, or removed by which rule and why) and what each rule did."""

    reason: np.ndarray                       # uint8 per record: 0 keep, k -> reasons[k - 1]
    reasons: list[str]                       # rule ids, in the order they acted
    basis: np.ndarray                        # uint8 per record: index into BASES (why within the rule)
    cap: CapResult | None = None
    acted_on: list[dict] = field(default_factory=list)   # rules the filter enforced, with what it did
    ignored: list[dict] = field(default_factory=list)    # rules it did not act on, and why

    @property
    def kept(self) -> np.ndarray:
        """Per record, whether it is copied to the output."""
        return self.reason == 0


#: why a record went, inside its rule (the ``basis`` column of the manifest)
BASES = ("", "exact duplicate", "near duplicate", "flagged by the scan", "declared synthetic", "detector score")


def build_plan(records: RecordTable, rules: list[RuleSpec], *, ignore: set[str], detector_validation: dict,
               estimate_validated: tuple[bool, str], threshold: float, seed: int) -> Plan:
    """Apply the record-level rules (duplicates, flagged records, then the synthetic cap on what is left)."""
    n = len(records)
    plan = Plan(reason=np.zeros(n, dtype=np.uint8), reasons=[], basis=np.zeros(n, dtype=np.uint8))
    active = []
    for rule in rules:
        if rule.id in ignore:
            plan.ignored.append({"id": rule.id, "metric": rule.metric, "why": "ignored on the command line"})
        elif _kind(rule) is None:
            plan.ignored.append({"id": rule.id, "metric": rule.metric,
                                 "why": "describes the corpus as a whole; no record-level fix"})
        else:
            active.append(rule)
    if len(active) > 250:
        raise AuditError("The policy has more than 250 rules the filter would act on.")
    for kind in ("exact", "near", "records", "cap"):
        for rule in (r for r in active if _kind(r) == kind):
            if kind == "cap":
                if plan.cap is not None or rule.where:
                    plan.ignored.append({"id": rule.id, "metric": rule.metric,
                                         "why": "only one corpus-wide synthetic cap is enforced"})
                    continue
                plan.cap = cap_synthetic(records, plan.kept, rule.threshold, detector_validation,
                                         estimate_validated, threshold, seed, rule.id)
                _remove(plan, rule.id, plan.cap.removed_declared, BASES.index("declared synthetic"))
                _remove(plan, rule.id, plan.cap.removed_scored, BASES.index("detector score"))
                plan.acted_on.append({"id": rule.id, "metric": rule.metric,
                                      "removed": int(plan.cap.removed_declared.sum() + plan.cap.removed_scored.sum())})
                continue
            if kind == "exact":
                mask, basis = _exact_copies(records), "exact duplicate"
            elif kind == "near":
                mask, basis = records.duplicate_of >= 0, "near duplicate"
            else:
                mask, basis = records.flagged_by(rule.id), "flagged by the scan"
            before = int((plan.reason > 0).sum())
            _remove(plan, rule.id, mask, BASES.index(basis))
            plan.acted_on.append({"id": rule.id, "metric": rule.metric,
                                  "removed": int((plan.reason > 0).sum()) - before})
    return plan


def _kind(rule: RuleSpec) -> str | None:
    m = rule.metric
    if rule.op != "max":
        return None
    if m in DUPLICATE_EXACT:
        return "exact" if not rule.where else None
    if m in DUPLICATE_NEAR:
        return "near" if not rule.where else None
    if m == SYNTHETIC_CAP:
        return "cap"
    if m.startswith(PER_RECORD_PREFIXES):
        return "records"
    return None


def _exact_copies(records: RecordTable) -> np.ndarray:
    """Every member of an exact group but its first (lowest-index) record."""
    g = records.exact_group
    out = np.zeros(len(g), dtype=bool)
    members = np.flatnonzero(g >= 0)
    if len(members):
        _, first = np.unique(g[members], return_index=True)
        out[members] = True
        out[members[first]] = False
    return out


def _remove(plan: Plan, rule_id: str, mask: np.ndarray, basis: int) -> None:
    """Mark records still kept that ``mask`` selects as removed by ``rule_id``."""
    hit = mask & (plan.reason == 0)
    if not hit.any():
        if rule_id not in plan.reasons:
            plan.reasons.append(rule_id)
        return
    if rule_id not in plan.reasons:
        plan.reasons.append(rule_id)
    plan.reason[hit] = plan.reasons.index(rule_id) + 1
    plan.basis[hit] = basis


#: above this estimated share of base-model text, capping by the trained detector's score is refused
BLIND_FAMILY_MAX = 0.02


def estimate_validated(result: dict | None) -> tuple[bool, str]:
    """Whether the scan's synthetic-share estimate is validated for this corpus, and why (not).

    Reads ``detector.applicability.state`` (validated | calibrated | unvalidated). A result without
    that block comes from an engine that did not assess applicability: it counts as validated only
    when it has no ``synthetic.estimate_validated`` metric either; with the metric, the metric decides.
    No result at all (``--from-annotations`` without ``--scan-result``) is not validated.
    """
    if result is None:
        return False, "no scan result to say whether the estimate applies (pass --scan-result)"
    app = (result.get("detector") or {}).get("applicability")
    families = ((result.get("detector") or {}).get("witnesses") or {}).get("families") or {}
    if float(families.get("base") or 0.0) > BLIND_FAMILY_MAX:
        # the joint estimate is right, but the records it attributes to base models score human on the
        # trained detector: removing by that score would leave them all in and overstate the result
        return False, (f"{float(families['base']):.0%} of the undeclared records are estimated to be base-model "
                       f"text, which the trained detector cannot flag record by record (only the language-model "
                       f"witness sees it, and it speaks about shares, not records)")
    if isinstance(app, dict) and "state" in app:
        return app["state"] in ("validated", "calibrated"), str(app.get("reason") or app["state"])
    flag = (result.get("metrics") or {}).get("synthetic.estimate_validated")
    if flag is None:
        return True, "the scan did not assess applicability; the detector's validation figures are used"
    return flag == 1.0, "the scan marked the estimate " + ("validated" if flag == 1.0 else "not validated")
