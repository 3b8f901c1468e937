"""The one format table: format name -> ``render(ScanResult) -> str``, shared by ``scan -f`` and ``report -f``.

Both commands go through :func:`render_result`, so the same result gives byte-identical output
whichever command wrote it. ``--redact`` is applied here, before any renderer (JSON included).
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import AuditError
from ..result import ScanResult
from . import console, html, junit, markdown, sarif, summary, workflow_commands
from .redact import redact
from .view import as_result, json_safe


def _json(result: ScanResult | dict) -> str:
    return json_safe(as_result(result).to_json())


RENDERERS: dict[str, Callable[[ScanResult | dict], str]] = {
    "table": console.render_text,
    "json": _json,
    "markdown": markdown.render,
    "html": html.render,
    "junit": junit.render,
    "sarif": sarif.render,
    "github": workflow_commands.render,
    "summary": summary.render_markdown,
    "summary-json": summary.render_json,
}
FORMATS = tuple(RENDERERS)

#: what ``report`` picks when ``--format`` is omitted and ``-o`` has one of these suffixes
SUFFIX_FORMATS = {
    ".html": "html", ".htm": "html", ".md": "markdown", ".markdown": "markdown", ".xml": "junit",
    ".json": "json", ".sarif": "sarif",
}


def render_result(result: ScanResult | dict, fmt: str, redact_mode: str | None = None) -> str:
    """The report in format ``fmt`` (after ``--redact``); an unknown format is a user error."""
    if fmt not in RENDERERS:
        raise AuditError(f"Unknown format '{fmt}' (choose from {', '.join(FORMATS)}).")
    text = RENDERERS[fmt](redact(as_result(result), redact_mode))
    return _no_log_commands(text) if fmt in JSON_FORMATS else text


#: formats whose output is JSON text (a ``#`` can only be inside a string there)
JSON_FORMATS = ("json", "sarif", "summary-json")


def _no_log_commands(json_text: str) -> str:
    """JSON that a CI log cannot read as a ``##[command]``: the second ``#`` as the JSON escape
    ``\\u0023``, which every JSON reader decodes back to the same string (pretty-printed JSON never
    starts a line with ``::``)."""
    return json_text.replace("##", "#\\u0023")
