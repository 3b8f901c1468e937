"""Inline SVG charts for the HTML report, drawn from what the checks declare: each check's figures
(``Check.figures``: a score histogram with its threshold, a distribution of group sizes) and its bars
in the per-source figure (``Check.source_series``). Nothing here names a check or reads its details;
score histograms come first, then size distributions, then the sources. Numbers go through the one
formatter; every string through ``esc``.
"""

from __future__ import annotations

import html as _html
import math
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _HistogramFrame:
    """A score histogram's plot area and its two scales (values to x, counts to y)."""

    lo: float
    span: float
    ymax: float
    w: int = 380
    h: int = 220
    left: int = 44
    right: int = 12
    top: int = 22
    bottom: int = 36

    @property
    def pw(self) -> int:
        return self.w - self.left - self.right

    @property
    def ph(self) -> int:
        return self.h - self.top - self.bottom

    def xs(self, v: float) -> float:
        return self.left + (v - self.lo) / self.span * self.pw

    def ys(self, v: float) -> float:
        return self.top + self.ph - v / self.ymax * self.ph


def _figure(key: str, caption: str, body: list[str], note: str) -> str:
    """One ``<figure>``: caption, the SVG and its note (``key`` names it ``chart-KEY`` for links)."""
    return (
        f'<figure id="chart-{esc(key)}"><figcaption>{esc(caption)}</figcaption>\n'
        + "".join(body)
        + note
        + "</figure>\n"
    )


def _histogram_figure(hist: Histogram) -> str:
    """A check's score histogram: bars below and above its threshold, the threshold line, and a
    note with how many scored records reach it (and the check's estimate, when it gives one)."""
    edges, counts, thr = hist.edges, hist.counts, hist.threshold
    lo, hi = edges[0], edges[-1]
    frame = _HistogramFrame(lo, (hi - lo) or 1.0, _nice_max(max(counts) if counts else 0))
    reached = flagged_share(hist, thr) if thr is not None else None
    desc = f"{sum(counts)} scored records in {len(counts)} bins from {lo:g} to {hi:g}"
    if reached is not None:
        above, _, exact = reached
        desc += f"; {'' if exact else 'about '}{above} at or above the threshold {fmt_number(thr)}"
    out = [_svg_open(frame.w, frame.h, hist.title, desc, "hist")]
    out += _histogram_grid(frame)
    out += _histogram_bars(frame, edges, counts, thr)
    out += _histogram_axis(frame, hist.x_label)
    if thr is not None and lo <= thr <= hi:
        out.append(_threshold_marker(frame, thr))
    out.append("</svg>\n")
    return _figure(hist.key, hist.caption, out, _histogram_note(hist, reached))


def _histogram_grid(frame: _HistogramFrame) -> list[str]:
    """Grid lines at half and full height with their counts, so bar heights can be read."""
    out = []
    for frac in (0.5, 1.0):
        y = frame.ys(frame.ymax * frac)
        out.append(
            f'<line class="grid" x1="{frame.left}" y1="{_n(y)}" x2="{frame.w - frame.right}" y2="{_n(y)}"/>'
            f'<text class="tick" x="{frame.left - 4}" y="{_n(y + 3)}" text-anchor="end">'
            f'{esc(fmt_number(frame.ymax * frac))}</text>\n'
        )
    return out


def _histogram_bars(frame: _HistogramFrame, edges: list[float], counts: list[int], thr: float | None) -> list[str]:
    """One bar per bin, in the "above" colour from the threshold up, each with its range and count as a tooltip."""
    out = []
    top, ph = frame.top, frame.ph
    for e0, e1, n in zip(edges[:-1], edges[1:], counts, strict=True):
        x0, x1 = frame.xs(e0), frame.xs(e1)
        color = COLORS["above"] if thr is not None and e0 >= thr - 1e-12 else COLORS["below"]
        bh = n / frame.ymax * ph
        out.append(
            f'<rect x="{_n(x0 + 0.5)}" y="{_n(top + ph - bh)}" width="{_n(max(0.5, x1 - x0 - 1))}" '
            f'height="{_n(bh)}" fill="{color}"><title>{e0:g}–{e1:g}: {n} records</title></rect>\n'
        )
    return out


