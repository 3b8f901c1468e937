"""Show untrusted strings (data values, file names) without letting them act on a terminal or report.

A record's source value or a file name can carry ESC sequences (screen clears, OSC-8 hyperlinks),
C1 controls, bidi overrides that reorder what a reader sees, lone surrogates that cannot be
encoded, or Rich markup such as ``[/]``. ``inert`` replaces each such character by a visible
escape (``\\x1b``, ``\\u202e``, ``\\ud800``) so the text is shown exactly and does nothing;
``rich_inert`` additionally escapes Rich markup for strings passed to a Rich console.
Ordinary text - including non-ASCII letters, emoji, tabs - is left as it is.
"""

from __future__ import annotations

import re

# C0 controls except TAB and LF, DEL, C1 controls, bidi embeddings/overrides/isolates and marks,
# line/paragraph separators, the BOM/zero-width no-break space, and lone surrogates.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff"
    "\ud800-\udfff]"
)


def _visible(m: re.Match) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def inert(s: object, *, newlines: bool = True) -> str:
    """``s`` as a string whose control, bidi and surrogate characters are shown as escapes.

    With ``newlines=False`` a line feed is escaped too (for values that must stay on one line)."""
    text = s if isinstance(s, str) else str(s)
    out = _UNSAFE.sub(_visible, text)
    if not newlines:
        out = out.replace("\n", "\\n")
    return out


def rich_inert(s: object, *, newlines: bool = True) -> str:
    """``inert`` plus Rich markup escaped, for text printed through a Rich console."""
    from rich.markup import escape

    return escape(inert(s, newlines=newlines))


#: a zero-width space: invisible, yet it splits the two characters of a CI log command marker
_SPLIT = "\u200b"
_LOG_COMMAND = re.compile(r"(?<=:)(?=:)|(?<=#)(?=#)")


def log_inert(s: object) -> str:
    """``inert`` on one line, and unable to act as a CI log command.

    A CI runner reads a log line that starts with ``::`` (GitHub Actions workflow commands:
    ``::error::``, ``::add-mask::``, ``::stop-commands::``) or holds ``##[`` / ``##vso[`` anywhere
    (GitHub's older form, Azure Pipelines) as a command. A data value printed in a console table
    may land at a line start (a folded cell, a first column), so every ``::`` and ``##`` in it is
    split by a zero-width space: the reader sees the same text, the runner no command."""
    return _LOG_COMMAND.sub(_SPLIT, inert(s, newlines=False))
