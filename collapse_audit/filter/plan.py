"""The filter's decisions: which records to keep, and for each removed record the rule that removed it.

Pure function of per-record arrays (``RecordTable``), the policy's rules and the detector's figures,
so any engine that can produce those arrays (the local one today, a distributed one later) reuses it
unchanged; writing the output is a separate step (``writers.py``).

What the filter can do about a rule is declared by its metric (``Metric.record_level``), so a new
check that flags records is filtered with no edit here. Order of the steps, each acting on what the
previous ones kept:

1. ``representative`` metrics (the duplicate checks), in check order: every record that is not its
   group's representative goes (the check's ``copies``); for near duplicates that is exactly the record
   the scan's ``duplicate_of_row`` points to (the first of its exact group for an exact-only policy);
2. ``flagged`` metrics (provenance, contamination, personal data...): every record the scan's
   ``issues`` column ties to such a rule goes (the scan already applied any ``where: {source}``);
3. the ``cap`` metric (a rule ``synthetic.estimated_fraction`` max): see ``synthetic_cap.py``.

One byte per record: 0 = keep, k = removed by ``reasons[k - 1]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..checks.registry import check_for_metric, metric_spec, registered
from ..errors import AuditError
from ..policy import RuleSpec
from .records import RecordTable
from .synthetic_cap import CapResult, cap_synthetic


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
    for rule in sorted(active, key=_step):
        if _kind(rule) == "cap":
            _cap(plan, records, rule, detector_validation, estimate_validated, threshold, seed)
            continue
        if _kind(rule) == "representative":
            check = check_for_metric(rule.metric)
            assert check is not None
            mask = check.copies(records)
            basis = check.copy_basis if check.copy_basis in BASES else "flagged by the scan"
        else:
            mask, basis = records.flagged_by(rule.id), "flagged by the scan"
        before = int((plan.reason > 0).sum())
        _remove(plan, rule.id, mask, BASES.index(basis))
        plan.acted_on.append({"id": rule.id, "metric": rule.metric,
                              "removed": int((plan.reason > 0).sum()) - before})
    return plan


def _cap(plan: Plan, records: RecordTable, rule: RuleSpec, detector_validation: dict,
         estimate_validated: tuple[bool, str], threshold: float, seed: int) -> None:
    """The one corpus-wide synthetic cap, on what the earlier steps kept."""
    if plan.cap is not None or rule.where:
        plan.ignored.append({"id": rule.id, "metric": rule.metric,
                             "why": "only one corpus-wide synthetic cap is enforced"})
        return
    plan.cap = cap_synthetic(records, plan.kept, rule.threshold, detector_validation,
                             estimate_validated, threshold, seed, rule.id)
    _remove(plan, rule.id, plan.cap.removed_declared, BASES.index("declared synthetic"))
    _remove(plan, rule.id, plan.cap.removed_scored, BASES.index("detector score"))
    plan.acted_on.append({"id": rule.id, "metric": rule.metric,
                          "removed": int(plan.cap.removed_declared.sum() + plan.cap.removed_scored.sum())})


_ORDER = ("representative", "flagged", "cap")


def _step(rule: RuleSpec) -> tuple[int, int]:
    """Where a rule acts: its kind's step, then (for duplicate groups) its check's run order."""
    check = check_for_metric(rule.metric)
    return _ORDER.index(_kind(rule) or "cap"), registered().index(check) if check is not None else 0


def _kind(rule: RuleSpec) -> str | None:
    """The metric's declared ``record_level`` where the filter can act on this rule, else None: only
    ``max`` rules, and a duplicate rule restricted to one source cannot pick representatives."""
    spec = metric_spec(rule.metric)
    level = spec.record_level if spec is not None else "none"
    if rule.op != "max" or level == "none" or (level == "representative" and rule.where):
        return None
    return level


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
    if isinstance(app, dict) and "state" in app:
        return app["state"] in ("validated", "calibrated"), str(app.get("reason") or app["state"])
    flag = (result.get("metrics") or {}).get("synthetic.estimate_validated")
    if flag is None:
        return True, "the scan did not assess applicability; the detector's validation figures are used"
    return flag == 1.0, "the scan marked the estimate " + ("validated" if flag == 1.0 else "not validated")
