"""Compliance summary: the training-content summary a model provider files, from one scan.

Structured after the sections of the EU AI Act's public summary template for the training content
of general-purpose AI models (Art. 53(1)(d); AI Office template, 2025):

1. General information -- provider and model (left for the provider), modalities, training data
   size (records, tokens and the template's size band), other characteristics.
2. List of data sources -- every source the scan saw with its share of the corpus, and the
   synthetic-data section: declared, detected and estimated synthetic share with its 95% interval.
3. Data processing aspects -- licences found and those outside the allowlist, provenance
   coverage, deduplication (the duplication that remains, measured), and the audit's verdict.

What a scan cannot know (who the provider is, which model, whether opt-outs were honoured, how
illegal content was removed, each source's category) is left as an explicit ``null`` in JSON and
"*To be completed by the provider*" in Markdown, and listed under ``to_complete``. Both renderers
are pure functions of the result; ``render_json`` is canonical JSON (stable key order).
"""

from __future__ import annotations

import json
import math
from typing import Any

from ..checks import registry
from ..result import ScanResult, fmt_number, fmt_percent
from .markdown import code, md
from .view import applicability, as_result, json_safe, verdict_sentence

TEMPLATE = "EU AI Act - public summary of training content for general-purpose AI models (AI Office template, 2025)"
TODO = "*To be completed by the provider.*"
#: the declared metric the training-data size in tokens is read from
TOKENS = "diversity.tokens"


class _Reader:
    """Tolerant reads from the result's JSON form (the summary is a document about that JSON)."""

    fmt_number = staticmethod(fmt_number)
    fmt_pct = staticmethod(fmt_percent)

    @staticmethod
    def _is_number(v: Any) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

    @staticmethod
    def get(obj: Any, *path: Any, default: Any = None) -> Any:
        for key in path:
            if isinstance(obj, dict) and key in obj:
                obj = obj[key]
            else:
                return default
        return default if obj is None else obj

    def metric(self, result: dict, name: str) -> float | None:
        v = (result.get("metrics") or {}).get(name)
        return v if self._is_number(v) else None

    def source_field(self, result: dict) -> str | None:
        f = self.get(result, "sources", "field")
        return str(f) if f else None

    def source_groups(self, result: dict) -> list[tuple[str, dict]]:
        groups = self.get(result, "sources", "groups", default={})
        if not isinstance(groups, dict):
            return []
        return [(str(k), v if isinstance(v, dict) else {}) for k, v in groups.items()]

    def source_records(self, result: dict, group: dict) -> float | None:
        v = group.get("records.total")
        return v if self._is_number(v) else None

    @staticmethod
    def verdict(result: dict) -> str:
        return str(result.get("verdict") or "fail")

    @staticmethod
    def rules(result: dict) -> list[dict]:
        return [r for r in result.get("rules") or [] if isinstance(r, dict)]

    @staticmethod
    def inputs(result: dict) -> list[dict]:
        return [i for i in result.get("inputs") or [] if isinstance(i, dict)]

    @staticmethod
    def verdict_sentence(result: dict) -> str:
        return verdict_sentence(as_result(result))


c = _Reader()


def _size_band(tokens: float | None) -> str | None:
    """The template's size bands for text."""
    if tokens is None:
        return None
    if tokens < 1e9:
        return "Less than 1 billion tokens"
    if tokens <= 1e13:
        return "1 billion to 10 trillion tokens"
    return "More than 10 trillion tokens"


def _round(v: Any, digits: int = 4) -> Any:
    return round(v, digits) if isinstance(v, float) else v


def _records_total(result: dict) -> Any:
    """Records in the corpus: the metric when the scan measured it, else the result's own count."""
    total = c.metric(result, "records.total")
    return c.get(result, "records", "total") if total is None else total


def build(result: ScanResult | dict) -> dict[str, Any]:
    """The summary as a JSON-able dict (what ``render_json`` writes)."""
    res = as_result(result)
    result = res.to_dict()
    total = _records_total(result)
    summary: dict[str, Any] = {
        "template": TEMPLATE,
        "generated_by": _generated_by(result),
        "general_information": _general_information(result, total),
        "data_sources": {
            "source_field": c.source_field(result),
            "sources": _sources(result, total),
            "synthetic_data": _synthetic_data(result, res),
        },
        "data_processing": _data_processing(result),
    }
    _from_checks(result, summary)
    summary["to_complete"] = _todo_paths(summary)
    return summary


