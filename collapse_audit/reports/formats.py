"""File formats rendered from a finished result: format name -> ``render(result) -> str``.

Shared by ``scan --format`` and ``report --format`` so both produce byte-identical output from the
same result. (``json`` and ``table`` live with the CLI: ``json`` is ``result.to_json``.)
"""

from __future__ import annotations

from collections.abc import Callable

from . import html, junit, markdown, summary

FILE_RENDERERS: dict[str, Callable[[dict], str]] = {
    "markdown": markdown.render,
    "html": html.render,
    "junit": junit.render,
    "summary": summary.render_markdown,
    "summary-json": summary.render_json,
}

#: what ``report`` picks when ``--format`` is omitted and ``-o`` has one of these suffixes
SUFFIX_FORMATS = {
    ".html": "html",
    ".htm": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".xml": "junit",
    ".json": "json",
}
