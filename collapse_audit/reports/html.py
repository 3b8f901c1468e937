"""Self-contained HTML report: one file, no scripts, no network, readable offline and printable.

Verdict first, then every rule with its value, threshold and a one-line why, then three charts
(inline SVG drawn here: the synthetic-score histogram with the detector threshold marked, the
near-duplicate cluster-size distribution, the per-source synthetic/duplicate/untagged shares),
then tables of the worst examples.

Safety: every string that came from the dataset or the result goes through :func:`esc`. As a
second line of defence the page carries a Content-Security-Policy that allows no script at all
and no network fetch, so even a renderer bug could not make a record execute.
"""

from __future__ import annotations

import html as _html
import math
from functools import lru_cache
from importlib import resources
from string import Template
from typing import Any

from . import _common as c

STATUS_TEXT = {"pass": "pass", "fail": "fail", "warn": "warn"}
COLORS = {
    "synthetic": "#c0392b",
    "duplicate": "#e69f00",
    "untagged": "#3b6fb6",
    "below": "#8fa7c9",
    "above": "#c0392b",
    "bar": "#3b6fb6",
}


def esc(value: Any) -> str:
    """HTML-escape anything (text and attribute safe); control and bidi-override characters neutralised."""
    if value is None:
        return ""
    return _html.escape(c._CONTROL.sub("\ufffd", str(value)), quote=True)


@lru_cache(maxsize=None)
def _asset(name: str) -> str:
    return resources.files("collapse_audit.reports.templates").joinpath(name).read_text(encoding="utf-8")


def render(result: dict) -> str:
    verdict = c.verdict(result)
    tool = c.get(result, "tool", default={})
    generator = (
        f"{tool.get('name', 'collapse-audit')} {tool.get('version', '')}".strip()
        if isinstance(tool, dict)
        else "collapse-audit"
    )
    parts = [
        _verdict_header(result, verdict),
        "<main>\n",
        _rules_section(result),
        _charts_section(result),
        _sources_section(result),
        _examples_section(result),
        _inputs_section(result),
        _metrics_section(result),
        "</main>\n",
        _footer(result, generator),
    ]
    return Template(_asset("report.html")).substitute(
        title=esc(f"collapse-audit: {verdict.upper()} — {c.verdict_sentence(result)}"),
        generator=esc(generator),
        css=_asset("report.css"),
        body="".join(parts),
    )


# ------------------------------------------------------------------------------------- sections


def _verdict_header(result: dict, verdict: str) -> str:
    lead = {"pass": "The corpus passes the policy.", "fail": "The corpus fails the policy."}.get(
        verdict, "No verdict was recorded."
    )
    facts = []
    total = c.metric(result, "records.total")
    if total is None:
        total = c.get(result, "records", "total")
    if total is not None:
        facts.append(f"<span><b>{esc(c.fmt_number(total))}</b> records audited</span>")
    skipped = c.get(result, "records", "skipped", default=0)
    if skipped:
        facts.append(f"<span><b>{esc(c.fmt_number(skipped))}</b> unreadable, skipped</span>")
    n_inputs = len(c.inputs(result))
    if n_inputs:
        facts.append(f"<span><b>{n_inputs}</b> input file{'s' if n_inputs != 1 else ''}</span>")
    pol = c.get(result, "policy", default={})
    if isinstance(pol, dict) and pol.get("path"):
        sha = str(pol.get("sha256") or "")[:12]
        facts.append(
            f'<span>policy <b class="mono">{esc(pol["path"])}</b>'
            + (f' <span class="mono" title="sha256 {esc(pol.get("sha256"))}">{esc(sha)}</span>' if sha else "")
            + "</span>"
        )
    det = c.get(result, "detector", default={})
    if isinstance(det, dict) and det.get("name"):
        facts.append(
            f"<span>detector <b>{esc(det['name'])}</b>"
            + (f" {esc(det['version'])}" if det.get("version") else "")
            + "</span>"
        )
    started = c.get(result, "run", "started")
    if started:
        facts.append(f"<span>run <b>{esc(started)}</b></span>")
    return (
        f'<header class="verdict {esc(verdict)}" id="verdict">\n<div class="verdict-inner">\n'
        f'<div class="badge">{esc(verdict.upper())}</div>\n'
        f'<div>\n<h1>Training-data audit</h1>\n<p class="lead">{esc(lead)} {esc(c.verdict_sentence(result))}</p>\n'
        f'<div class="facts">{"".join(facts)}</div>\n</div>\n</div>\n</header>\n'
    )


