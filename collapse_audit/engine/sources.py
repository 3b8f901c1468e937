"""Per-source breakdown: which source each record belongs to, and every metric per source."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..checks.base import Check, CheckResult
from ..checks.registry import metrics_from_flags

MAX_SOURCES = 50
MISSING = "(missing)"
OTHER = "(other)"


class SourceIndex:
    """Maps each record to a source code (first ``MAX_SOURCES`` distinct values, then '(other)')."""

    def __init__(self, field: str | None):
        self.field = field
        self.names: dict[str, int] = {}
        self.codes: list[np.ndarray] = []

    def _code(self, value: Any) -> int:
        name = MISSING if value is None or (isinstance(value, str) and not value.strip()) else str(value)
        code = self.names.get(name)
        if code is None:
            if len(self.names) >= MAX_SOURCES:
                name = OTHER
                code = self.names.get(name)
            if code is None:
                code = self.names[name] = len(self.names)
        return code

    def observe(self, batch) -> None:
        """Record the source code of every record of the batch (in input order)."""
        if not self.field:
            return
        values = batch.fields.get(self.field, [None] * len(batch))
        self.codes.append(np.fromiter((self._code(v) for v in values), dtype=np.int32, count=len(batch)))

    def merge(self, other: SourceIndex) -> None:
        """Append the codes of the records that follow (another shard's index): its sources are
        coded here in its own first-appearance order, so codes are those of one scan."""
        if not self.field:
            return
        remap = np.zeros(len(other.names), dtype=np.int32)
        for name, code in sorted(other.names.items(), key=lambda kv: kv[1]):
            remap[code] = self._code(None if name == MISSING else name)
        self.codes += [remap[c] for c in other.codes]

    def to_state(self) -> tuple[dict[str, Any], dict]:
        """The codes (arrays) and the source names in code order (JSON), for a partial state."""
        arrays = {"codes": self.array() if self.field else np.zeros(0, np.int32)}
        return arrays, {"field": self.field, "names": list(self.names)}

    @classmethod
    def from_state(cls, arrays, meta) -> SourceIndex:
        """The index ``to_state`` saved."""
        index = cls(meta["field"])
        index.names = {name: i for i, name in enumerate(meta["names"])}
        if index.field:
            index.codes = [np.asarray(arrays["codes"], dtype=np.int32)]
        return index

    def array(self) -> np.ndarray | None:
        """The source code of every record, or None when the policy names no source field."""
        if not self.field:
            return None
        return np.concatenate(self.codes) if self.codes else np.zeros(0, np.int32)

    def mask(self, name: str) -> np.ndarray | None:
        """The records whose source is ``name``, or None when no record has it."""
        arr = self.array()
        code = self.names.get(name)
        if arr is None or code is None:
            return None
        return arr == code

    def per_source_metrics(self, checks: list[Check], results: dict[str, CheckResult]) -> dict[str, dict]:
        """{source: {metric: value}}; empty when the policy names no source field or all are missing."""
        arr = self.array()
        if arr is None or (len(self.names) == 1 and MISSING in self.names):
            return {}
        groups: dict[str, dict] = {}
        for name in sorted(self.names):
            mask = arr == self.names[name]
            metrics: dict[str, Any] = {"records.total": int(mask.sum())}
            for check in checks:
                res = results[check.name]
                # the check's own figures where it gives them, else the declared-kind default
                metrics.update(metrics_from_flags(res.flags, mask))
                metrics.update({k: _plain(v) for k, v in check.metrics_for(mask).items()})
            groups[name] = dict(sorted(metrics.items()))
        return groups


def _plain(v: Any) -> Any:
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return v
