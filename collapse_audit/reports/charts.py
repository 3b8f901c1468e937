"""Inline SVG charts for the HTML report: the synthetic-score histogram with the detector threshold,
the near-duplicate cluster-size distribution and the per-source shares.

Charts are the one place a renderer reads specific details (a picture needs the raw counts, not
a table of text); everything else on the page is drawn from generic sections. Numbers go through
the one formatter; every string through ``esc``.
"""

from __future__ import annotations

import html as _html
import math
from typing import Any, TypeGuard

from ..result import ScanResult, fmt_number
from ..result.formatting import fmt_percent
from .view import inert


def esc(value: Any) -> str:
    """Inert, HTML-escaped text (safe in text and attributes); ``##`` and ``::`` as character
    references, so a page printed into a CI log starts no log command."""
    if value is None:
        return ""
    return _html.escape(inert(value), quote=True).replace("##", "#&#35;").replace("::", ":&#58;")


def _is_number(v: Any) -> TypeGuard[int | float]:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def fmt_pct(v: Any, digits: int = 1) -> str:
    """A share as a percentage with ``digits`` decimals, as the chart labels show it."""
    return fmt_percent(v, digits)


def _get(d: Any, *path: Any) -> Any:
    for k in path:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def synthetic_histogram(r: ScanResult) -> tuple[list[float], list[int]] | None:
    """(bin edges, counts) of the detector-score histogram, or None when the result has no usable one."""
    h = _get(r.details, "synthetic", "histogram") or {}
    edges, cnts = h.get("edges"), h.get("counts")
    if (isinstance(edges, list) and isinstance(cnts, list) and cnts and len(edges) == len(cnts) + 1
            and all(_is_number(e) for e in edges) and all(_is_number(c) for c in cnts)):
        return [float(e) for e in edges], [int(c) for c in cnts]
    return None


def synthetic_threshold(r: ScanResult) -> float | None:
    """The detector threshold the scan flagged at, from the check's details or the detector block."""
    for v in (_get(r.details, "synthetic", "threshold"), r.detector.get("threshold")):
        if isinstance(v, (int, float)) and _is_number(v):
            return float(v)
    return None


def flagged_share(r: ScanResult, edges: list[float], counts: list[int], thr: float) -> tuple[int, int, bool]:
    """(records at or above the threshold, records scored, exact?) from the detector's own counts when
    the result has them, else from the histogram (approximate when the threshold falls inside a bin)."""
    flagged, scored = r.metric("synthetic.detected_count"), r.metric("synthetic.scored")
    if flagged is not None and scored:
        return int(flagged), int(scored), True
    above = sum(n for lo, n in zip(edges[:-1], counts, strict=True) if lo >= thr - 1e-12)
    exact = any(abs(e - thr) < 1e-9 for e in edges) or thr <= edges[0] or thr > edges[-1]
    return above, sum(counts), exact


def cluster_sizes(r: ScanResult) -> list[tuple[int, int]]:
    """(cluster size, number of clusters) pairs of the near-duplicate clusters, malformed entries dropped."""
    raw = _get(r.details, "near_duplicates", "cluster_sizes") or {}
    out = []
    for k, v in raw.items() if isinstance(raw, dict) else []:
        try:
            out.append((int(k), int(v)))
        except (TypeError, ValueError):
            continue
    return sorted(out)


def source_groups(r: ScanResult) -> list[tuple[str, dict]]:
    """(source name, its metrics) per provenance source; empty when the scan grouped no sources."""
    groups = r.sources.get("groups")
    if not isinstance(groups, dict):
        return []
    return [(str(k), v if isinstance(v, dict) else {}) for k, v in groups.items()]


def source_records(r: ScanResult, g: dict) -> float | None:
    """Records of one source group, or None when the result does not say."""
    v = g.get("records.total")
    return v if _is_number(v) else None


COLORS = {
    "synthetic": "#c0392b",
    "duplicate": "#e69f00",
    "untagged": "#3b6fb6",
    "below": "#8fa7c9",
    "above": "#c0392b",
    "bar": "#3b6fb6",
}


def figures(r: ScanResult) -> list[str]:
    """The SVG figures the result has data for (score histogram, cluster sizes, sources), in page order."""
    return [f for f in (_histogram_figure(r), _clusters_figure(r), _sources_figure(r)) if f]


# ---------------------------------------------------------------------------------------- drawing

def _n(x: float) -> str:
    """Compact, deterministic SVG coordinate."""
    s = f"{x:.1f}"
    return s.removesuffix(".0")


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