def _rules_section(result: dict) -> str:
    rules = c.rules(result)
    out = ['<section id="rules">\n<h2>Rules</h2>\n']
    if not rules:
        return out[0] + "<p>No rules were evaluated.</p>\n</section>\n"
    out.append(
        '<table>\n<thead><tr><th>Status</th><th>Rule</th><th class="num">Value</th>'
        '<th class="num">Threshold</th><th>Result and why it matters</th></tr></thead>\n<tbody>\n'
    )
    for r in c.sorted_rules(result):
        st = str(r.get("status", ""))
        scope = c.rule_scope(r)
        why = c.rule_why(r)
        flagged = r.get("records_flagged")
        detail = esc(r.get("message", ""))
        if flagged is not None and st in ("fail", "warn"):
            detail += f' <span class="muted small">({esc(c.fmt_number(flagged))} records flagged)</span>'
        out.append(
            f'<tr class="{esc(st)}"><td><span class="pill {esc(st)}">{esc(st)}</span></td>'
            f"<td><b>{esc(r.get('id', ''))}</b> {esc(r.get('name', ''))}"
            f'<div class="muted small mono">{esc(r.get("metric", ""))}</div>'
            + (f'<div class="muted small">where {esc(scope)}</div>' if scope else "")
            + f'</td><td class="num">{esc(c.fmt_value(r.get("metric"), r.get("value")))}</td>'
            f'<td class="num">{esc(c.fmt_threshold(r))}</td>'
            f"<td>{detail}" + (f'<div class="why">Why: {esc(why)}</div>' if why else "") + "</td></tr>\n"
        )
    out.append("</tbody>\n</table>\n</section>\n")
    return "".join(out)


def _charts_section(result: dict) -> str:
    figs = [f for f in (_histogram_figure(result), _clusters_figure(result), _sources_figure(result)) if f]
    if not figs:
        return ""
    return (
        '<section id="charts">\n<h2>At a glance</h2>\n<div class="charts">\n' + "".join(figs) + "</div>\n</section>\n"
    )


def _sources_section(result: dict) -> str:
    headers, rows = c.source_table(result)
    if not rows:
        return ""
    field = c.source_field(result)
    out = ['<section id="sources">\n<h2>Per source</h2>\n']
    if field:
        out.append(f'<p class="muted">Records grouped by the <code>{esc(field)}</code> field.</p>\n')
    out.append(
        "<table>\n<thead><tr>"
        + "".join((f'<th class="num">{esc(h)}</th>' if i else f"<th>{esc(h)}</th>") for i, h in enumerate(headers))
        + "</tr></thead>\n<tbody>\n"
    )
    for row in rows:
        name = row[0][1]
        cells = [f"<td>{esc(name)}</td>"] + [f'<td class="num">{esc(c.fmt_value(m, v))}</td>' for m, v in row[1:]]
        out.append("<tr>" + "".join(cells) + "</tr>\n")
    out.append("</tbody>\n</table>\n</section>\n")
    return "".join(out)


def _table(caption: str, headers: list[tuple[str, str]], rows: list[list[tuple[str, str]]], note: str = "") -> str:
    """``headers``/cells are ``(css class, already-escaped html)``."""
    if not rows:
        return ""
    out = [f"<h3>{esc(caption)}</h3>\n"]
    if note:
        out.append(f'<p class="muted small">{note}</p>\n')
    out.append(
        "<table>\n<thead><tr>" + "".join(f"<th{_cls(cls)}>{h}</th>" for cls, h in headers) + "</tr></thead>\n<tbody>\n"
    )
    for row in rows:
        out.append("<tr>" + "".join(f"<td{_cls(cls)}>{v}</td>" for cls, v in row) + "</tr>\n")
    out.append("</tbody>\n</table>\n")
    return "".join(out)


def _cls(cls: str) -> str:
    return f' class="{cls}"' if cls else ""


def _ex(item: dict) -> tuple[str, str]:
    return ("excerpt", esc(c.excerpt(item.get("excerpt"))))