def _histogram_axis(frame: _HistogramFrame, x_label: str) -> list[str]:
    """The x axis: its line, five evenly spaced score ticks and the label."""
    left, top, ph, pw = frame.left, frame.top, frame.ph, frame.pw
    out = [f'<line class="axis" x1="{left}" y1="{top + ph}" x2="{frame.w - frame.right}" y2="{top + ph}"/>\n']
    for k in range(5):
        v = frame.lo + frame.span * k / 4
        out.append(f'<text class="tick" x="{_n(frame.xs(v))}" y="{top + ph + 13}" text-anchor="middle">{v:g}</text>')
    out.append(
        f'\n<text class="tick" x="{_n(left + pw / 2)}" y="{frame.h - 4}" text-anchor="middle">{esc(x_label)}'
        "</text>\n"
    )
    return out


def _threshold_marker(frame: _HistogramFrame, thr: float) -> str:
    """The threshold as a vertical line with its value, labelled on the side that has room."""
    x = frame.xs(thr)
    anchor = "end" if x > frame.left + frame.pw * 0.6 else "start"
    dx = -4 if anchor == "end" else 4
    return (
        f'<line class="thr" x1="{_n(x)}" y1="{frame.top - 6}" x2="{_n(x)}" y2="{frame.top + frame.ph}"/>'
        f'<text class="lbl" x="{_n(x + dx)}" y="{frame.top - 8}" text-anchor="{anchor}">'
        f'threshold {fmt_number(thr)}</text>\n'
    )


def _histogram_note(hist: Histogram, reached: tuple[int, int, bool] | None) -> str:
    """The sentence under a histogram: records at or above the threshold ("about" when the bins
    only approximate it) and the check's estimate with its interval."""
    notes = []
    if reached is not None:
        above, scored, exact = reached
        notes.append(
            f"{'' if exact else 'about '}{esc(fmt_number(above))} of {esc(fmt_number(scored))} scored records "
            # not "flagged": a rule's flagged records are another count (defined under the rules table)
            "at or above the threshold"
        )
    if hist.estimate is not None:
        what, share, low, high = hist.estimate
        notes.append(f"{esc(what)} {esc(fmt_pct(share))} (95% CI {esc(fmt_pct(low))}–{esc(fmt_pct(high))})")
    return f'<p class="note">{"; ".join(notes)}.</p>\n' if notes else ""


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


@dataclass(frozen=True)
class _SourcesFrame:
    """The per-source figure's layout: one row of bars per source, one bar per series, shares to x."""

    rows: int
    bars: int              # series shown, i.e. bars per source row
    xmax: float
    w: int = 380
    left: int = 124
    right: int = 46
    top: int = 32
    bar_h: int = 12
    gap: int = 14

    @property
    def row_h(self) -> int:
        return self.bar_h * self.bars + self.gap

    @property
    def ph(self) -> int:
        return self.row_h * self.rows

    @property
    def h(self) -> int:
        return self.top + self.ph + 22

    @property
    def pw(self) -> int:
        return self.w - self.left - self.right


def _sources_figure(result: ScanResult) -> str:
    """Per-source bars of every share a check declares for sources (``Check.source_series``), the
    first ``MAX_SOURCE_BARS`` sources; empty when the scan grouped no sources or no series has data."""
    groups = source_groups(result)
    if not groups:
        return ""
    series = _present_series(groups)
    if not series:
        return ""
    shown = groups[:MAX_SOURCE_BARS]
    vmax = max([float(g[m]) for _, g in shown for _, _, m in series if _is_number(g.get(m))] + [0.0])
    frame = _SourcesFrame(len(shown), len(series), min(1.0, _nice_max(vmax)) if vmax > 0 else 0.1)
    what = "Share of each source's records that are " + ", ".join(lbl for _, lbl, _ in series)
    out = [_svg_open(frame.w, frame.h, "Per-source shares", what, "src")]
    out += _sources_legend(series)
    out += _sources_grid(frame)
    for i, (name, g) in enumerate(shown):
        out += _source_row(frame, frame.top + i * frame.row_h, name, g, source_records(result, g), series)
    out.append("</svg>\n")
    more = len(groups) - len(shown)
    if more > 0:
        what += f"; {more} more source{'s' if more != 1 else ''} in the table below"
    return _figure("sources", "Per-source breakdown", out, f'<p class="note">{esc(what)}.</p>\n')


