"""Temporary bridge to three modules the reports build on but that land separately.

The reports are written against ``collapse_audit.text.inert`` (``inert``/``rich_inert``) and
``collapse_audit.checks.registry`` (``registered()`` check classes with ``section(details, metrics)``,
``metric_spec(name)``, ``check_for_metric(name)``, ``catalogue()``). Until they exist, each function here uses them when
importable and otherwise falls back to a local equivalent built from today's result details.
This file is the only place that knows about the fallback; it is deleted once those modules land
(callers then import ``inert``/``rich_inert`` from ``text.inert`` and use the registry directly).
"""

from __future__ import annotations

import re
from typing import Any

from ..result import Section, Table, fmt_metric, fmt_number, fmt_percent

# ------------------------------------------------------------------------------ inert text

_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff"
    "\ud800-\udfff]"
)


def _local_inert(s: Any) -> str:
    """Control, bidi and surrogate characters shown as ``\\xNN``/``\\uNNNN`` escapes (TAB and LF kept)."""
    text = "" if s is None else s if isinstance(s, str) else str(s)
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                       else f"\\u{ord(m.group()):04x}", text)


def _local_rich_inert(s: Any) -> str:
    from rich.markup import escape

    return escape(_local_inert(s))


try:  # pragma: no cover - exercised once the hardening module lands
    from ..text.inert import inert, rich_inert  # type: ignore[import-not-found]
except ImportError:
    inert, rich_inert = _local_inert, _local_rich_inert
else:  # the shared module keeps None as "None"; reports show it as empty
    _shared_inert = inert

    def inert(s: Any) -> str:  # type: ignore[no-redef]
        return "" if s is None else _shared_inert(s)


# ------------------------------------------------------------------------------ registry

def _registry() -> Any:
    try:
        from ..checks import registry  # type: ignore[attr-defined]
    except ImportError:
        return None
    return registry


#: today's metric kinds, used only until checks declare theirs (checks.registry.metric_spec)
_KINDS: dict[str, str] = {
    "records.total": "count", "records.skipped": "count", "tokens.total": "count",
    "duplicates.exact_count": "count", "duplicates.exact_fraction": "fraction",
    "duplicates.near_count": "count", "duplicates.near_fraction": "fraction", "duplicates.near_clusters": "count",
    "synthetic.scored": "count", "synthetic.declared_count": "count", "synthetic.declared_fraction": "fraction",
    "synthetic.detected_count": "count", "synthetic.detected_fraction": "fraction",
    "synthetic.estimated_fraction": "interval", "synthetic.estimated_token_fraction": "interval",
    "synthetic.estimate_validated": "value",
    "provenance.undeclared_synthetic_count": "count", "provenance.undeclared_synthetic_fraction": "fraction",
    "contamination.eval_records": "count", "contamination.eval_count": "count",
    "contamination.eval_fraction": "fraction", "contamination.max_overlap": "fraction",
    "contamination.train_count": "count", "contamination.train_fraction": "fraction",
    "diversity.empty_fraction": "fraction", "diversity.tail_mass": "fraction",
    "diversity.distinct_1": "fraction", "diversity.distinct_2": "fraction", "diversity.distinct_3": "fraction",
    "diversity.distinct_4": "fraction", "diversity.tokens": "count", "diversity.types": "count",
}
for _k in ("missing", "unknown_value", "missing_required", "disallowed_license"):
    _KINDS[f"provenance.{_k}_count"] = "count"
    _KINDS[f"provenance.{_k}_fraction"] = "fraction"


def metric_kind(name: str | None) -> str:
    """The declared kind of a metric (count, fraction, value, interval); ``value`` when unknown."""
    if not name:
        return "value"
    reg = _registry()
    if reg is not None:
        spec = reg.metric_spec(name)
        return spec.kind if spec is not None else "value"
    if name.endswith(("_ci_low", "_ci_high")):
        return _KINDS.get(name.rsplit("_ci_", 1)[0], "value")
    return _KINDS.get(name, "value")


def rule_rationales() -> dict[str, str]:
    """Rule code -> rationale, from the catalogue (registry when present, else the policy catalogue)."""
    reg = _registry()
    try:
        if reg is not None:
            return {code: r.rationale for code, r in reg.catalogue().items()}
        from ..policy.catalogue import catalogue

        return {code: doc.rationale for code, doc in catalogue().items()}
    except Exception:  # noqa: BLE001 - a report must render even when the catalogue cannot load
        return {}


def catalogue_rules() -> list[tuple[str, str, str, str]]:
    """(code, name, metric, rationale) of every catalogued rule, for SARIF's reportingDescriptors."""
    reg = _registry()
    if reg is not None:
        return [(code, r.name, r.metric, r.rationale) for code, r in reg.catalogue().items()]
    from ..policy.catalogue import catalogue

    return [(code, d.name, d.metric, d.rationale) for code, d in catalogue().items()]


