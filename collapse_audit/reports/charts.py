"""Inline SVG charts for the HTML report, drawn from what the checks declare: each check's figures
(``Check.figures``: a score histogram with its threshold, a distribution of group sizes) and its bars
in the per-source figure (``Check.source_series``). Nothing here names a check or reads its details;
score histograms come first, then size distributions, then the sources. Numbers go through the one
formatter; every string through ``esc``.
"""

from __future__ import annotations

import html as _html
import math
from typing import Any, TypeGuard

from ..checks import registry
from ..result import ScanResult, fmt_number
from ..result.formatting import fmt_percent
from ..result.sections import Histogram, SizeCounts
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


def declared_figures(r: ScanResult) -> list[Any]:
    """Every registered check's figures for this result, in check order."""
    out: list[Any] = []
    for cls in registry.registered():
        d = r.details.get(cls.name)
        if isinstance(d, dict):
            out += cls.figures(d, r.metrics, r.detector if isinstance(r.detector, dict) else {})
    return out


def flagged_share(h: Histogram, thr: float) -> tuple[int, int, bool]:
    """(records at or above the threshold, records scored, exact?) from the check's own counts when
    it gives them, else from the histogram (approximate when the threshold falls inside a bin)."""
    if h.flagged is not None and h.scored:
        return h.flagged, h.scored, True
    edges, counts = h.edges, h.counts
    above = sum(n for lo, n in zip(edges[:-1], counts, strict=True) if lo >= thr - 1e-12)
    exact = any(abs(e - thr) < 1e-9 for e in edges) or thr <= edges[0] or thr > edges[-1]
    return above, sum(counts), exact


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
    """The SVG figures the result has data for (score histograms, size distributions, sources), in page order."""
    specs = declared_figures(r)
    drawn = [_histogram_figure(h) for h in specs if isinstance(h, Histogram)]
    drawn += [_sizes_figure(c) for c in specs if isinstance(c, SizeCounts)]
    return [f for f in (*drawn, _sources_figure(r)) if f]


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


def _histogram_figure(hist: Histogram) -> str:
    edges, counts = hist.edges, hist.counts
    thr = hist.threshold
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
        above, scored, exact = flagged_share(hist, thr)
        desc += f"; {'' if exact else 'about '}{above} at or above the threshold {fmt_number(thr)}"
    out = [_svg_open(w, h, hist.title, desc, "hist")]
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
        f'\n<text class="tick" x="{_n(left + pw / 2)}" y="{h - 4}" text-anchor="middle">{esc(hist.x_label)}'
        "</text>\n"
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
    notes = []
    if thr is not None:
        notes.append(
            f"{'' if exact else 'about '}{esc(fmt_number(above))} of {esc(fmt_number(scored))} scored records "
            # not "flagged": a rule's flagged records are another count (defined under the rules table)
            "at or above the threshold"
        )
    if hist.estimate is not None:
        what, share, low, high = hist.estimate
        notes.append(f"{esc(what)} {esc(fmt_pct(share))} (95% CI {esc(fmt_pct(low))}–{esc(fmt_pct(high))})")
    note = f'<p class="note">{"; ".join(notes)}.</p>\n' if notes else ""
    return (
        f'<figure id="chart-{esc(hist.key)}"><figcaption>{esc(hist.caption)}</figcaption>\n'
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


def _sizes_figure(spec: SizeCounts) -> str:
    sizes = spec.sizes
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
            spec.caption,
            f"{n_clusters} {spec.group} of two or more {spec.member}; {removable} records removable",
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
            f'fill="{COLORS["duplicate"]}"><title>size {esc(label)}: {n} {esc(spec.group)}</title></rect>'
            f'<text class="lbl" x="{_n(cx)}" y="{_n(top + ph - bh - 3)}" text-anchor="middle">'
            f'{esc(fmt_number(n))}</text>'
            f'<text class="tick" x="{_n(cx)}" y="{top + ph + 13}" text-anchor="middle">{esc(label)}</text>\n'
        )
    out.append(f'<line class="axis" x1="{left}" y1="{top + ph}" x2="{w - right}" y2="{top + ph}"/>\n')
    out.append(
        f'<text class="tick" x="{_n(left + pw / 2)}" y="{h - 4}" text-anchor="middle">{esc(spec.x_label)}</text>\n'
    )
    out.append("</svg>\n")
    note = (
        f'<p class="note">{esc(fmt_number(n_clusters))} {esc(spec.group)} of {esc(spec.member)}; '
        f"{esc(fmt_number(removable))} records removable by deduplication.</p>\n"
    )
    return (
        f'<figure id="chart-{esc(spec.key)}"><figcaption>{esc(spec.caption)}</figcaption>\n'
        + "".join(out)
        + note
        + "</figure>\n"
    )


MAX_SOURCE_BARS = 12


def _colour(key: str) -> str:
    return COLORS.get(key, COLORS["bar"])


def _declared_series() -> list[Any]:
    """Every check's per-source bars, in palette order (keys the palette lacks last, in check order)."""
    declared = [series for cls in registry.registered() for series in cls.source_series]
    palette = list(COLORS)
    return sorted(declared, key=lambda d: palette.index(d.key) if d.key in palette else len(palette))


def _sources_figure(result: ScanResult) -> str:
    groups = source_groups(result)
    if not groups:
        return ""
    series = []
    for decl in _declared_series():
        key, label, names = decl.key, decl.label, decl.metrics
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
            f'<rect x="{_n(lx)}" y="6" width="10" height="10" fill="{_colour(key)}"/>'
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
                f'<rect x="{left}" y="{_n(y)}" width="{_n(max(bw, 0.5))}" height="{bar_h - 1}" fill="{_colour(key)}">'
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
