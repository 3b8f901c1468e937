"""The rule catalogue: stable codes with a rationale and an example, in the manner of linters.

``collapse-audit rules list`` and ``rules explain CA101`` read from here, and a policy rule that
names a catalogued id inherits its name and metric. Codes: CA1xx synthetic content, CA2xx
duplication, CA3xx provenance and licensing, CA4xx diversity and drift, CA5xx contamination.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RuleDoc:
    """One catalogued rule: its code, metric, default limit and severity, and why it exists."""

    id: str
    name: str
    metric: str
    op: str                 # "max" or "min"
    default_threshold: float
    severity: str
    enabled_by_default: bool
    rationale: str
    example: str


_CORE = [
    RuleDoc("CA101", "synthetic-share-cap", "synthetic.estimated_fraction", "max", 0.30, "error", True,
            "Models trained on a growing share of model-generated text lose the tails of the human distribution "
            "and degrade generation after generation (model collapse). The cap is applied to the *estimated* "
            "share: records declared synthetic count in full, and the detector's flagged share of the rest is "
            "corrected for its validated true- and false-positive rates, with a 95% interval. When that interval "
            "straddles the cap the message says the estimate is too uncertain to be sure either way.",
            "{id: CA101, metric: synthetic.estimated_fraction, max: 0.30}"),
    RuleDoc("CA102", "declared-synthetic-cap", "synthetic.declared_fraction", "max", 0.30, "error", False,
            "Caps the share of records whose provenance tag says they are model-generated. Unlike CA101 it needs "
            "no detector, so it is exact, but it trusts the tags.",
            "{id: CA102, metric: synthetic.declared_fraction, max: 0.20}"),
    RuleDoc("CA103", "undeclared-synthetic", "provenance.undeclared_synthetic_count", "max", 0, "warning", False,
            "Records tagged human that the detector flags as model-generated suggest mislabelled provenance. "
            "Individual flags are probabilistic (see the detector's false-positive rate), so this defaults to a "
            "warning; the annotations list the records.",
            "{id: CA103, metric: provenance.undeclared_synthetic_count, max: 0, severity: warning}"),
    RuleDoc("CA201", "near-duplicate-share", "duplicates.near_fraction", "max", 0.05, "error", True,
            "Near-duplicates (MinHash Jaccard >= 0.8 over 5-word shingles) over-weight recycled content and "
            "shrink effective diversity; training on them accelerates memorisation and collapse. The share counts "
            "every cluster member but one, i.e. what deduplication would remove.",
            "{id: CA201, metric: duplicates.near_fraction, max: 0.05}"),
    RuleDoc("CA202", "exact-duplicate-share", "duplicates.exact_fraction", "max", 0.01, "error", False,
            "Exact copies (after NFC and whitespace collapsing) are pure waste and a sign of a broken pipeline "
            "(re-ingested shards, joins that fan out).",
            "{id: CA202, metric: duplicates.exact_fraction, max: 0.0}"),
    RuleDoc("CA301", "provenance-required", "provenance.missing_fraction", "max", 0.0, "error", True,
            "A record that cannot say where it came from cannot be excluded when its source turns out to be "
            "model-generated or unlicensed. Every record needs a provenance tag.",
            "{id: CA301, metric: provenance.missing_fraction, max: 0.0}"),
    RuleDoc("CA302", "required-fields", "provenance.missing_required_fraction", "max", 0.0, "error", False,
            "The policy's `fields.required` (e.g. source, license) must be present on every record for audits "
            "and takedown requests to be answerable.",
            "{id: CA302, metric: provenance.missing_required_fraction, max: 0.0}"),
    RuleDoc("CA303", "license-allowlist", "provenance.disallowed_license_fraction", "max", 0.0, "error", False,
            "Records whose licence is not on the policy's `fields.license_allowlist` may not be usable for "
            "training; the annotations list them.",
            "{id: CA303, metric: provenance.disallowed_license_fraction, max: 0.0}"),
    RuleDoc("CA304", "unknown-provenance-value", "provenance.unknown_value_fraction", "max", 0.0, "warning", False,
            "A provenance tag that is in neither the synthetic nor the human vocabulary (a typo, a new vendor "
            "label) silently escapes CA101's declared count; extend the vocabularies or fix the tags.",
            "{id: CA304, metric: provenance.unknown_value_fraction, max: 0.0, severity: warning}"),
]


def _signal_rules() -> list[RuleDoc]:
    from .catalogue_signals import SIGNAL_RULES

    return [RuleDoc(**{k: r[k] for k in RuleDoc.__dataclass_fields__}) for r in SIGNAL_RULES]


def catalogue() -> dict[str, RuleDoc]:
    """All documented rules by id, in code order."""
    docs = _CORE + _signal_rules()
    return {d.id: d for d in sorted(docs, key=lambda d: d.id)}