def _loc(item: dict) -> tuple[str, str]:
    return ("loc", esc(c.location(item)))


def _examples_section(result: dict) -> str:
    parts = []
    top = c.synthetic_top(result)
    parts.append(
        _table(
            "Highest synthetic scores",
            [("num", "Score"), ("", "Provenance"), ("", "File and row"), ("", "Excerpt")],
            [
                [
                    ("num", esc(f"{i['score']:.3f}") if c._is_number(i.get("score")) else c.MISSING),
                    (
                        "",
                        esc(i.get("provenance"))
                        if i.get("provenance") is not None
                        else '<span class="muted">untagged</span>',
                    ),
                    _loc(i),
                    _ex(i),
                ]
                for i in top
            ],
            note="Records the detector scored most likely to be model-generated; a human tag here suggests mislabelled provenance.",
        )
    )
    rows = []
    for cl in c.near_clusters(result):
        for k, mem in enumerate(c.cluster_members(cl)):
            rows.append([("num", esc(c.fmt_number(cl.get("size"))) if k == 0 else ""), _loc(mem), _ex(mem)])
    parts.append(
        _table(
            "Largest near-duplicate clusters", [("num", "Cluster size"), ("", "File and row"), ("", "Excerpt")], rows
        )
    )
    parts.append(
        _table(
            "Largest exact-duplicate groups",
            [("num", "Copies"), ("", "First at"), ("", "Excerpt")],
            [[("num", esc(c.fmt_number(g.get("size")))), _loc(g), _ex(g)] for g in c.exact_groups(result)],
        )
    )
    parts.append(
        _table(
            "Records without provenance",
            [("", "File and row"), ("", "Excerpt")],
            [[_loc(i), _ex(i)] for i in c.provenance_missing(result)],
        )
    )
    parts.append(
        _table(
            "Records with a licence outside the allowlist",
            [("", "Licence"), ("", "File and row"), ("", "Excerpt")],
            [[("", esc(i.get("license", ""))), _loc(i), _ex(i)] for i in c.license_examples(result)],
        )
    )
    parts.append(
        _table(
            "Unreadable records (skipped)",
            [("", "Location"), ("", "Reason")],
            [[_loc(i), ("excerpt", esc(c.excerpt(i.get("reason"))))] for i in c.skipped_examples(result)],
        )
    )
    body = "".join(parts)
    if not body:
        return ""
    return (
        '<section id="examples">\n<h2>Worst examples</h2>\n<p class="muted small">Short excerpts, shown as plain '
        "text; the annotations file (<code>--annotations</code>) lists every flagged record.</p>\n"
        + body
        + "</section>\n"
    )


def _inputs_section(result: dict) -> str:
    ins = c.inputs(result)
    if not ins:
        return ""
    rows = [
        [
            ("loc", esc(i.get("path", ""))),
            ("", esc(i.get("format", "")) + (f" ({esc(i['compression'])})" if i.get("compression") else "")),
            ("num", esc(c.fmt_number(i.get("records")))),
            ("num", esc(c.fmt_number(i.get("skipped", 0)))),
        ]
        for i in ins
    ]
    table = _table("Files read", [("", "File"), ("", "Format"), ("num", "Records"), ("num", "Skipped")], rows)
    det = c.get(result, "detector", default={})
    extra = ""
    if isinstance(det, dict) and det:
        val = det.get("validation") if isinstance(det.get("validation"), dict) else {}
        bits = [f"{esc(k)} {esc(c.fmt_number(v))}" for k, v in val.items() if not isinstance(v, (dict, list))]
        desc = " ".join(esc(x) for x in (det.get("name"), det.get("version")) if x)
        if det.get("threshold") is not None:
            desc += f", threshold {esc(c.fmt_number(det['threshold']))}"
        if det.get("scored") is not None:
            desc += f", {esc(c.fmt_number(det['scored']))} records scored"
        if bits:
            desc += f"; validation: {', '.join(bits)}"
        extra = f'<p class="small">Detector: {desc}.</p>\n'
    return '<section id="inputs">\n<h2>Inputs</h2>\n' + table + extra + "</section>\n"