def check_sections(details: dict[str, Any], metrics: dict[str, Any]) -> list[Section]:
    """Each check's report section in check order: the registry's ``section()`` when present."""
    reg = _registry()
    if reg is not None:
        out = []
        for cls in reg.registered():
            d = details.get(cls.name)
            s = cls.section(d, metrics) if d is not None else None
            if s is not None:
                out.append(s)
        return out
    out = []
    for key, build in _FALLBACK:
        d = details.get(key)
        if isinstance(d, dict):
            s = build(d, metrics)
            if s is not None:
                out.append(s)
    return out


def check_of_metric(metric: str) -> str | None:
    """The check (details key) that produces ``metric``, for locating a rule's flagged records."""
    reg = _registry()
    if reg is not None:
        cls = reg.check_for_metric(metric)
        return cls.name if cls is not None else None
    table = (("duplicates.exact", "exact_duplicates"), ("duplicates.near", "near_duplicates"),
             ("synthetic.", "synthetic"), ("provenance.undeclared", "synthetic"), ("provenance.", "provenance"),
             ("diversity.", "diversity"), ("drift.", "drift"), ("contamination.", "contamination"))
    return next((check for prefix, check in table if metric.startswith(prefix)), None)


# ------------------------------------------------------------------------------ fallback sections
# Built from the details today's checks write; each moves into its check's ``section()``.

def _loc(item: dict, file_key: str = "file", row_key: str = "row", line_key: str = "line") -> str:
    f = item.get(file_key)
    if item.get(line_key) is not None:
        return f"{f}:{item[line_key]}"
    if item.get(row_key) is not None:
        return f"{f}:{item[row_key]}" if f else f"row {item[row_key]}"
    return str(item.get("location") or f or "")


def _txt(v: Any) -> str:
    return "" if v is None else str(v)


def _list(v: Any) -> list[dict]:
    return [x for x in v if isinstance(x, dict)] if isinstance(v, list) else []


def _exact(d: dict, m: dict) -> Section | None:
    rows = [[fmt_number(g.get("size")), _loc(g), _txt(g.get("excerpt"))] for g in _list(d.get("largest"))]
    return Section("exact_duplicates", "Exact duplicates",
                   facts=[("duplicate groups", fmt_number(d.get("groups")))],
                   tables=[Table(["Copies", "First at", "Excerpt"], rows, "Largest groups")] if rows else [])


def _near(d: dict, m: dict) -> Section | None:
    sizes = d.get("cluster_sizes") or {}
    facts = [("similarity threshold", fmt_number(d.get("threshold"))), ("shingle n-gram", fmt_number(d.get("ngram"))),
             ("verified pairs", fmt_number(d.get("verified_pairs")))]
    tables = []
    if sizes:
        tables.append(Table(["Cluster size", "Clusters"], [[str(k), fmt_number(v)] for k, v in sizes.items()],
                            "Cluster sizes"))
    rows = []
    for c in _list(d.get("largest")):
        for k, mem in enumerate(_list(c.get("members"))):
            rows.append([fmt_number(c.get("size")) if k == 0 else "", _loc(mem), _txt(mem.get("excerpt"))])
    if rows:
        tables.append(Table(["Size", "Location", "Excerpt"], rows, "Largest clusters"))
    return Section("near_duplicates", "Near duplicates", facts=facts, tables=tables)


def _synthetic(d: dict, m: dict) -> Section | None:
    facts = [("detector threshold", fmt_number(d.get("threshold")))]
    est: dict = d["estimate"] if isinstance(d.get("estimate"), dict) else {}
    if est.get("estimate") is not None:
        facts.append(("estimated share", (f"{fmt_percent(est.get('estimate'))} (95% interval "
                      f"{fmt_percent(est.get('ci_low'))}–{fmt_percent(est.get('ci_high'))})")))
        if est.get("method"):
            facts.append(("estimator", _txt(est["method"])))
    rows = [[fmt_number(round(float(i["score"]), 4)) if isinstance(i.get("score"), (int, float)) else "",
             _txt(i.get("provenance")) or "untagged", _loc(i), _txt(i.get("excerpt"))] for i in _list(d.get("top"))]
    tables = [Table(["Score", "Provenance", "Location", "Excerpt"], rows, "Highest synthetic scores")] if rows else []
    return Section("synthetic", "Synthetic text", facts=facts, tables=tables)


