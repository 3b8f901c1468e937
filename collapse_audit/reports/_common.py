"""What every file renderer reads from the result, in one tolerant place.

Renderers are pure functions of the result dict. These helpers pull the pieces they share (rules
with their one-line "why", per-source rows, worst examples, number formatting) out of the result
and never fail on a missing optional key: a result from a scan without a detector, without a
``source`` field or from an older engine still renders.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any, Iterable

EXCERPT_LIMIT = 160  # characters of a record shown in a report (the engine keeps at most 200)
MISSING = "—"
MAX_EXAMPLES = 20  # rows per example table
MAX_MEMBERS = 5  # members shown per near-duplicate cluster
MAX_CLUSTERS = 10  # near-duplicate clusters shown


# ---------------------------------------------------------------------------------------- access


def get(obj: Any, *path: Any, default: Any = None) -> Any:
    """``obj[path[0]][path[1]]...`` or ``default`` when any step is missing or of the wrong type."""
    for key in path:
        if isinstance(obj, dict) and key in obj:
            obj = obj[key]
        elif isinstance(obj, list) and isinstance(key, int) and -len(obj) <= key < len(obj):
            obj = obj[key]
        else:
            return default
    return default if obj is None else obj


def metrics(result: dict) -> dict:
    m = result.get("metrics")
    return m if isinstance(m, dict) else {}


def metric(result: dict, name: str) -> float | None:
    v = metrics(result).get(name)
    return v if _is_number(v) else None


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


# ------------------------------------------------------------------------------------ formatting


def is_fraction(name: str | None) -> bool:
    """Metrics that are shares in [0, 1] and read best as percentages."""
    if not name:
        return False
    last = name.rsplit(".", 1)[-1]
    return "fraction" in last or last.endswith("_share") or last == "share"


def fmt_pct(v: Any, digits: int = 1) -> str:
    if not _is_number(v):
        return MISSING
    if v != 0 and abs(v) < 0.5 * 10 ** (-digits - 2):
        return f"<{10**-digits:.{digits}f}%"
    return f"{v * 100:.{digits}f}%"


def fmt_number(v: Any) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if not _is_number(v):
        return MISSING if v is None else str(v)
    if float(v).is_integer() and abs(v) < 1e15:
        return f"{int(v):,}"
    if abs(v) >= 1000:
        return f"{v:,.1f}"
    return f"{v:.4g}" if abs(v) >= 0.001 else f"{v:.3g}"


def fmt_value(name: str | None, v: Any) -> str:
    """A metric value as a person reads it: shares as percentages, counts with separators."""
    if is_fraction(name) and _is_number(v):
        return fmt_pct(v)
    return fmt_number(v)


def fmt_threshold(rule: dict) -> str:
    op = rule.get("op")
    sym = {"max": "≤", "min": "≥"}.get(op, str(op or ""))
    t = rule.get("threshold")
    if t is None:
        return MISSING
    return f"{sym} {fmt_value(rule.get('metric'), t)}".strip()


def excerpt(text: Any, limit: int = EXCERPT_LIMIT) -> str:
    """One line, at most ``limit`` characters, control characters made visible-safe (not escaped!)."""
    if text is None:
        return ""
    t = " ".join(str(text).split())
    t = _CONTROL.sub("\ufffd", t)
    return t if len(t) <= limit else t[: limit - 1] + "…"


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def location(item: dict) -> str:
    """``file:row`` (or ``file, location``) of an example record."""
    f = item.get("file")
    row = item.get("row")
    loc = item.get("location")
    if row is not None:
        return f"{f}:{row}" if f else f"row {row}"
    if loc is not None:
        return f"{f}, {loc}" if f else str(loc)
    return str(f) if f else MISSING


# ------------------------------------------------------------------------------------- verdict

STATUS_ORDER = {"fail": 0, "warn": 1, "pass": 2}


def rules(result: dict) -> list[dict]:
    rs = result.get("rules")
    return [r for r in rs if isinstance(r, dict)] if isinstance(rs, list) else []


def verdict(result: dict) -> str:
    v = result.get("verdict")
    if v in ("pass", "fail"):
        return v
    return "fail" if any(r.get("status") == "fail" for r in rules(result)) else ("pass" if rules(result) else "unknown")


def counts(result: dict) -> dict[str, int]:
    c = {"pass": 0, "fail": 0, "warn": 0, "other": 0}
    for r in rules(result):
        c[r.get("status") if r.get("status") in c else "other"] += 1
    return c


def verdict_sentence(result: dict) -> str:
    c = counts(result)
    n = len(rules(result))
    if n == 0:
        return "No rules were evaluated."
    parts = [f"{c['fail']} of {n} rule{'s' if n != 1 else ''} failed"]
    if c["warn"]:
        parts.append(f"{c['warn']} warning{'s' if c['warn'] != 1 else ''}")
    parts.append(f"{c['pass']} passed")
    return ", ".join(parts) + "."


def rule_label(rule: dict) -> str:
    return " ".join(str(x) for x in (rule.get("id"), rule.get("name")) if x) or "rule"


def rule_scope(rule: dict) -> str:
    where = rule.get("where")
    if isinstance(where, dict) and where:
        return ", ".join(f"{k} = {v}" for k, v in where.items())
    return ""


_METRIC_WHY = {
    "synthetic.estimated_fraction": (
        "Models trained on a growing share of model-generated text lose the tails of the human distribution "
        "(model collapse)."
    ),
    "synthetic.declared_fraction": (
        "Records tagged as model-generated count towards model collapse; this cap trusts the tags."
    ),
    "synthetic.detected_fraction": (
        "The detector's flagged share is a direct, if noisy, measure of model-generated text."
    ),
    "provenance.undeclared_synthetic_count": (
        "Records tagged human that look model-generated suggest mislabelled provenance."
    ),
    "duplicates.near_fraction": (
        "Near-duplicates over-weight recycled content, shrink effective diversity and speed up memorisation."
    ),
    "duplicates.exact_fraction": (
        "Exact copies are pure waste and a sign of a broken pipeline (re-ingested shards, fan-out joins)."
    ),
    "provenance.missing_fraction": (
        "A record that cannot say where it came from cannot be removed when its source turns out bad."
    ),
}

_FAMILY_WHY = {
    "synthetic": "A growing share of model-generated text makes models lose the tails of the human distribution.",
    "duplicates": "Repeated text over-weights recycled content and shrinks the corpus's effective diversity.",
    "provenance": "Records that cannot say where they came from cannot be removed when their source goes bad.",
    "diversity": "Shrinking lexical diversity is an early sign of homogenised, collapsed data.",
    "drift": "A corpus drifting away from its human baseline loses the distribution the model should learn.",
    "contamination": "Evaluation text in the training data inflates benchmark scores.",
    "records": "The audit needs enough readable records to say anything.",
}


@lru_cache(maxsize=1)
def _catalogue_why() -> dict[tuple, str]:
    try:
        from ..checks.registry import catalogue

        docs = catalogue()
    except Exception:  # the catalogue is optional for rendering; a broken one must not break a report
        return {}
    out = {}
    for rid, doc in docs.items():
        rationale = " ".join(str(getattr(doc, "rationale", "")).split())
        first = re.split(r"(?<=[.!?])\s+(?=[A-Z(])", rationale, maxsplit=1)[0]
        out[(rid, getattr(doc, "metric", None))] = first[:1].upper() + first[1:]
    return out


def rule_why(rule: dict) -> str:
    """A one-line reason the rule exists: from the result if it carries one, else the catalogue."""
    for key in ("why", "rationale"):
        if isinstance(rule.get(key), str) and rule[key].strip():
            return " ".join(rule[key].split())
    cat = _catalogue_why().get((str(rule.get("id")), rule.get("metric")))  # only if the id means the same metric
    if cat:
        return cat
    m = str(rule.get("metric") or "")
    if m in _METRIC_WHY:
        return _METRIC_WHY[m]
    return _FAMILY_WHY.get(m.split(".", 1)[0], "")


def sorted_rules(result: dict) -> list[dict]:
    """Failures first, then warnings, then passes; ties keep the policy's order."""
    rs = rules(result)
    return sorted(rs, key=lambda r: STATUS_ORDER.get(r.get("status"), 3))