def _metrics_section(result: dict) -> str:
    items = list(c.iter_metrics(result))
    if not items:
        return ""
    rows = [
        [("mono", esc(k)), ("num", esc(c.fmt_value(k, v))), ("num", esc(c.fmt_number(v)) if c.is_fraction(k) else "")]
        for k, v in items
    ]
    return (
        '<section id="metrics">\n<h2>All metrics</h2>\n'
        + _table("Metrics", [("", "Metric"), ("num", "Value"), ("num", "Raw")], rows).split("\n", 1)[1]
        + "</section>\n"
    )


def _footer(result: dict, generator: str) -> str:
    sv = result.get("schema_version")
    return (
        f"<footer>Generated by {esc(generator)} from a schema_version {esc(sv)} result. "
        "This page is self-contained: it runs no scripts and fetches nothing.</footer>\n"
    )


# --------------------------------------------------------------------------------------- charts


def _n(x: float) -> str:
    """Compact, deterministic SVG coordinate."""
    s = f"{x:.1f}"
    return s[:-2] if s.endswith(".0") else s


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * exp:
            return m * exp
    return 10 * exp


def _svg_open(w: int, h: int, title: str, desc: str, ident: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" '
        f'aria-labelledby="{ident}-t {ident}-d"><title id="{ident}-t">{esc(title)}</title>'
        f'<desc id="{ident}-d">{esc(desc)}</desc>\n'
    )


def _histogram_figure(result: dict) -> str:
    hist = c.synthetic_histogram(result)
    if not hist:
        return ""
    edges, counts = hist
    thr = c.synthetic_threshold(result)
    w, h, left, right, top, bottom = 380, 220, 44, 12, 22, 36
    pw, ph = w - left - right, h - top - bottom
    lo, hi = edges[0], edges[-1]
    span = (hi - lo) or 1.0
    ymax = _nice_max(max(counts) if counts else 0)
    xs = lambda v: left + (v - lo) / span * pw  # noqa: E731
    ys = lambda v: top + ph - v / ymax * ph  # noqa: E731
    total = sum(counts)
    desc = f"{total} scored records in {len(counts)} bins from {lo:g} to {hi:g}"
    if thr is not None:
        above, scored, exact = c.flagged_share(result, edges, counts, thr)
        desc += f"; {'' if exact else 'about '}{above} at or above the threshold {c.fmt_score(thr)}"
    out = [_svg_open(w, h, "Synthetic-score histogram", desc, "hist")]
    for frac in (0.5, 1.0):
        y = ys(ymax * frac)
        out.append(
            f'<line class="grid" x1="{left}" y1="{_n(y)}" x2="{w - right}" y2="{_n(y)}"/>'
            f'<text class="tick" x="{left - 4}" y="{_n(y + 3)}" text-anchor="end">{esc(c.fmt_number(ymax * frac))}</text>\n'
        )
    for e0, e1, n in zip(edges[:-1], edges[1:], counts):
        x0, x1 = xs(e0), xs(e1)
        color = COLORS["above"] if thr is not None and e0 >= thr - 1e-12 else COLORS["below"]
        bh = n / ymax * ph
        out.append(
            f'<rect x="{_n(x0 + 0.5)}" y="{_n(top + ph - bh)}" width="{_n(max(0.5, x1 - x0 - 1))}" '
            f'height="{_n(bh)}" fill="{color}"><title>{e0:g}–{e1:g}: {n} records</title></rect>\n'
        )
    out.append(f'<line class="axis" x1="{left}" y1="{top + ph}" x2="{w - right}" y2="{top + ph}"/>\n')
    for k in range(5):
        v = lo + span * k / 4
        out.append(f'<text class="tick" x="{_n(xs(v))}" y="{top + ph + 13}" text-anchor="middle">{v:g}</text>')
    out.append(
        f'\n<text class="tick" x="{_n(left + pw / 2)}" y="{h - 4}" text-anchor="middle">detector score '
        "(probability the record is model-generated)</text>\n"
    )
    if thr is not None and lo <= thr <= hi:
        x = xs(thr)
        anchor = "end" if x > left + pw * 0.6 else "start"
        dx = -4 if anchor == "end" else 4
        out.append(
            f'<line class="thr" x1="{_n(x)}" y1="{top - 6}" x2="{_n(x)}" y2="{top + ph}"/>'
            f'<text class="lbl" x="{_n(x + dx)}" y="{top - 8}" text-anchor="{anchor}">threshold {c.fmt_score(thr)}</text>\n'
        )
    out.append("</svg>\n")
    est = c.get(result, "details", "synthetic", "estimate", default={})
    notes = []
    if thr is not None:
        notes.append(
            f"{'' if exact else 'about '}{esc(c.fmt_number(above))} of {esc(c.fmt_number(scored))} scored records "
            f"at or above the threshold (flagged as synthetic)"
        )
    if isinstance(est, dict) and c._is_number(est.get("estimate")):
        notes.append(
            f"estimated synthetic share {esc(c.fmt_pct(est['estimate']))} "
            f"(95% CI {esc(c.fmt_pct(est.get('ci_low')))}–{esc(c.fmt_pct(est.get('ci_high')))})"
        )
    note = f'<p class="note">{"; ".join(notes)}.</p>\n' if notes else ""
    return (
        '<figure id="chart-synthetic"><figcaption>Synthetic-score distribution</figcaption>\n'
        + "".join(out)
        + note
        + "</figure>\n"
    )


