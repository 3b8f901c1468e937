"""The typed scan result and its JSON form (``--format json``, ``schema_version`` 1).

``ScanResult.to_json()`` is exactly what ``--format json`` writes and ``load_result`` reads back,
so ``collapse-audit report result.json`` re-renders a past scan through the same objects.
Everything but ``run`` is byte-identical for the same input, policy and seed.

Top-level keys (the JSON result contract, docs/schemas.md): schema_version, tool, run, inputs,
skipped_inputs, records, detector, policy, metrics, sources, rules, details, verdict. Schema version
1 is extended only additively (``skipped_inputs``, ``inputs[].size/fingerprint``,
``detector.applicability``, rule statuses ``inconclusive``/``not_applicable``); a result without
those keys still loads."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

SCHEMA_VERSION = 1

Status = Literal["pass", "fail", "warn", "inconclusive", "not_applicable"]
STATUSES: tuple[str, ...] = ("fail", "inconclusive", "warn", "not_applicable", "pass")   # report order


@dataclass
class InputEntry:
    """One input file that was read."""

    path: str
    format: str
    compression: str | None = None
    records: int = 0
    skipped: int = 0
    size: int | None = None
    fingerprint: dict[str, str] | None = None     # {"algorithm": "sha256"|..., "value": hex}


@dataclass
class SkippedInput:
    """A file a directory scan found but did not read, and why (unsupported, hidden, metadata...)."""

    path: str
    reason: str


@dataclass
class RuleOutcome:
    """One policy rule applied to the scan."""

    id: str
    name: str
    metric: str
    op: str                          # "max" | "min"
    threshold: float
    value: float | None
    status: Status
    severity: str                    # "error" | "warning"
    message: str
    where: dict[str, str] | None = None
    records_flagged: int | None = None
    interval: list[float] | None = None     # [low, high] the rule decided from, for interval metrics
    suppressed: int | None = None           # records left out of the numerator by --accept

    @property
    def fails_verdict(self) -> bool:
        """Whether this rule alone fails the verdict (an inconclusive one may too, by policy: see counts_against)."""
        return self.status == "fail"


@dataclass
class ScanResult:
    """Everything a report shows; ``details`` holds each check's JSON-able findings by check name."""

    tool: dict[str, Any]
    run: dict[str, Any]
    inputs: list[InputEntry]
    records: dict[str, Any]
    detector: dict[str, Any]
    policy: dict[str, Any]
    metrics: dict[str, float | None]
    sources: dict[str, Any]
    rules: list[RuleOutcome]
    details: dict[str, dict[str, Any]]
    verdict: Literal["pass", "fail"]
    skipped_inputs: list[SkippedInput] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION

    # ---- JSON -----------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The result as the JSON document the schema describes (``--format json``)."""
        d = {
            "schema_version": self.schema_version,
            "tool": self.tool,
            "run": self.run,
            "inputs": [asdict(i) for i in self.inputs],
            "skipped_inputs": [asdict(s) for s in self.skipped_inputs],
            "records": self.records,
            "detector": self.detector,
            "policy": self.policy,
            "metrics": self.metrics,
            "sources": self.sources,
            "rules": [asdict(r) for r in self.rules],
            "details": self.details,
            "verdict": self.verdict,
        }
        out: dict[str, Any] = _finite(d)
        return out

    def to_json(self) -> str:
        """Canonical JSON text: stable key order and formatting, so identical scans give identical bytes."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ScanResult:
        """Rebuild a result from its JSON form; unknown keys of inputs and rules are ignored."""
        return cls(
            schema_version=int(d.get("schema_version", SCHEMA_VERSION)),
            tool=dict(d.get("tool") or {}),
            run=dict(d.get("run") or {}),
            inputs=[InputEntry(**_known(InputEntry, i)) for i in d.get("inputs") or []],
            skipped_inputs=[SkippedInput(**_known(SkippedInput, s)) for s in d.get("skipped_inputs") or []],
            records=dict(d.get("records") or {}),
            detector=dict(d.get("detector") or {}),
            policy=dict(d.get("policy") or {}),
            metrics=dict(d.get("metrics") or {}),
            sources=dict(d.get("sources") or {}),
            rules=[RuleOutcome(**_known(RuleOutcome, r)) for r in d.get("rules") or []],
            details=dict(d.get("details") or {}),
            verdict=d.get("verdict", "fail"),
        )

    # ---- conveniences every renderer needs -------------------------------------------------------

    def metric(self, name: str) -> float | None:
        """A metric's value as a float, or None when it is absent or not a number."""
        v = self.metrics.get(name)
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None

    def counts(self) -> dict[str, int]:
        """Rules per status."""
        out = {s: 0 for s in STATUSES}
        for r in self.rules:
            out[r.status] = out.get(r.status, 0) + 1
        return out


def _known(cls: type, d: dict[str, Any]) -> dict[str, Any]:
    """The keys of ``d`` that ``cls`` declares (older or newer results still load)."""
    names = set(cls.__dataclass_fields__)  # type: ignore[attr-defined]
    return {k: v for k, v in d.items() if k in names}


def _finite(v: Any) -> Any:
    """numpy scalars to Python numbers, NaN/inf to null (JSON has neither)."""
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_finite(x) for x in v]
    if hasattr(v, "item") and callable(v.item) and not isinstance(v, (str, bytes)):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def load_result(path: str) -> ScanResult:
    """Read a saved JSON result, refusing unknown schema versions with one clear sentence."""
    from ..errors import AuditError

    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise AuditError(f"Result file not found: {path}.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AuditError(f"{path} is not a readable collapse-audit JSON result ({exc}).") from None
    if not isinstance(data, dict) or "schema_version" not in data:
        raise AuditError(f"{path} is not a collapse-audit JSON result (no schema_version).")
    if data["schema_version"] != SCHEMA_VERSION:
        raise AuditError(f"{path} has schema_version {data['schema_version']!r}; "
                         f"this collapse-audit reads version {SCHEMA_VERSION}.")
    try:
        return ScanResult.from_dict(data)
    except (TypeError, ValueError) as exc:
        raise AuditError(f"{path} is not a valid collapse-audit JSON result ({exc}).") from None
