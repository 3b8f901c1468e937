"""Provenance derived by a rule, for corpora that carry no provenance tag of their own.

Many real corpora say where a record came from without a tag: a ``generator`` or ``model`` column
that is set only on machine-written records, or vendor labels (``gpt4``, ``claude``) instead of
``synthetic``. Two small policy keys under ``fields`` turn those into the tags the checks read:

.. code-block:: yaml

    fields:
      provenance_from: {field: generator, present: synthetic, absent: human}
      provenance_map: {gpt4: synthetic, claude: synthetic, crawl: human}

``provenance_from`` derives the tag from whether ``field`` holds a value; ``provenance_map`` maps
tag values (the derived ones or those of ``fields.provenance``) to other values, unlisted values
unchanged. The engine applies the derivation to each batch before any check sees it, so every
check, report and annotation uses the derived tag.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

PROVENANCE_KEYS = ("provenance_from", "provenance_map")
FROM_KEYS = ("field", "present", "absent")
DERIVED_PREFIX = "provenance_from:"


@dataclass(frozen=True)
class ProvenanceDerivation:
    """How to compute a record's provenance tag from its fields."""

    field: str | None = None                 # derive from whether this field is set
    present: str | None = None               # tag when the field holds a value
    absent: str | None = None                # tag when it does not (None: leave untagged)
    mapping: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def key(self, provenance_field: str | None) -> str:
        """The batch field the checks read the derived tag from."""
        return f"{DERIVED_PREFIX}{self.field or provenance_field}"

    def tag(self, value: Any) -> Any:
        """The derived tag for one record, given the value of the source field."""
        if self.field is not None:
            set_ = value is not None and not (isinstance(value, str) and not value.strip())
            value = self.present if set_ else self.absent
        if value is not None and self.mapping:
            return self.mapping.get(str(value), value)
        return value


def parse_derivation(fields: Mapping[str, Any],
                     fail: Callable[..., Exception]) -> ProvenanceDerivation | None:
    """Read ``fields.provenance_from`` / ``fields.provenance_map``; errors name the policy line."""
    raw_from, raw_map = fields.get("provenance_from"), fields.get("provenance_map")
    if raw_from is None and raw_map is None:
        return None
    source = present = absent = None
    if raw_from is not None:
        if not isinstance(raw_from, dict):
            raise fail("'fields.provenance_from' must be a mapping {field, present, absent}",
                       "fields", "provenance_from")
        for key in raw_from:
            if key not in FROM_KEYS:
                raise fail(f"unknown key '{key}' in 'fields.provenance_from' (expected one of: "
                           f"{', '.join(FROM_KEYS)})", "fields", "provenance_from", key)
        source, present, absent = raw_from.get("field"), raw_from.get("present"), raw_from.get("absent")
        if not isinstance(source, str) or not source.strip():
            raise fail("'fields.provenance_from.field' must be a field name", "fields", "provenance_from")
        if not isinstance(present, str) or not present.strip():
            raise fail("'fields.provenance_from.present' must be the tag for records where the field is set",
                       "fields", "provenance_from")
        if absent is not None and not isinstance(absent, str):
            raise fail("'fields.provenance_from.absent' must be a tag (or left out)", "fields", "provenance_from")
    mapping: dict[str, str] = {}
    if raw_map is not None:
        if not isinstance(raw_map, dict) or not all(isinstance(v, (str, int, float)) for v in raw_map.values()):
            raise fail("'fields.provenance_map' must map tag values to tag values", "fields", "provenance_map")
        mapping = {str(k): str(v) for k, v in raw_map.items()}
    return ProvenanceDerivation(source, present, absent, mapping)