def _generated_by(result: dict) -> dict[str, Any]:
    """Provenance of the summary itself: tool, policy, seed and the files read, so it can be reproduced."""
    tool = c.get(result, "tool", default={})
    return {
        "tool": f"{tool.get('name', 'collapse-audit')} {tool.get('version', '')}".strip()
        if isinstance(tool, dict)
        else None,
        "scan_started": c.get(result, "run", "started"),
        "policy": c.get(result, "policy", "path"),
        "policy_sha256": c.get(result, "policy", "sha256"),
        "policy_source": c.get(result, "policy", "source"),
        "seed": c.get(result, "run", "seed"),
        "inputs": [
            {"path": i.get("path"), "format": i.get("format"), "records": i.get("records"),
             "size": i.get("size"), "fingerprint": i.get("fingerprint")}
            for i in c.inputs(result)
        ],
        "skipped_inputs": result.get("skipped_inputs") or [],
    }


def _general_information(result: dict, total: Any) -> dict[str, Any]:
    """Template section 1: modalities and training data size; provider, model and dates left to the provider."""
    tokens = c.metric(result, TOKENS)
    return {
        "provider": None,
        "model": None,
        "modalities": ["text"],
        "training_data_size": {
            "records": total,
            "records_unreadable_skipped": c.get(result, "records", "skipped", default=0),
            "tokens": tokens,
            "size_band": _size_band(tokens),
        },
        "languages": None,
        "latest_acquisition_date": None,
    }


def _sources(result: dict, total: Any) -> list[dict[str, Any]]:
    """Template section 2: one row per source the scan grouped, with its share of the corpus."""
    sources = []
    for name, g in c.source_groups(result):
        n = c.source_records(result, g)
        sources.append(
            {
                "name": name,
                "records": n,
                "share": _round(n / total) if (n is not None and total) else None,
                "synthetic_share_estimated": _round(g.get("synthetic.estimated_fraction")),
                "synthetic_share_declared": _round(g.get("synthetic.declared_fraction")),
                "near_duplicate_share": _round(g.get("duplicates.near_fraction")),
                "provenance_missing_share": _round(g.get("provenance.missing_fraction")),
                # 2.1 public dataset / 2.2 licensed / 2.3 crawled / 2.4 user / 2.5 synthetic / 2.6 other
                "category": None,
            }
        )
    return sources


def _synthetic_data(result: dict, res: ScanResult) -> dict[str, Any]:
    """Template section 2.5: declared, detected and estimated synthetic share, and the detector behind them."""
    det = c.get(result, "detector", default={})
    det = det if isinstance(det, dict) else {}
    return {
        "declared_share": _round(c.metric(result, "synthetic.declared_fraction")),
        "detected_share": _round(c.metric(result, "synthetic.detected_fraction")),
        "estimated_share": _round(c.metric(result, "synthetic.estimated_fraction")),
        "estimated_share_ci95": [_round(c.metric(result, "synthetic.estimated_fraction_ci_low")),
                                 _round(c.metric(result, "synthetic.estimated_fraction_ci_high"))],
        "estimation_method": None,
        "detector": {
            "name": det.get("name"),
            "version": det.get("version"),
            "threshold": det.get("threshold"),
            "records_scored": det.get("scored"),
            "validation": det.get("validation"),
            "applicability": applicability(res),
        }
        if det
        else None,
        "generating_models": None,
    }


def _data_processing(result: dict) -> dict[str, Any]:
    """Template section 3: licences, provenance coverage, remaining duplication and the audit's verdict."""
    missing_frac = c.metric(result, "provenance.missing_fraction")
    return {
        "licences": {
            "found": None,
            "allowlist": c.get(result, "policy", "fields", "license_allowlist"),
            "outside_allowlist_share": _round(c.metric(result, "provenance.disallowed_license_fraction")),
        },
        "provenance": {
            "coverage": _round(1 - missing_frac) if missing_frac is not None else None,
            "records_without_provenance": c.metric(result, "provenance.missing_count"),
            "values": None,
            "undeclared_synthetic_records": c.metric(result, "provenance.undeclared_synthetic_count"),
        },
        "deduplication": {
            "exact_duplicate_share_remaining": _round(c.metric(result, "duplicates.exact_fraction")),
            "near_duplicate_share_remaining": _round(c.metric(result, "duplicates.near_fraction")),
            "near_duplicate_clusters": c.metric(result, "duplicates.near_clusters"),
            "method": "exact: NFC + whitespace-collapsed hashes; near: MinHash Jaccard over word shingles",
            "applied_before_training": None,
        },
        "opt_outs_respected": None,
        "illegal_content_removal": None,
        "audit": {
            "verdict": c.verdict(result),
            "rules": [
                {
                    "id": r.get("id"),
                    "name": r.get("name"),
                    "status": r.get("status"),
                    "value": r.get("value"),
                    "threshold": r.get("threshold"),
                    "op": r.get("op"),
                }
                for r in c.rules(result)
            ],
        },
    }


