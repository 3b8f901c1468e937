"""Provenance: is every record tagged, with a known value, its required fields and an allowed licence?"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa

from .base import Check, CheckResult, excerpt
from .provenance_tags import MISSING, UNKNOWN, classify_tags, provenance_values, tag_text

MAX_EXAMPLES = 20
MAX_DISTINCT = 100   # distinct tag / licence values kept for the report (bounded state)


class Provenance(Check):
    name = "provenance"
    produces = (
        "provenance.missing_count", "provenance.missing_fraction",
        "provenance.unknown_value_count", "provenance.unknown_value_fraction",
        "provenance.missing_required_count", "provenance.missing_required_fraction",
        "provenance.disallowed_license_count", "provenance.disallowed_license_fraction",
    )

    def __init__(self, config, resources=None):
        super().__init__(config, resources)
        self.codes: list[np.ndarray] = []
        self.missing_required: list[np.ndarray] = []
        self.disallowed: list[np.ndarray] = []
        self.tags: list[pa.Array] = []   # the tags as found, as compact Arrow strings
        self.values: Counter = Counter()
        self.licenses: Counter = Counter()
        self.required_missing_by_field: Counter = Counter()
        self.examples: dict[str, list] = {"missing": [], "unknown_value": [], "missing_required": [],
                                          "disallowed_license": []}

    def observe(self, batch, prepared) -> None:
        f = self.config.fields
        raw = provenance_values(batch, f)
        codes = classify_tags(raw, f)
        tags = [tag_text(v) for v in raw]
        n = len(batch)
        miss_req = np.zeros(n, dtype=bool)
        for name in f.required:
            col = batch.fields.get(name, [None] * n)
            absent = np.fromiter((tag_text(v) is None for v in col), dtype=bool, count=n)
            self.required_missing_by_field[name] += int(absent.sum())
            miss_req |= absent
        disallowed = np.zeros(n, dtype=bool)
        if f.license:
            lic = [tag_text(v) for v in batch.fields.get(f.license, [None] * n)]
            self._count(self.licenses, lic)
            if f.license_allowlist is not None:
                allowed = {a.strip().lower() for a in f.license_allowlist}
                disallowed = np.fromiter((v is not None and v.strip().lower() not in allowed for v in lic),
                                         dtype=bool, count=n)
        self._count(self.values, tags)
        for key, mask in (("missing", codes == MISSING), ("unknown_value", codes == UNKNOWN),
                          ("missing_required", miss_req), ("disallowed_license", disallowed)):
            ex = self.examples[key]
            for i in np.flatnonzero(mask)[: max(0, MAX_EXAMPLES - len(ex))]:
                ex.append({"file": batch.file, "row": batch.rows[i], "provenance": tags[i],
                           "excerpt": excerpt(batch.texts[i])})
        self.codes.append(codes)
        self.tags.append(pa.array(tags, type=pa.string()))
        self.missing_required.append(miss_req)
        self.disallowed.append(disallowed)

    @staticmethod
    def _count(counter: Counter, values) -> None:
        for v in values:
            key = "(missing)" if v is None else v
            if key in counter or len(counter) < MAX_DISTINCT:
                counter[key] += 1
            else:
                counter["(other)"] += 1

    def finish(self) -> CheckResult:
        codes = np.concatenate(self.codes) if self.codes else np.zeros(0, np.uint8)
        flags = {
            "missing": codes == MISSING,
            "unknown_value": codes == UNKNOWN,
            "missing_required": np.concatenate(self.missing_required) if self.missing_required else np.zeros(0, bool),
            "disallowed_license": np.concatenate(self.disallowed) if self.disallowed else np.zeros(0, bool),
        }
        self.flags = {}
        for key, mask in flags.items():
            self.flags[f"provenance.{key}_count"] = mask
            self.flags[f"provenance.{key}_fraction"] = mask
        total = max(len(codes), 1)
        metrics = {}
        for key, mask in flags.items():
            metrics[f"provenance.{key}_count"] = int(mask.sum())
            metrics[f"provenance.{key}_fraction"] = float(mask.sum() / total)
        tags = pa.chunked_array(self.tags, type=pa.string())
        details = {
            "values": dict(self.values.most_common()),
            "licenses": dict(self.licenses.most_common()),
            "missing_required": dict(self.required_missing_by_field),
            "missing_examples": self.examples["missing"],
            "unknown_value_examples": self.examples["unknown_value"],
            "missing_required_examples": self.examples["missing_required"],
            "disallowed_license_examples": self.examples["disallowed_license"],
        }
        return CheckResult(metrics=metrics, details=details, columns={"provenance": tags}, flags=self.flags)
