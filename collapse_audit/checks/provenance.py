"""Provenance: is every record tagged, with a known value, its required fields and an allowed licence?"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..lazy import np, pa
from ..result.sections import Section, SourceSeries
from ..text.excerpt import excerpt
from . import presenting as P
from .base import Check, CheckResult
from .provenance_tags import MISSING, UNKNOWN, classify_tags, provenance_values, tag_text
from .registry import register_check
from .spec import Column, Metric, Rule

MAX_EXAMPLES = 20
MAX_DISTINCT = 100   # distinct tag / licence values kept for the report (bounded state)


KINDS = {
    "missing": "without a provenance tag",
    "unknown_value": "whose provenance tag is in neither the synthetic nor the human vocabulary",
    "missing_required": "missing a field of the policy's fields.required",
    "disallowed_license": "whose licence is not on fields.license_allowlist",
}

#: the record field a kind rests on (the provenance tag unless named here)
_FIELD = {"disallowed_license": "license"}


@register_check
class Provenance(Check):
    """Audits the provenance tags: missing, unknown or disallowed values and required fields."""
    name = "provenance"
    title = "Provenance"
    metrics = tuple(m for key, what in KINDS.items() for m in (
        Metric(f"provenance.{key}_count", "count", f"Records {what}.", unit="records", record_level="flagged",
               field=_FIELD.get(key, "provenance")),
        Metric(f"provenance.{key}_fraction", "fraction", f"Share of records {what}.", record_level="flagged",
               field=_FIELD.get(key, "provenance")),
    ))
    rules = (
        Rule(
            "CA301", "provenance-required", "provenance.missing_fraction", "max", 0.0, "error",
            rationale=(
                "A record that cannot say where it came from cannot be excluded when its source turns out to "
                "be model-generated or unlicensed. Every record needs a provenance tag."
            ),
            example="{id: CA301, metric: provenance.missing_fraction, max: 0.0}",
            enabled_by_default=True,
        ),
        Rule(
            "CA302", "required-fields", "provenance.missing_required_fraction", "max", 0.0, "error",
            rationale=(
                "The policy's `fields.required` (e.g. source, license) must be present on every record for "
                "audits and takedown requests to be answerable."
            ),
            example="{id: CA302, metric: provenance.missing_required_fraction, max: 0.0}",
            enabled_by_default=False,
        ),
        Rule(
            "CA303", "license-allowlist", "provenance.disallowed_license_fraction", "max", 0.0, "error",
            rationale=(
                "Records whose licence is not on the policy's `fields.license_allowlist` may not be usable "
                "for training; the annotations list them."
            ),
            example="{id: CA303, metric: provenance.disallowed_license_fraction, max: 0.0}",
            enabled_by_default=False,
        ),
        Rule(
            "CA304", "unknown-provenance-value", "provenance.unknown_value_fraction", "max", 0.0, "warning",
            rationale=(
                "A provenance tag that is in neither the synthetic nor the human vocabulary (a typo, a new "
                "vendor label) silently escapes CA101's declared count; extend the vocabularies or fix the "
                "tags."
            ),
            example="{id: CA304, metric: provenance.unknown_value_fraction, max: 0.0, severity: warning}",
            enabled_by_default=False,
        ),
    )
    columns = (
        Column("provenance", "string", "The record's provenance tag as found (null when absent).", contract=True),
    )

    def __init__(self, ctx=None):
        super().__init__(ctx)
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
        """Classify each record's provenance tag and licence and note missing required fields."""
        f = self.fields
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
                ex.append({**batch.locate(i), "provenance": tags[i],
                           "excerpt": excerpt(batch.texts[i])})
        self.codes.append(codes)
        self.tags.append(pa.array(tags, type=pa.string()))
        self.missing_required.append(miss_req)
        self.disallowed.append(disallowed)

    state_attrs = ("codes", "missing_required", "disallowed", "tags", "values", "licenses",
                   "required_missing_by_field", "examples")

    def merge(self, other: Check) -> None:
        """Exact while the corpus has at most ``MAX_DISTINCT`` distinct tags (and licences): per-record
        arrays concatenate, counts add in first-seen order, examples keep the first ones. Past that
        cap a value both shards saw may be counted under '(other)' for the later shard's records."""
        self._merge_guard(other)
        assert isinstance(other, Provenance)
        self.codes += other.codes
        self.missing_required += other.missing_required
        self.disallowed += other.disallowed
        self.tags += other.tags
        for mine, theirs in ((self.values, other.values), (self.licenses, other.licenses)):
            for key, count in theirs.items():
                if key in mine or len(mine) < MAX_DISTINCT:
                    mine[key] += count
                else:
                    mine["(other)"] += count
        self.required_missing_by_field.update(other.required_missing_by_field)
        for key, ex in self.examples.items():
            ex += other.examples[key][: max(0, MAX_EXAMPLES - len(ex))]

    @staticmethod
    def _count(counter: Counter, values) -> None:
        for v in values:
            key = "(missing)" if v is None else v
            if key in counter or len(counter) < MAX_DISTINCT:
                counter[key] += 1
            else:
                counter["(other)"] += 1

    def finish(self) -> CheckResult:
        """Counts and fractions of each provenance problem, the tag column and examples."""
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
        metrics: dict[str, float] = {}
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

    source_series = (SourceSeries("untagged", "untagged", ("provenance.missing_fraction",)),)

    @classmethod
    def summary(cls, details, metrics) -> dict[str, Any]:
        """The licences and provenance values found, by count."""
        def counts(key: str) -> dict | None:
            return details.get(key) if isinstance(details.get(key), dict) else None
        return {"data_processing.licences.found": counts("licenses"),
                "data_processing.provenance.values": counts("values")}

    @classmethod
    def section(cls, details, metrics) -> Section | None:
        """The tag and licence counts and examples of each problem."""
        return Section(
            key=cls.name, title=cls.title,
            facts=P.facts(*(P.fact(metrics, f"records {what}", f"provenance.{key}_count", "count")
                            for key, what in KINDS.items())),
            tables=P.tables(
                P.counts_table("Provenance tags", details.get("values"), "tag"),
                P.counts_table("Licences", details.get("licenses"), "licence"),
                P.counts_table("Missing required fields", details.get("missing_required"), "field"),
                *(P.examples_table(f"Records {what}", details.get(f"{key}_examples"), extra=(("tag", "provenance"),))
                  for key, what in KINDS.items()),
            ),
        )
