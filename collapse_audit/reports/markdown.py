"""Markdown report (GitHub-flavoured): for pull-request comments, wikis and ``$GITHUB_STEP_SUMMARY``.

A pure function of the result. Every string that came from the dataset (excerpts, file names,
source names, provenance tags, licences) goes through :func:`md`, which neutralises both HTML and
Markdown syntax, so a record cannot inject markup, links or images into the rendered page.
"""

from __future__ import annotations

from typing import Any

from . import _common as c

ICON = {"pass": "✅", "fail": "❌", "warn": "⚠️"}
_MD_SPECIAL = {ch: "\\" + ch for ch in "\\`*_[]|~$#!"}
_MD_SPECIAL.update({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_BARS = "▁▂▃▄▅▆▇█"


def md(text: Any) -> str:
    """Inline-safe Markdown text: no HTML, no emphasis/links/code/tables, one line."""
    s = " ".join(str(text).split()) if text is not None else ""
    return "".join(_MD_SPECIAL.get(ch, ch) for ch in s)


def code(text: Any) -> str:
    """An inline code span (for metric and field names): literal, one line, table-safe."""
    s = " ".join(str(text).split()) if text is not None else ""
    return "`" + s.replace("`", "'").replace("|", "\\|") + "`"


def _table(headers: list[str], rows: list[list[str]], align: list[str] | None = None) -> list[str]:
    align = align or ["---"] * len(headers)
    out = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    out += ["| " + " | ".join(cell if cell != "" else " " for cell in row) + " |" for row in rows]
    return out + [""]


def sparkline(counts: list[int]) -> str:
    top = max(counts) if counts else 0
    if top <= 0:
        return _BARS[0] * len(counts)
    return "".join(_BARS[min(len(_BARS) - 1, round(n / top * (len(_BARS) - 1)))] if n else " " for n in counts)


def render(result: dict) -> str:
    return "\n".join(_lines(result)).rstrip("\n") + "\n"


def _lines_head(result: dict) -> list[str]:
    verdict = c.verdict(result)
    return [
        f"# collapse-audit: {ICON.get(verdict, '❔')} {verdict.upper()}",
        "",
        f"**{c.verdict_sentence(result)}** " + _context(result),
        "",
    ]


def _lines(result: dict) -> list[str]:
    out = _lines_head(result)
    out += _rules_section(result)
    out += _sources_section(result)
    out += _charts_section(result)
    out += _examples_section(result)
    out += _inputs_section(result)
    out += _metrics_section(result)
    return out


def _context(result: dict) -> str:
    bits = []
    total = c.metric(result, "records.total")
    if total is None:
        total = c.get(result, "records", "total")
    if total is not None:
        skipped = c.get(result, "records", "skipped", default=0)
        n_inputs = len(c.inputs(result))
        s = f"{c.fmt_number(total)} records audited"
        if skipped:
            s += f" ({c.fmt_number(skipped)} unreadable, skipped)"
        if n_inputs:
            s += f" from {n_inputs} input{'s' if n_inputs != 1 else ''}"
        bits.append(s)
    pol = c.get(result, "policy", default={})
    if isinstance(pol, dict) and pol.get("path"):
        sha = str(pol.get("sha256") or "")[:12]
        bits.append(f"policy {md(pol['path'])}" + (f" (sha256 {sha})" if sha else ""))
    det = c.get(result, "detector", default={})
    if isinstance(det, dict) and det.get("name"):
        bits.append(f"detector {md(det['name'])}" + (f" {md(det['version'])}" if det.get("version") else ""))
    tool = c.get(result, "tool", default={})
    if isinstance(tool, dict) and tool.get("version"):
        bits.append(f"{md(tool.get('name', 'collapse-audit'))} {md(tool['version'])}")
    started = c.get(result, "run", "started")
    if started:
        bits.append(f"run {md(started)}")
    return " · ".join(bits)


def _rules_section(result: dict) -> list[str]:
    rules = c.rules(result)
    if not rules:
        return ["## Rules", "", "No rules were evaluated.", ""]
    rows = []
    for r in rules:
        st = r.get("status", "?")
        label = f"**{md(r.get('id', ''))}** {md(r.get('name', ''))}".strip()
        scope = c.rule_scope(r)
        if scope:
            label += f" ({md(scope)})"
        rows.append(
            [
                f"{ICON.get(st, '❔')} {md(st)}",
                label,
                code(r["metric"]) if r.get("metric") else "",
                md(c.fmt_value(r.get("metric"), r.get("value"))),
                md(c.fmt_threshold(r)),
                md(r.get("message", "")),
            ]
        )
    out = ["## Rules", ""]
    out += _table(
        ["Status", "Rule", "Metric", "Value", "Threshold", "Result"], rows, ["---", "---", "---", "---:", "---:", "---"]
    )
    flagged = [r for r in c.sorted_rules(result) if r.get("status") in ("fail", "warn")]
    if flagged:
        out += ["### What failed and where to look", ""]
        for r in flagged:
            why = c.rule_why(r)
            line = f"- {ICON.get(r.get('status'), '')} **{md(c.rule_label(r))}**: {md(r.get('message', ''))}"
            if why:
                line += f" *Why:* {md(why)}"
            if r.get("records_flagged") is not None:
                line += f" ({c.fmt_number(r['records_flagged'])} records flagged; see `--annotations`.)"
            out.append(line)
            for ex in c.examples_for(result, r.get("metric"), limit=3):
                note = f" ({md(ex['note'])})" if ex.get("note") else ""
                out.append(f"  - {md(c.location(ex))}{note}: {md(c.excerpt(ex.get('excerpt')))}")
        out.append("")
    return out


def _sources_section(result: dict) -> list[str]:
    headers, rows = c.source_table(result)
    if not rows:
        return []
    field = c.source_field(result)
    out = ["## Per source", ""]
    if field:
        out += [f"Records grouped by the {code(field)} field.", ""]
    body = [[md(row[0][1])] + [md(c.fmt_value(m, v)) for m, v in row[1:]] for row in rows]
    return out + _table(headers, body, ["---"] + ["---:"] * (len(headers) - 1))


def _charts_section(result: dict) -> list[str]:
    out = []
    hist = c.synthetic_histogram(result)
    if hist:
        edges, counts = hist
        thr = c.synthetic_threshold(result)
        line = sparkline(counts)
        if thr is not None:
            # put a marker between the bins at the threshold
            idx = sum(1 for e in edges[1:-1] if e < thr - 1e-12)
            line = line[:idx] + "│" + line[idx:]
        out += [
            "## Synthetic-score distribution",
            "",
            f"`{edges[0]:g} {line} {edges[-1]:g}`"
            + (f" (threshold {c.fmt_score(thr)} marked │)" if thr is not None else ""),
            "",
        ]
        if thr is not None:
            flagged, scored, exact = c.flagged_share(result, edges, counts, thr)
            out += [
                f"{'' if exact else 'About '}{c.fmt_number(flagged)} of {c.fmt_number(scored)} scored records "
                "at or above the threshold (flagged as synthetic).",
                "",
            ]
    est = c.get(result, "details", "synthetic", "estimate", default={})
    if isinstance(est, dict) and est.get("estimate") is not None:
        out += [
            f"Estimated synthetic share: **{c.fmt_pct(est.get('estimate'))}** "
            f"(95% interval {c.fmt_pct(est.get('ci_low'))}–{c.fmt_pct(est.get('ci_high'))}"
            + (f"; {md(est['method'])}" if est.get("method") else "")
            + ").",
            "",
        ]
    sizes = c.cluster_sizes(result)
    if sizes:
        out += ["## Near-duplicate cluster sizes", ""]
        out += _table(
            ["Cluster size", "Clusters", ""],
            [[str(s), c.fmt_number(n), "█" * max(1, round(20 * n / max(x for _, x in sizes)))] for s, n in sizes],
            ["---:", "---:", "---"],
        )
    return out


def _examples_section(result: dict) -> list[str]:
    out = []
    top = c.synthetic_top(result)
    if top:
        out += ["### Highest synthetic scores", ""]
        out += _table(
            ["Score", "Provenance", "Location", "Excerpt"],
            [
                [
                    c.fmt_number(round(i["score"], 4)) if c._is_number(i.get("score")) else c.MISSING,
                    md(i.get("provenance")) if i.get("provenance") is not None else "*untagged*",
                    md(c.location(i)),
                    md(c.excerpt(i.get("excerpt"))),
                ]
                for i in top
            ],
            ["---:", "---", "---", "---"],
        )
    clusters = c.near_clusters(result)
    if clusters:
        rows = []
        for cl in clusters:
            for k, mem in enumerate(c.cluster_members(cl)):
                rows.append(
                    [
                        c.fmt_number(cl.get("size")) if k == 0 else "",
                        md(c.location(mem)),
                        md(c.excerpt(mem.get("excerpt"))),
                    ]
                )
        out += ["### Largest near-duplicate clusters", ""]
        out += _table(["Size", "Location", "Excerpt"], rows, ["---:", "---", "---"])
    groups = c.exact_groups(result)
    if groups:
        out += ["### Largest exact-duplicate groups", ""]
        out += _table(
            ["Copies", "First at", "Excerpt"],
            [[c.fmt_number(g.get("size")), md(c.location(g)), md(c.excerpt(g.get("excerpt")))] for g in groups],
            ["---:", "---", "---"],
        )
    miss = c.provenance_missing(result)
    if miss:
        out += ["### Records without provenance", ""]
        out += _table(["Location", "Excerpt"], [[md(c.location(i)), md(c.excerpt(i.get("excerpt")))] for i in miss])
    lic = c.license_examples(result)
    if lic:
        out += ["### Records with a licence outside the allowlist", ""]
        out += _table(
            ["Licence", "Location", "Excerpt"],
            [[md(i.get("license", "")), md(c.location(i)), md(c.excerpt(i.get("excerpt")))] for i in lic],
        )
    skipped = c.skipped_examples(result)
    if skipped:
        out += ["### Unreadable records (skipped)", ""]
        out += _table(["Location", "Reason"], [[md(c.location(i)), md(i.get("reason", ""))] for i in skipped])
    if out:
        out = ["## Worst examples", ""] + out
    return out


def _inputs_section(result: dict) -> list[str]:
    ins = c.inputs(result)
    if not ins:
        return []
    rows = [
        [
            md(i.get("path", "")),
            md(i.get("format", "")) + (f" ({md(i['compression'])})" if i.get("compression") else ""),
            c.fmt_number(i.get("records")),
            c.fmt_number(i.get("skipped", 0)),
        ]
        for i in ins
    ]
    return ["## Inputs", ""] + _table(["File", "Format", "Records", "Skipped"], rows, ["---", "---", "---:", "---:"])


def _metrics_section(result: dict) -> list[str]:
    items = list(c.iter_metrics(result))
    if not items:
        return []
    rows = [[code(k), md(c.fmt_value(k, v)), md(c.fmt_number(v)) if c.is_fraction(k) else ""] for k, v in items]
    return (
        ["<details><summary>All metrics</summary>", ""]
        + _table(["Metric", "Value", "Raw"], rows, ["---", "---:", "---:"])
        + ["</details>", ""]
    )
