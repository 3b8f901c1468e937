"""Renderer-neutral report sections: what a check wants shown, not how.

A check describes its findings once (``Check.section(details, metrics)``) as a ``Section`` of
paragraphs, labelled facts and tables of already-formatted text; the console, Markdown, HTML, JUnit
and SARIF renderers each draw it their own way and escape every string themselves. Strings here
are plain text (data values included), never markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Table:
    """Rows of plain-text cells under column headings (a location column reads "file:row")."""

    columns: list[str]
    rows: list[list[str]]
    title: str = ""
    caption: str = ""    # e.g. "showing 20 of 1,234"


@dataclass(frozen=True)
class Section:
    """One check's part of a report."""

    key: str                                    # the check's name; stable anchor id
    title: str                                  # "Near duplicates"
    paragraphs: list[str] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)   # ("clusters", "18")
    tables: list[Table] = field(default_factory=list)


@dataclass(frozen=True)
class Histogram:
    """A figure a check asks for: a score distribution, with the threshold records are flagged at."""

    key: str                                    # anchor id of the figure ("chart-<key>")
    caption: str                                # "Synthetic-score distribution"
    title: str                                  # the picture's accessible title
    x_label: str
    edges: list[float]
    counts: list[int]
    threshold: float | None = None
    flagged: int | None = None                  # exact records at or above the threshold, when known
    scored: int | None = None
    flagged_as: str = "flagged"                 # what a record above the threshold is called
    estimate: tuple[str, float, float | None, float | None] | None = None   # (what, share, ci_low, ci_high)


@dataclass(frozen=True)
class SizeCounts:
    """A figure a check asks for: how many groups have each size (e.g. near-duplicate clusters); all but
    one record of each group is removable."""

    key: str
    caption: str
    member: str                                 # what a group is made of: "near-identical records"
    x_label: str
    sizes: list[tuple[int, int]]                # (group size, number of groups)
    group: str = "clusters"


@dataclass(frozen=True)
class SourceSeries:
    """One bar per source in the per-source figure: the first of ``metrics`` the result has, per source."""

    key: str                                    # colour key
    label: str
    metrics: tuple[str, ...]
