"""Apply the policy's rules to the finished metrics: statuses, messages, verdict, per-record issues."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from ..errors import AuditError
from .load import RuleSpec

#: why a metric may be absent from a scan, for the error message
NEEDS = {"drift.": "--baseline", "contamination.": "--eval-set"}


def fmt(metric: str, value: float) -> str:
    if metric.endswith(("_fraction", "_ci_low", "_ci_high")):
        return f"{value:.1%}" if abs(value) >= 0.001 or value == 0 else f"{value:.3%}"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.4g}"


def _interval(metric: str, pool: dict[str, Any]) -> tuple[float, float] | None:
    lo, hi = pool.get(f"{metric}_ci_low"), pool.get(f"{metric}_ci_high")
    return (lo, hi) if isinstance(lo, (int, float)) and isinstance(hi, (int, float)) else None


def _message(rule: RuleSpec, value: float, violated: bool, pool: dict[str, Any]) -> str:
    bound = "maximum" if rule.op == "max" else "minimum"
    scope = f" for source '{rule.where['source']}'" if rule.where else ""
    verb = ("exceeds the" if rule.op == "max" else "is below the") if violated else "is within the"
    msg = f"{rule.metric}{scope} = {fmt(rule.metric, value)} {verb} {bound} {fmt(rule.metric, rule.threshold)}"
    ci = _interval(rule.metric, pool)
    if ci is not None:
        lo, hi = ci
        msg += f" (95% interval {fmt(rule.metric, lo)}–{fmt(rule.metric, hi)})"
        if lo <= rule.threshold <= hi and lo < hi:
            msg += "; the interval straddles the threshold, so the estimate is too uncertain to be sure either way"
    return msg


def evaluate_rules(rules: list[RuleSpec], metrics: dict[str, Any], groups: dict[str, dict],
                   flags: dict[str, np.ndarray], sources, total: int):
    """Return (rule result dicts, verdict, issues ListArray aligned with the records)."""
    out: list[dict[str, Any]] = []
    blame: list[np.ndarray] = []
    ids: list[str] = []
    for rule in rules:
        pool = metrics
        mask = None
        if rule.where:
            pool = groups.get(rule.where["source"])
            mask = sources.mask(rule.where["source"])
            if pool is None or mask is None:
                out.append(_row(rule, None, "warn", f"no records have source '{rule.where['source']}'; "
                                "nothing to check (is the source name right?)", 0))
                continue
        value = pool.get(rule.metric)
        if value is None:
            need = next((flag for prefix, flag in NEEDS.items() if rule.metric.startswith(prefix)), None)
            hint = f" (it needs {need})" if need else ""
            raise AuditError(f"Rule {rule.id} needs metric '{rule.metric}', which this scan did not compute{hint}.")
        violated = value > rule.threshold if rule.op == "max" else value < rule.threshold
        status = "pass" if not violated else ("fail" if rule.severity == "error" else "warn")
        flag = flags.get(rule.metric)
        count = None
        if flag is not None:
            flag = flag & mask if mask is not None else flag
            count = int(flag.sum())
            blame.append(flag)
            ids.append(rule.id)
        out.append(_row(rule, value, status, _message(rule, value, violated, pool), count))
    verdict = "fail" if any(r["status"] == "fail" for r in out) else "pass"
    return out, verdict, _issues(blame, ids, total)


def _row(rule: RuleSpec, value, status: str, message: str, count) -> dict[str, Any]:
    return {"id": rule.id, "name": rule.name, "metric": rule.metric, "op": rule.op,
            "threshold": rule.threshold, "value": value, "status": status, "severity": rule.severity,
            "message": message, "where": rule.where, "records_flagged": count}


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