def _present_series(groups: list[tuple[str, dict]]) -> list[tuple[str, str, str]]:
    """(key, label, metric) of each declared series some source has a number for; of a series'
    candidate metrics, the first one present is drawn."""
    series = []
    for decl in _declared_series():
        present = [m for m in decl.metrics if any(_is_number(g.get(m)) for _, g in groups)]
        if present:
            series.append((decl.key, decl.label, present[0]))
    return series


def _sources_legend(series: list[tuple[str, str, str]]) -> list[str]:
    """A colour swatch and label per series along the top, spaced by label length."""
    out = []
    lx = 8.0
    for key, label, _ in series:
        out.append(
            f'<rect x="{_n(lx)}" y="6" width="10" height="10" fill="{_colour(key)}"/>'
            f'<text class="lbl" x="{_n(lx + 14)}" y="15">{esc(label)}</text>'
        )
        lx += 24 + 6.5 * len(label)
    out.append("\n")
    return out


def _sources_grid(frame: _SourcesFrame) -> list[str]:
    """Vertical grid lines at 0, half and full scale with their percentages."""
    out = []
    for k in range(3):
        v = frame.xmax * k / 2
        x = frame.left + frame.pw * k / 2
        out.append(
            f'<line class="grid" x1="{_n(x)}" y1="{frame.top - 4}" x2="{_n(x)}" y2="{frame.top + frame.ph}"/>'
            f'<text class="tick" x="{_n(x)}" y="{frame.top + frame.ph + 13}" text-anchor="middle">'
            f'{esc(fmt_pct(v, 0))}</text>\n'
        )
    return out


def _source_row(frame: _SourcesFrame, y0: float, name: str, g: dict, records: float | None,
                series: list[tuple[str, str, str]]) -> list[str]:
    """One source: its (shortened) name and record count on the left, then one bar per series
    ("n/a" where the source lacks that number)."""
    left, bar_h = frame.left, frame.bar_h
    short = name if len(name) <= 16 else name[:15] + "…"
    out = [
        f'<text class="lbl" x="{left - 6}" y="{_n(y0 + bar_h * len(series) / 2 + 3)}" text-anchor="end">'
        f"<title>{esc(name)}</title>{esc(short)}</text>"
    ]
    if records is not None:
        out.append(
            f'<text class="tick" x="{left - 6}" y="{_n(y0 + bar_h * len(series) / 2 + 14)}" '
            f'text-anchor="end">{esc(fmt_number(records))} rec.</text>'
        )
    for j, (key, label, m) in enumerate(series):
        raw = g.get(m)
        y = y0 + j * bar_h
        if not _is_number(raw):
            out.append(f'<text class="tick" x="{left + 2}" y="{_n(y + bar_h - 1)}">n/a</text>')
            continue
        v = float(raw)
        bw = max(0.0, min(1.0, v / frame.xmax)) * frame.pw
        out.append(
            f'<rect x="{left}" y="{_n(y)}" width="{_n(max(bw, 0.5))}" height="{bar_h - 1}" fill="{_colour(key)}">'
            f"<title>{esc(name)}: {esc(fmt_pct(v))} {esc(label)}</title></rect>"
            f'<text class="tick" x="{_n(left + bw + 3)}" y="{_n(y + bar_h - 2)}">{esc(fmt_pct(v))}</text>'
        )
    out.append("\n")
    return out
