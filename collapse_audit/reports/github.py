"""GitHub Actions job summary: the Markdown report appended to ``$GITHUB_STEP_SUMMARY``.

``scan`` calls :func:`write_step_summary` when that variable is set, so a failed CI job shows the
verdict, the rules, the detector's validity and the audit trail on the run's summary page.
"""

from __future__ import annotations

import os

from ..errors import AuditError
from ..result import ScanResult
from . import markdown
from .view import as_result, audit_section, detector_section, sources_section

#: GitHub rejects a step summary over 1 MiB; stay well below it.
MAX_BYTES = 900_000


def render(result: ScanResult | dict) -> str:
    """The Markdown report, cut down to verdict, rules, detector, sources and audit trail if too large."""
    res = as_result(result)
    text = markdown.render(res)
    if len(text.encode("utf-8")) <= MAX_BYTES:
        return text
    lines = markdown.head(res) + markdown.rules_block(res)
    for s in (detector_section(res), sources_section(res), audit_section(res)):
        if s is not None:
            lines += markdown.section(s)
    lines += ["*Report shortened to fit the job summary; see the HTML report for the examples.*", ""]
    text = "\n".join(lines).rstrip("\n") + "\n"
    data = text.encode("utf-8")
    return text if len(data) <= MAX_BYTES else data[:MAX_BYTES].decode("utf-8", "ignore")


def write_step_summary(result: ScanResult | dict, path: str | None = None) -> bool:
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