def _histogram_figure(result: ScanResult) -> str:
    hist = synthetic_histogram(result)
    if not hist:
        return ""
    edges, counts = hist
    thr = synthetic_threshold(result)
    w, h, left, right, top, bottom = 380, 220, 44, 12, 22, 36
    pw, ph = w - left - right, h - top - bottom
    lo, hi = edges[0], edges[-1]
    span = (hi - lo) or 1.0
    ymax = _nice_max(max(counts) if counts else 0)

    def xs(v: float) -> float:
        return left + (v - lo) / span * pw

    def ys(v: float) -> float:
        return top + ph - v / ymax * ph

    total = sum(counts)
    desc = f"{total} scored records in {len(counts)} bins from {lo:g} to {hi:g}"
    if thr is not None:
        above, scored, exact = flagged_share(result, edges, counts, thr)
        desc += f"; {'' if exact else 'about '}{above} at or above the threshold {fmt_number(thr)}"
    out = [_svg_open(w, h, "Synthetic-score histogram", desc, "hist")]
    for frac in (0.5, 1.0):
        y = ys(ymax * frac)
        out.append(
            f'<line class="grid" x1="{left}" y1="{_n(y)}" x2="{w - right}" y2="{_n(y)}"/>'
            f'<text class="tick" x="{left - 4}" y="{_n(y + 3)}" text-anchor="end">'
            f'{esc(fmt_number(ymax * frac))}</text>\n'
        )
    for e0, e1, n in zip(edges[:-1], edges[1:], counts, strict=True):
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
            f'<text class="lbl" x="{_n(x + dx)}" y="{top - 8}" text-anchor="{anchor}">'
            f'threshold {fmt_number(thr)}</text>\n'
        )
    out.append("</svg>\n")
    est = (_get(result.details, "synthetic", "estimate") or {})
    notes = []
    if thr is not None:
        notes.append(
            f"{'' if exact else 'about '}{esc(fmt_number(above))} of {esc(fmt_number(scored))} scored records "
            f"at or above the threshold (flagged as synthetic)"
        )
    if isinstance(est, dict) and _is_number(est.get("estimate")):
        notes.append(
            f"estimated synthetic share {esc(fmt_pct(est['estimate']))} "
            f"(95% CI {esc(fmt_pct(est.get('ci_low')))}–{esc(fmt_pct(est.get('ci_high')))})"
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


def _clusters_figure(result: ScanResult) -> str:
    sizes = cluster_sizes(result)
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
            f'<text class="tick" x="{left - 4}" y="{_n(y + 3)}" text-anchor="end">'
            f'{esc(fmt_number(ymax * frac))}</text>\n'
        )
    for i, (label, n) in enumerate(bins):
        cx = left + slot * (i + 0.5)
        bh = n / ymax * ph
        out.append(
            f'<rect x="{_n(cx - bw / 2)}" y="{_n(top + ph - bh)}" width="{_n(bw)}" height="{_n(bh)}" '
            f'fill="{COLORS["duplicate"]}"><title>size {esc(label)}: {n} clusters</title></rect>'
            f'<text class="lbl" x="{_n(cx)}" y="{_n(top + ph - bh - 3)}" text-anchor="middle">'
            f'{esc(fmt_number(n))}</text>'
            f'<text class="tick" x="{_n(cx)}" y="{top + ph + 13}" text-anchor="middle">{esc(label)}</text>\n'
        )
    out.append(f'<line class="axis" x1="{left}" y1="{top + ph}" x2="{w - right}" y2="{top + ph}"/>\n')
    out.append(
        f'<text class="tick" x="{_n(left + pw / 2)}" y="{h - 4}" text-anchor="middle">records per cluster</text>\n'
    )
    out.append("</svg>\n")
    note = (
        f'<p class="note">{esc(fmt_number(n_clusters))} clusters of near-identical records; '
        f"{esc(fmt_number(removable))} records removable by deduplication.</p>\n"
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


def _sources_figure(result: ScanResult) -> str:
    groups = source_groups(result)
    if not groups:
        return ""
    series = []
    for key, label, names in _SOURCE_SERIES:
        present = [m for m in names if any(_is_number(g.get(m)) for _, g in groups)]
        if present:
            series.append((key, label, present[0]))
    if not series:
        return ""
    shown = groups[:MAX_SOURCE_BARS]
    vmax = max([float(g[m]) for _, g in shown for _, _, m in series if _is_number(g.get(m))] + [0.0])
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
            f'<text class="tick" x="{_n(x)}" y="{top + ph + 13}" text-anchor="middle">{esc(fmt_pct(v, 0))}</text>\n'
        )
    for i, (name, g) in enumerate(shown):
        y0 = top + i * row_h
        short = name if len(name) <= 16 else name[:15] + "…"
        n = source_records(result, g)
        out.append(
            f'<text class="lbl" x="{left - 6}" y="{_n(y0 + bar_h * len(series) / 2 + 3)}" text-anchor="end">'
            f"<title>{esc(name)}</title>{esc(short)}</text>"
        )
        if n is not None:
            out.append(
                f'<text class="tick" x="{left - 6}" y="{_n(y0 + bar_h * len(series) / 2 + 14)}" '
                f'text-anchor="end">{esc(fmt_number(n))} rec.</text>'
            )
        for j, (key, label, m) in enumerate(series):
            raw = g.get(m)
            y = y0 + j * bar_h
            if not _is_number(raw):
                out.append(f'<text class="tick" x="{left + 2}" y="{_n(y + bar_h - 1)}">n/a</text>')
                continue
            v = float(raw)
            bw = max(0.0, min(1.0, v / xmax)) * pw
            out.append(
                f'<rect x="{left}" y="{_n(y)}" width="{_n(max(bw, 0.5))}" height="{bar_h - 1}" fill="{COLORS[key]}">'
                f"<title>{esc(name)}: {esc(fmt_pct(v))} {esc(label)}</title></rect>"
                f'<text class="tick" x="{_n(left + bw + 3)}" y="{_n(y + bar_h - 2)}">{esc(fmt_pct(v))}</text>'
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
