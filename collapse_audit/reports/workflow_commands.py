"""``--format github``: GitHub Actions workflow commands, so rule results appear as annotations.

One ``::error``/``::warning``/``::notice`` line per rule that did not pass, pointing at the first
record the rule's check listed (``file=...,line=...``) when it has one, then a notice with the
verdict. Values are escaped per GitHub's rules: in the message ``%``, ``\\r`` and ``\\n``; in
properties also ``:`` and ``,``. Every string is made inert first, so a data value can neither
start a new workflow command nor reach the log as a raw escape sequence, and its ``##`` is split
(the older ``##[command]`` form is read anywhere in a line).
"""

from __future__ import annotations

import re

from ..result import ScanResult
from .view import (
    STATUS_LABEL,
    as_result,
    counts_against,
    flagged_records,
    inert,
    rule_label,
    rule_value_text,
    verdict_sentence,
)

_HASHES = re.compile(r"#(?=#)")


def escape_data(s: object) -> str:
    """A message escaped for a workflow command, so data cannot end the line or start another command."""
    return _HASHES.sub("#\u200b", inert(s)).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(s: object) -> str:
    """A property value escaped for a workflow command (``:`` and ``,`` too, which separate properties)."""
    return escape_data(s).replace(":", "%3A").replace(",", "%2C")


def _level(res: ScanResult, rule) -> str:
    if rule.status == "not_applicable":
        return "notice"
    if rule.status == "fail" or counts_against(res, rule):
        return "error" if rule.severity == "error" or rule.status == "inconclusive" else "warning"
    return "warning"


def command(level: str, message: str, title: str = "", file: str | None = None, line: int | None = None) -> str:
    """One ``::level file=...,line=...,title=...::message`` line with every part escaped."""
    props = []
    if file:
        props.append(f"file={escape_property(file)}")
        if isinstance(line, int) and line >= 1:
            props.append(f"line={line}")
    if title:
        props.append(f"title={escape_property(title)}")
    return f"::{level}{' ' + ','.join(props) if props else ''}::{escape_data(message)}"


def render(result: ScanResult | dict) -> str:
    """One annotation per rule that did not pass, then a notice with the verdict."""
    res = as_result(result)
    lines = []
    for r in res.rules:
        if r.status == "pass":
            continue
        first = next(iter(flagged_records(res, r.metric, 1)), None) if r.status != "not_applicable" else None
        title = f"{rule_label(r)} {STATUS_LABEL.get(r.status, r.status)}"
        message = f"{r.message} (value {rule_value_text(r)})"
        lines.append(command(_level(res, r), message, title,
                             first["file"] if first else None, first.get("line") if first else None))
    lines.append(command("notice", f"collapse-audit verdict {res.verdict.upper()}: {verdict_sentence(res)}",
                         "collapse-audit"))
    return "\n".join(lines) + "\n"
