"""Classifying provenance tags, shared by the provenance and synthetic checks."""

from __future__ import annotations

from typing import Any

from ..config import FieldMap
from ..lazy import np

MISSING, HUMAN, SYNTHETIC, UNKNOWN = 0, 1, 2, 3


def tag_text(value: Any) -> str | None:
    """The tag as found, as text (None when absent or blank)."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text if text.strip() else None


def classify_tags(values: list[Any], fields: FieldMap) -> np.ndarray:
    """uint8 code per record: MISSING, HUMAN, SYNTHETIC or UNKNOWN (case-insensitive match)."""
    synthetic = {v.strip().lower() for v in fields.synthetic_values}
    human = {v.strip().lower() for v in fields.human_values}
    out = np.empty(len(values), dtype=np.uint8)
    for i, v in enumerate(values):
        t = tag_text(v)
        if t is None:
            out[i] = MISSING
        else:
            k = t.strip().lower()
            out[i] = SYNTHETIC if k in synthetic else HUMAN if k in human else UNKNOWN
    return out


def provenance_values(batch, fields: FieldMap) -> list[Any]:
    """The batch's raw provenance values (None for every record when no field is mapped)."""
    if not fields.provenance:
        return [None] * len(batch)
    return batch.fields.get(fields.provenance, [None] * len(batch))
