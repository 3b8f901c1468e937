"""GitHub Actions job summary: the Markdown report appended to ``$GITHUB_STEP_SUMMARY``.

``scan`` calls :func:`write_step_summary` when that variable is set, so a failed CI job shows the
verdict, the rules and the per-source breakdown on the run's summary page with no extra step.
"""

from __future__ import annotations

import os

from ..errors import AuditError
from . import markdown

#: GitHub rejects a step summary over 1 MiB; stay well below it.
MAX_BYTES = 900_000


def render(result: dict) -> str:
    """The Markdown report, cut down to verdict, rules and sources if the full one is too large."""
    text = markdown.render(result)
    if len(text.encode("utf-8")) <= MAX_BYTES:
        return text
    lines = (
        markdown._lines_head(result)
        + markdown._rules_section(result)
        + markdown._sources_section(result)
        + ["*Report shortened to fit the job summary; see the HTML report for the examples.*", ""]
    )
    text = "\n".join(lines).rstrip("\n") + "\n"
    return (
        text if len(text.encode("utf-8")) <= MAX_BYTES else text.encode("utf-8")[:MAX_BYTES].decode("utf-8", "ignore")
    )


def write_step_summary(result: dict, path: str | None = None) -> bool:
    """Append the summary to ``path`` (default ``$GITHUB_STEP_SUMMARY``); False when there is nowhere to write."""
    path = path or os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return False
    try:
        with open(path, "a", encoding="utf-8", newline="") as fh:
            fh.write(render(result) + "\n")
    except OSError as exc:
        raise AuditError(f"Cannot write the GitHub job summary to {path}: {exc.strerror or exc}.") from None
    return True