# ------------------------------------------------------------------------------------- sources

#: (column title, metric names to try in order) for the per-source breakdown
SOURCE_COLUMNS = (
    (
        "Synthetic (est.)",
        ("synthetic.estimated_fraction", "synthetic.detected_fraction", "synthetic.declared_fraction"),
    ),
    ("Near-duplicate", ("duplicates.near_fraction",)),
    ("Exact duplicate", ("duplicates.exact_fraction",)),
    ("Untagged", ("provenance.missing_fraction",)),
)


def source_field(result: dict) -> str | None:
    f = get(result, "sources", "field")
    return str(f) if f else None


def source_groups(result: dict) -> list[tuple[str, dict]]:
    groups = get(result, "sources", "groups", default={})
    if not isinstance(groups, dict):
        return []
    return [(str(k), v if isinstance(v, dict) else {}) for k, v in groups.items()]


def source_records(result: dict, group: dict) -> float | None:
    for name in ("records.total", "records"):
        if _is_number(group.get(name)):
            return group[name]
    return None


def source_table(result: dict) -> tuple[list[str], list[list[tuple[str | None, Any]]]]:
    """Per-source rows: headers and, per source, ``(metric name, value)`` cells after name/records/share.

    Returns ``(headers, rows)`` where each row is ``[(None, name), (None, records), ("x_fraction", share),
    (metric, value), ...]``; only columns that at least one source has are kept.
    """
    groups = source_groups(result)
    total = metric(result, "records.total")
    cols = []
    for title, names in SOURCE_COLUMNS:
        present = [n for n in names if any(_is_number(g.get(n)) for _, g in groups)]
        if present:
            cols.append((title, present[0]))
    headers = ["Source", "Records", "Share of corpus"] + [t for t, _ in cols]
    rows = []
    for name, g in groups:
        n = source_records(result, g)
        share = (n / total) if (n is not None and total) else None
        row = [(None, name), (None, n), ("share_fraction", share)]
        row += [(m, g.get(m)) for _, m in cols]
        rows.append(row)
    return headers, rows


