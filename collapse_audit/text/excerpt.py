"""Short single-line excerpts of records: the only text a check may keep (as report examples)."""

from __future__ import annotations

EXCERPT_CHARS = 200


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """A short, single-line excerpt of a record for report examples (renderers escape it).

    Only a prefix is whitespace-collapsed, so a 50 MB record costs no more than a short one; the
    result is the same as collapsing the whole text (the whole text is used when the prefix is too
    short to fill the excerpt).
    """
    head = text[: 8 * limit]
    t = " ".join(head.split())
    if len(t) <= limit and len(head) < len(text):
        t = " ".join(text.split())
    return t if len(t) <= limit else t[: limit - 1] + "…"