def _from_checks(result: dict, summary: dict[str, Any]) -> None:
    """Fill the slots the metrics left empty with what each check says of its details (``Check.summary``)."""
    details: dict[str, Any] = result.get("details") or {}
    metrics: dict[str, Any] = result.get("metrics") or {}
    for cls in registry.registered():
        d = details.get(cls.name)
        if isinstance(d, dict):
            for path, value in cls.summary(d, metrics).items():
                _fill(summary, path.split("."), value)


def _fill(summary: dict[str, Any], path: list[str], value: Any) -> None:
    """Set ``value`` at ``path`` where the slot is empty (a list slot element by element), rounded."""
    *parents, last = path
    node: Any = summary
    for key in parents:
        node = node.get(key) if isinstance(node, dict) else None
    if not isinstance(node, dict):
        return
    have = node.get(last)
    if isinstance(have, list) and isinstance(value, list):
        node[last] = [_round(v) if h is None else h for h, v in zip(have, value, strict=False)]
    elif have is None:
        node[last] = _round(value)


def _todo_paths(d: Any, prefix: str = "") -> list[str]:
    """Dotted paths of provider-supplied fields (the ``None`` leaves the scan cannot fill)."""
    provider_fields = {
        "provider",
        "model",
        "languages",
        "latest_acquisition_date",
        "generating_models",
        "applied_before_training",
        "opt_outs_respected",
        "illegal_content_removal",
        "category",
    }
    out = []
    if isinstance(d, dict):
        for k, v in d.items():
            p = f"{prefix}.{k}" if prefix else k
            if v is None and k in provider_fields:
                out.append(p)
            elif isinstance(v, (dict, list)):
                out += _todo_paths(v, p)
    elif isinstance(d, list):
        for i, v in enumerate(d):
            out += _todo_paths(v, f"{prefix}[{i}]")
    return out


def render_json(result: ScanResult | dict) -> str:
    """The compliance summary as JSON (strict: no NaN), for a provider's own tooling."""
    return json_safe(json.dumps(build(result), indent=2, ensure_ascii=False, allow_nan=False)) + "\n"


def _pct(v: Any) -> str:
    return c.fmt_pct(v) if v is not None else "not measured"


def render_markdown(result: ScanResult | dict) -> str:
    """The compliance summary as Markdown in the template's sections; what a scan cannot know is left to fill in."""
    s = build(result)
    result = as_result(result).to_dict()
    gi, ds, dp = s["general_information"], s["data_sources"], s["data_processing"]
    gen = s["generated_by"]
    out = _md_preamble(gen)
    out += _md_general_information(gi["training_data_size"])
    out += _md_sources(ds)
    out += _md_files_audited(gen)
    out += _md_synthetic_data(ds["synthetic_data"])
    out += _md_licences(dp["licences"])
    out += _md_other_information(dp, result)
    return "\n".join(out).rstrip("\n") + "\n"


def _md_preamble(gen: dict[str, Any]) -> list[str]:
    """Title and the sentence saying which tool, scan and policy measured the figures."""
    return [
        "# Public summary of training content",
        "",
        f"Structured after the {md(TEMPLATE)}. Figures were measured by {md(gen['tool'] or 'collapse-audit')}"
        + (f" on a scan started {md(gen['scan_started'])}" if gen.get("scan_started") else "")
        + (
            f" under policy {code(gen['policy'])}"
            + (f" (sha256 {code(str(gen['policy_sha256'])[:12])})" if gen.get("policy_sha256") else "")
            if gen.get("policy")
            else ""
        )
        + ". Fields the scan cannot know are marked for the provider to complete.",
        "",
    ]