# ------------------------------------------------------------------------------------ examples


def synthetic_top(result: dict) -> list[dict]:
    return _dicts(get(result, "details", "synthetic", "top", default=[]))[:MAX_EXAMPLES]


def exact_groups(result: dict) -> list[dict]:
    return _dicts(get(result, "details", "exact_duplicates", "largest", default=[]))[:MAX_EXAMPLES]


def near_clusters(result: dict) -> list[dict]:
    return _dicts(get(result, "details", "near_duplicates", "largest", default=[]))[:MAX_CLUSTERS]


def cluster_members(cluster: dict) -> list[dict]:
    return _dicts(cluster.get("members", []))[:MAX_MEMBERS]


def cluster_sizes(result: dict) -> list[tuple[int, int]]:
    raw = get(result, "details", "near_duplicates", "cluster_sizes", default={})
    out = []
    if isinstance(raw, dict):
        for k, v in raw.items():
            try:
                size = int(k)
            except (TypeError, ValueError):
                continue
            if _is_number(v):
                out.append((size, int(v)))
    return sorted(out)


def synthetic_histogram(result: dict) -> tuple[list[float], list[int]] | None:
    h = get(result, "details", "synthetic", "histogram", default={})
    edges, cnts = h.get("edges") if isinstance(h, dict) else None, h.get("counts") if isinstance(h, dict) else None
    if (
        isinstance(edges, list)
        and isinstance(cnts, list)
        and len(cnts) >= 1
        and len(edges) == len(cnts) + 1
        and all(_is_number(e) for e in edges)
        and all(_is_number(c) for c in cnts)
    ):
        return [float(e) for e in edges], [int(c) for c in cnts]
    return None


def synthetic_threshold(result: dict) -> float | None:
    for path in (("details", "synthetic", "threshold"), ("detector", "threshold")):
        v = get(result, *path)
        if _is_number(v):
            return float(v)
    return None


def fmt_score(v: float) -> str:
    """A detector score or threshold: three significant digits (0.816, 0.5)."""
    return f"{v:.3g}"


def flagged_share(result: dict, edges: list[float], counts: list[int], thr: float) -> tuple[int, int, bool]:
    """(records at or above the threshold, records scored, exact?) -- from the detector's own counts when the
    result has them, else from the histogram (approximate when the threshold falls inside a bin)."""
    flagged, scored = metric(result, "synthetic.detected_count"), metric(result, "synthetic.scored")
    if flagged is not None and scored:
        return int(flagged), int(scored), True
    above = sum(n for lo, n in zip(edges[:-1], counts) if lo >= thr - 1e-12)
    exact = any(abs(e - thr) < 1e-9 for e in edges) or thr <= edges[0] or thr > edges[-1]
    return above, sum(counts), exact


def provenance_missing(result: dict) -> list[dict]:
    return _dicts(get(result, "details", "provenance", "missing_examples", default=[]))[:MAX_EXAMPLES]


def license_examples(result: dict) -> list[dict]:
    return _dicts(get(result, "details", "provenance", "disallowed_license_examples", default=[]))[:MAX_EXAMPLES]


def skipped_examples(result: dict) -> list[dict]:
    return _dicts(get(result, "records", "skipped_examples", default=[]))[:MAX_EXAMPLES]


def _dicts(xs: Any) -> list[dict]:
    return [x for x in xs if isinstance(x, dict)] if isinstance(xs, list) else []


def examples_for(result: dict, metric_name: str | None, limit: int = 5) -> list[dict]:
    """Example records behind a rule's metric, as ``{file, row, excerpt, note}``, for failure messages."""
    m = metric_name or ""
    out: list[dict] = []
    if m.startswith("synthetic.") or m == "provenance.undeclared_synthetic_count":
        items = synthetic_top(result)
        if m == "provenance.undeclared_synthetic_count":
            humans = {str(v).lower() for v in get(result, "policy", "fields", "human_values", default=["human"])}
            items = [i for i in items if str(i.get("provenance", "")).lower() in humans] or items
        for i in items:
            note = f"score {i['score']:.3f}" if _is_number(i.get("score")) else ""
            out.append({**i, "note": note})
    elif m.startswith("duplicates.near"):
        for c in near_clusters(result):
            for mem in cluster_members(c):
                out.append({**mem, "note": f"cluster of {c.get('size', '?')}"})
    elif m.startswith("duplicates.exact"):
        for g in exact_groups(result):
            out.append({**g, "note": f"{g.get('size', '?')} copies"})
    elif "license" in m:
        for i in license_examples(result):
            out.append({**i, "note": f"licence {i['license']}" if i.get("license") else ""})
    elif m.startswith("provenance."):
        out = [{**i, "note": "no provenance tag"} for i in provenance_missing(result)]
    return out[:limit]


def inputs(result: dict) -> list[dict]:
    return _dicts(result.get("inputs", []))


def iter_metrics(result: dict) -> Iterable[tuple[str, Any]]:
    return sorted(metrics(result).items())