_SIZE_BUCKETS = ((2, 2), (3, 3), (4, 4), (5, 5), (6, 10), (11, 20), (21, 50), (51, 100), (101, None))


def _cluster_bins(sizes: list[tuple[int, int]]) -> list[tuple[str, int]]:
    if len(sizes) <= 10:
        return [(str(s), n) for s, n in sizes]
    out = []
    for a, b in _SIZE_BUCKETS:
        n = sum(k for s, k in sizes if s >= a and (b is None or s <= b))
        if n or (b is not None and b <= 5):
            out.append((str(a) if a == b else (f"{a}–{b}" if b else f"{a}+"), n))
    return out


def _clusters_figure(result: dict) -> str:
    sizes = c.cluster_sizes(result)
    if not sizes:
        return ""
    bins = _cluster_bins(sizes)
    w, h, left, right, top, bottom = 380, 220, 44, 12, 22, 36
    pw, ph = w - left - right, h - top - bottom
    ymax = _nice_max(max(n for _, n in bins))
    slot = pw / len(bins)
    bw = min(40.0, slot * 0.7)
    n_clusters = sum(n for _, n in sizes)
    removable = sum((s - 1) * n for s, n in sizes)
    out = [
        _svg_open(
            w,
            h,
            "Near-duplicate cluster sizes",
            f"{n_clusters} clusters of two or more near-identical records; {removable} records removable",
            "clus",
        )
    ]
    for frac in (0.5, 1.0):
        y = top + ph - frac * ph
        out.append(
            f'<line class="grid" x1="{left}" y1="{_n(y)}" x2="{w - right}" y2="{_n(y)}"/>'
            f'<text class="tick" x="{left - 4}" y="{_n(y + 3)}" text-anchor="end">{esc(c.fmt_number(ymax * frac))}</text>\n'
        )
    for i, (label, n) in enumerate(bins):
        cx = left + slot * (i + 0.5)
        bh = n / ymax * ph
        out.append(
            f'<rect x="{_n(cx - bw / 2)}" y="{_n(top + ph - bh)}" width="{_n(bw)}" height="{_n(bh)}" '
            f'fill="{COLORS["duplicate"]}"><title>size {esc(label)}: {n} clusters</title></rect>'
            f'<text class="lbl" x="{_n(cx)}" y="{_n(top + ph - bh - 3)}" text-anchor="middle">{esc(c.fmt_number(n))}</text>'
            f'<text class="tick" x="{_n(cx)}" y="{top + ph + 13}" text-anchor="middle">{esc(label)}</text>\n'
        )
    out.append(f'<line class="axis" x1="{left}" y1="{top + ph}" x2="{w - right}" y2="{top + ph}"/>\n')
    out.append(
        f'<text class="tick" x="{_n(left + pw / 2)}" y="{h - 4}" text-anchor="middle">records per cluster</text>\n'
    )
    out.append("</svg>\n")
    note = (
        f'<p class="note">{esc(c.fmt_number(n_clusters))} clusters of near-identical records; '
        f"{esc(c.fmt_number(removable))} records removable by deduplication.</p>\n"
    )
    return (
        '<figure id="chart-clusters"><figcaption>Near-duplicate cluster sizes</figcaption>\n'
        + "".join(out)
        + note
        + "</figure>\n"
    )