def _provenance(d: dict, m: dict) -> Section | None:
    tables = []
    values = d.get("values") or {}
    if values:
        tables.append(Table(["Provenance tag", "Records"], [[_txt(k), fmt_number(v)] for k, v in values.items()],
                            "Provenance tags"))
    lic = d.get("licenses") or {}
    if lic:
        tables.append(Table(["Licence", "Records"], [[_txt(k), fmt_number(v)] for k, v in lic.items()], "Licences"))
    for key, title in (("missing_examples", "Records without provenance"),
                       ("unknown_value_examples", "Records with an unrecognised provenance tag"),
                       ("missing_required_examples", "Records missing a required field"),
                       ("disallowed_license_examples", "Records with a licence outside the allowlist")):
        rows = [[_loc(i), _txt(i.get("license") or i.get("provenance") or ""), _txt(i.get("excerpt"))]
                for i in _list(d.get(key))]
        if rows:
            tables.append(Table(["Location", "Value", "Excerpt"], rows, title))
    return Section("provenance", "Provenance and licences", tables=tables)


def _diversity(d: dict, m: dict) -> Section | None:
    facts = [(k.split(".", 1)[1].replace("_", " "), fmt_metric(metric_kind(k), v))
             for k, v in sorted(m.items()) if k.startswith("diversity.") and v is not None]
    tables = []
    by = d.get("by_source") or {}
    if by:
        cols = ["token_entropy", "distinct_2", "self_similarity", "length_mean"]
        rows = [[_txt(src)] + [fmt_metric(metric_kind(f"diversity.{c}"), f.get(c)) for c in cols]
                for src, f in by.items()]
        tables.append(Table(["Source", "Token entropy", "Distinct 2-grams", "Self-similarity", "Mean length"], rows,
                            "Diversity by source"))
    paragraphs = [_txt(d["sources_note"])] if d.get("sources_note") else []
    return Section("diversity", "Diversity", paragraphs=paragraphs, facts=facts, tables=tables)


def _drift(d: dict, m: dict) -> Section | None:
    facts = [(k.split(".", 1)[1].replace("_", " "), fmt_number(v))
             for k, v in sorted(m.items()) if k.startswith("drift.") and not k.startswith("drift.delta.")
             and v is not None]
    base = d.get("baseline") or {}
    figs_b, figs_c = base.get("figures") or {}, d.get("current") or {}
    rows = []
    for fig in sorted(set(figs_b) & set(figs_c)):
        kind = metric_kind(f"diversity.{fig}")
        delta = m.get(f"drift.delta.{fig}")
        rows.append([fig.replace("_", " "), fmt_metric(kind, figs_b[fig]), fmt_metric(kind, figs_c[fig]),
                     fmt_number(delta) if delta is not None else ""])
    paras = []
    if base.get("records") is not None:
        names = ", ".join(_txt(i.get("path")) for i in _list(base.get("inputs")))
        paras.append(f"Baseline profile: {fmt_number(base.get('records'))} records" + (f" from {names}" if names else "")
                     + ".")
    tables = [Table(["Figure", "Baseline", "Current", "Change"], rows, "Against the baseline")] if rows else []
    return Section("drift", "Drift from the baseline", paragraphs=paras, facts=facts, tables=tables)


def _contamination(d: dict, m: dict) -> Section | None:
    facts = [("n-gram", fmt_number(d.get("ngram"))), ("overlap threshold", fmt_percent(d.get("threshold"))),
             ("contaminated eval records", fmt_number(d.get("total_contaminated")))]
    tables = []
    sets = _list(d.get("eval_sets"))
    if sets:
        tables.append(Table(["Eval set", "Records", "Contaminated", "Share"],
                            [[_txt(s.get("path")), fmt_number(s.get("records")), fmt_number(s.get("contaminated")),
                              fmt_percent(s.get("fraction"))] for s in sets], "Eval sets"))
    rows = []
    for e in _list(d.get("contaminated")):
        ev = _loc(e, "eval_file", "eval_row", "eval_line")
        if e.get("eval_id") is not None:
            ev += f" (id {e['eval_id']})"
        tr = _loc(e, "train_file", "train_row", "train_line") if e.get("train_file") else ""
        rows.append([ev, fmt_percent(e.get("overlap")), tr, _txt(e.get("excerpt"))])
    if rows:
        tables.append(Table(["Eval record", "Overlap", "First training match", "Excerpt"], rows,
                            "Contaminated eval records", _txt(d.get("note"))))
    paras = [_txt(d["flags_note"])] if d.get("flags_note") else []
    return Section("contamination", "Eval-set contamination", paragraphs=paras, facts=facts, tables=tables)


_FALLBACK = (("exact_duplicates", _exact), ("near_duplicates", _near), ("synthetic", _synthetic),
             ("provenance", _provenance), ("diversity", _diversity), ("drift", _drift),
             ("contamination", _contamination))

__all__ = ["catalogue_rules", "check_of_metric", "check_sections", "inert", "metric_kind", "rich_inert",
           "rule_rationales"]