def _md_general_information(size: dict[str, Any]) -> list[str]:
    """Section 1: provider and model left to fill in, then the size table (records, tokens, size band)."""
    return [
        "## 1. General information",
        "",
        "### 1.1 Provider identification",
        "",
        TODO,
        "",
        "### 1.2 Model identification",
        "",
        TODO,
        "",
        "### 1.3 Modalities, overall training data size and other characteristics",
        "",
        "| Item | Value |",
        "| --- | --- |",
        "| Modalities | Text |",
        f"| Size in records | {c.fmt_number(size['records'])}"
        + (
            f" ({c.fmt_number(size['records_unreadable_skipped'])} unreadable records skipped)"
            if size["records_unreadable_skipped"]
            else ""
        )
        + " |",
        "| Size in tokens | "
        f"{c.fmt_number(size['tokens']) if size['tokens'] is not None else 'not measured by this scan'} |",
        f"| Size band (text) | {size['size_band'] or TODO} |",
        f"| Languages | {TODO} |",
        f"| Latest date of data acquisition | {TODO} |",
        "",
    ]


def _md_sources(ds: dict[str, Any]) -> list[str]:
    """Section 2: the per-source table (category left to the provider), or why there is none."""
    out = ["## 2. List of data sources", ""]
    if not ds["sources"]:
        return out + [
            "The scan recorded no per-source breakdown (the policy names no `source` field, or no record has one). "
            + TODO,
            "",
        ]
    if ds["source_field"]:
        out += [
            (f"Sources as recorded in the {code(ds['source_field'])} field of each record. Assign each to the "
             "template's categories (2.1 public datasets, 2.2 licensed or other private third-party data, "
             "2.3 crawled and scraped data, 2.4 user data, 2.5 synthetic data, 2.6 other)."),
            "",
        ]
    out += [
        "| Source | Records | Share of corpus | Synthetic (estimated) | Near-duplicate | Without provenance "
        "| Category |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for src in ds["sources"]:
        out.append(
            f"| {md(src['name'])} | {c.fmt_number(src['records'])} | {c.fmt_pct(src['share'])} | "
            f"{c.fmt_pct(src['synthetic_share_estimated'])} | {c.fmt_pct(src['near_duplicate_share'])} | "
            f"{c.fmt_pct(src['provenance_missing_share'])} | {TODO} |"
        )
    out.append("")
    return out


def _md_files_audited(gen: dict[str, Any]) -> list[str]:
    """The files read (with fingerprints), those skipped and what reproduces the scan: the audit trail."""
    out: list[str] = []
    if gen["inputs"]:
        out += ["Files audited:", "", "| File | Records | Size | Fingerprint |", "| --- | ---: | ---: | --- |"]
        for i in gen["inputs"]:
            fp = i.get("fingerprint") or {}
            out.append(f"| {md(i['path'])} | {c.fmt_number(i['records'])} | "
                       f"{c.fmt_number(i['size']) + ' bytes' if i.get('size') is not None else '—'} | "
                       f"{md(str(fp.get('algorithm')) + ':' + str(fp.get('value'))) if fp.get('value') else '—'} |")
        out.append("")
    if gen["skipped_inputs"]:
        out += ["Files found but not read: "
                + "; ".join(f"{md(x.get('path'))} ({md(x.get('reason'))})" for x in gen["skipped_inputs"]) + ".", ""]
    trail = [f"seed {md(gen['seed'])}" if gen.get("seed") is not None else "",
             f"policy found via {md(gen['policy_source'])}" if gen.get("policy_source") else ""]
    if any(trail):
        out += ["Reproduce with the same tool version and " + ", ".join(t for t in trail if t) + ".", ""]
    return out


def _md_synthetic_data(syn: dict[str, Any]) -> list[str]:
    """Section 2.5: the three synthetic shares with the estimate's interval, the detector and its validity."""
    ci = syn["estimated_share_ci95"]
    out = [
        "### 2.5 Synthetic data",
        "",
        "| Measure | Share |",
        "| --- | ---: |",
        f"| Declared synthetic (provenance tags) | {_pct(syn['declared_share'])} |",
        f"| Flagged by the detector | {_pct(syn['detected_share'])} |",
        f"| **Estimated synthetic share** | **{_pct(syn['estimated_share'])}**"
        + (f" (95% interval {c.fmt_pct(ci[0])}–{c.fmt_pct(ci[1])})" if ci[0] is not None and ci[1] is not None else "")
        + " |",
        "",
    ]
    det = syn["detector"]
    if det and det.get("name"):
        out += [_md_detector_sentence(det, syn), ""]
    app = det.get("applicability") if det else None
    if app:
        out += [f"Estimate validity: **{md(app['state'])}**"
                + (f". {md(app['reason'])}" if app.get("reason") else "")
                + f" Calibration: {md(app['calibration'])}.", ""]
    out += [f"Models used to generate synthetic data: {TODO}", ""]
    return out


def _md_detector_sentence(det: dict[str, Any], syn: dict[str, Any]) -> str:
    """Which detector scored how many records, with its validation figures (a reader judges the estimate by them)."""
    val = det.get("validation")
    val = val if isinstance(val, dict) else {}
    vbits = ", ".join(f"{md(k)} {md(c.fmt_number(v))}" for k, v in val.items() if not isinstance(v, (dict, list)))
    return (
        f"Detector {md(det['name'])}"
        + (f" {md(det['version'])}" if det.get("version") else "")
        + (
            f", {c.fmt_number(det['records_scored'])} records scored"
            if det.get("records_scored") is not None
            else ""
        )
        + (f"; validation {vbits}" if vbits else "")
        + (f". Estimate: {md(syn['estimation_method'])}" if syn.get("estimation_method") else "")
        + "."
    )


def _md_licences(lic: dict[str, Any]) -> list[str]:
    """Section 3 opening and 3.1 (opt-outs, left to the provider), then the licences found against the allowlist."""
    out = [
        "## 3. Data processing aspects",
        "",
        "### 3.1 Respect of reservation of rights (text and data mining opt-outs)",
        "",
        TODO,
        "",
        "#### Licences found",
        "",
    ]
    if lic["found"]:
        tot = sum(v for v in lic["found"].values() if c._is_number(v)) or None
        allow = {str(a).lower() for a in lic["allowlist"]} if isinstance(lic["allowlist"], list) else None
        out += ["| Licence | Records | Share | On the allowlist |", "| --- | ---: | ---: | --- |"]
        for name, n in lic["found"].items():
            on = "—" if allow is None else ("yes" if str(name).lower() in allow else "**no**")
            out.append(
                f"| {md(name)} | {c.fmt_number(n)} | {c.fmt_pct(n / tot) if tot and c._is_number(n) else '—'} | {on} |"
            )
        out.append("")
    else:
        out += ["No licence field was recorded by the scan.", ""]
    if lic["outside_allowlist_share"] is not None:
        out += [
            f"Share of records with a licence outside the allowlist: {c.fmt_pct(lic['outside_allowlist_share'])}.",
            "",
        ]
    return out


def _md_other_information(dp: dict[str, Any], result: dict) -> list[str]:
    """Sections 3.2 (left to the provider) and 3.3: provenance, remaining duplication, the verdict and its rules."""
    pv, dd = dp["provenance"], dp["deduplication"]
    out = [
        "### 3.2 Removal of illegal content",
        "",
        TODO,
        "",
        "### 3.3 Other information",
        "",
        "| Item | Value |",
        "| --- | --- |",
        f"| Provenance coverage (records with a provenance tag) | {_pct(pv['coverage'])} |",
        f"| Records without provenance | {c.fmt_number(pv['records_without_provenance'])} |",
        "| Records tagged human that the detector flags as synthetic | "
        f"{c.fmt_number(pv['undeclared_synthetic_records'])} |",
        f"| Exact duplicates remaining | {_pct(dd['exact_duplicate_share_remaining'])} |",
        f"| Near-duplicates remaining | {_pct(dd['near_duplicate_share_remaining'])}"
        + (
            f" in {c.fmt_number(dd['near_duplicate_clusters'])} clusters"
            if dd["near_duplicate_clusters"] is not None
            else ""
        )
        + " |",
        f"| Deduplication method measured | {md(dd['method'])} |",
        f"| Deduplication applied before training | {TODO} |",
        f"| Audit verdict | {md(dp['audit']['verdict']).upper()}: {md(c.verdict_sentence(result))} |",
        "",
    ]
    rules = dp["audit"]["rules"]
    if rules:   # every rule the audit applied, whichever check declared it
        out += ["| Rule | Name | Status |", "| --- | --- | --- |"]
        out += [f"| {md(r['id'])} | {md(r['name'])} | {md(r['status'])} |" for r in rules]
        out.append("")
    return out