_SOURCE_SERIES = (
    (
        "synthetic",
        "synthetic",
        ("synthetic.estimated_fraction", "synthetic.detected_fraction", "synthetic.declared_fraction"),
    ),
    ("duplicate", "near-duplicate", ("duplicates.near_fraction", "duplicates.exact_fraction")),
    ("untagged", "untagged", ("provenance.missing_fraction",)),
)
MAX_SOURCE_BARS = 12


def _sources_figure(result: dict) -> str:
    groups = c.source_groups(result)
    if not groups:
        return ""
    series = []
    for key, label, names in _SOURCE_SERIES:
        present = [m for m in names if any(c._is_number(g.get(m)) for _, g in groups)]
        if present:
            series.append((key, label, present[0]))
    if not series:
        return ""
    shown = groups[:MAX_SOURCE_BARS]
    vmax = max([g.get(m) for _, g in shown for _, _, m in series if c._is_number(g.get(m))] + [0.0])
    xmax = min(1.0, _nice_max(vmax)) if vmax > 0 else 0.1
    w, left, right, top = 380, 124, 46, 32
    bar_h, gap = 12, 14
    row_h = bar_h * len(series) + gap
    ph = row_h * len(shown)
    h = top + ph + 22
    pw = w - left - right
    out = [
        _svg_open(
            w,
            h,
            "Per-source shares",
            "Share of each source's records that are " + ", ".join(lbl for _, lbl, _ in series),
            "src",
        )
    ]
    lx = 8.0
    for key, label, _ in series:
        out.append(
            f'<rect x="{_n(lx)}" y="6" width="10" height="10" fill="{COLORS[key]}"/>'
            f'<text class="lbl" x="{_n(lx + 14)}" y="15">{esc(label)}</text>'
        )
        lx += 24 + 6.5 * len(label)
    out.append("\n")
    for k in range(3):
        v = xmax * k / 2
        x = left + pw * k / 2
        out.append(
            f'<line class="grid" x1="{_n(x)}" y1="{top - 4}" x2="{_n(x)}" y2="{top + ph}"/>'
            f'<text class="tick" x="{_n(x)}" y="{top + ph + 13}" text-anchor="middle">{esc(c.fmt_pct(v, 0))}</text>\n'
        )
    for i, (name, g) in enumerate(shown):
        y0 = top + i * row_h
        short = name if len(name) <= 16 else name[:15] + "…"
        n = c.source_records(result, g)
        out.append(
            f'<text class="lbl" x="{left - 6}" y="{_n(y0 + bar_h * len(series) / 2 + 3)}" text-anchor="end">'
            f"<title>{esc(name)}</title>{esc(short)}</text>"
        )
        if n is not None:
            out.append(
                f'<text class="tick" x="{left - 6}" y="{_n(y0 + bar_h * len(series) / 2 + 14)}" '
                f'text-anchor="end">{esc(c.fmt_number(n))} rec.</text>'
            )
        for j, (key, label, m) in enumerate(series):
            v = g.get(m)
            y = y0 + j * bar_h
            if not c._is_number(v):
                out.append(f'<text class="tick" x="{left + 2}" y="{_n(y + bar_h - 1)}">n/a</text>')
                continue
            bw = max(0.0, min(1.0, v / xmax)) * pw
            out.append(
                f'<rect x="{left}" y="{_n(y)}" width="{_n(max(bw, 0.5))}" height="{bar_h - 1}" fill="{COLORS[key]}">'
                f"<title>{esc(name)}: {esc(c.fmt_pct(v))} {esc(label)}</title></rect>"
                f'<text class="tick" x="{_n(left + bw + 3)}" y="{_n(y + bar_h - 2)}">{esc(c.fmt_pct(v))}</text>'
            )
        out.append("\n")
    out.append("</svg>\n")
    more = len(groups) - len(shown)
    note = "Share of each source's records that are " + ", ".join(lbl for _, lbl, _ in series)
    if more > 0:
        note += f"; {more} more source{'s' if more != 1 else ''} in the table below"
    return (
        '<figure id="chart-sources"><figcaption>Per-source breakdown</figcaption>\n'
        + "".join(out)
        + f'<p class="note">{esc(note)}.</p>\n</figure>\n'
    )
