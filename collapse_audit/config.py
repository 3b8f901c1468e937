"""Settings a scan runs with: the policy's field mapping and typed check options plus CLI overrides.

The engine builds each check from it (``Check.from_config``), so checks never read files or the command line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldMap:
    """Where things live in a record (dotted paths reach nested fields)."""

    text: str = "text"
    id: str | None = "id"
    provenance: str | None = "provenance"
    source: str | None = "source"
    license: str | None = "license"
    synthetic_values: tuple[str, ...] = ("synthetic", "machine", "model-generated", "llm", "ai-generated")
    human_values: tuple[str, ...] = ("human", "human-written")
    required: tuple[str, ...] = ()
    license_allowlist: tuple[str, ...] | None = None
    text_roles: tuple[str, ...] | None = None   # chat records: whose turns are the text (None: every turn)

    def metadata_fields(self) -> list[str]:
        """Every non-text field the scan must read (and nothing more: readers project columns)."""
        names = [self.id, self.provenance, self.source, self.license, *self.required]
        out: list[str] = []
        for n in names:
            if n and n != self.text and n not in out:
                out.append(n)
        return out


@dataclass(frozen=True)
class ScanConfig:
    """What a scan runs with. ``options`` maps a policy section (``near_duplicates``, ``detector``,
    ``diversity``, ``contamination``, ...) to that check's typed ``Options`` instance, validated at
    policy load; a section that is absent means the check's defaults."""

    fields: FieldMap = FieldMap()
    options: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)
    seed: int = 0
    workers: int = 1
    batch_size: int = 4096
    baseline: str | None = None
    eval_sets: tuple[str, ...] = ()
    eval_text_field: str | None = None  # the eval sets' text spec (as fields.text); None: the corpus's
    rules: frozenset[str] = frozenset()   # the codes of the rules applied (a plugin check runs only for its own)

    def option(self, section: str) -> Any:
        """The options instance of ``section``, or None when the policy left it at the defaults."""
        return self.options.get(section)
