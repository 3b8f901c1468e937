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
