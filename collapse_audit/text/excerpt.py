"""Short single-line excerpts of records: the only text a check may keep (as report examples)."""

from __future__ import annotations

EXCERPT_CHARS = 200


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """A short, single-line excerpt of a record for report examples (renderers escape it)."""
    t = " ".join(text.split())
    return t if len(t) <= limit else t[: limit - 1] + "…"
