"""What renderers look up about checks and rules: all derived from the registered checks.

Renderers never hard-code a check: the kind of a metric (how to format it), the check behind a
metric (where its flagged records are listed), the rule rationales and each check's own report
section all come from ``checks.registry``. Data values go through ``inert`` before any renderer
sees them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..checks import registry
from ..result import Section
from ..result.locations import using_inputs
from ..text.inert import inert as _inert


def inert(s: Any) -> str:
    """A data value made safe to show (control, bidi and surrogate characters visible); None -> ""."""
    return "" if s is None else _inert(s)


def metric_kind(name: str | None) -> str:
    """The declared kind of a metric (count, fraction, value, interval); ``value`` when undeclared."""
    spec = registry.metric_spec(name) if name else None
    return spec.kind if spec is not None else "value"


def metric_label(name: str | None) -> str | None:
    """A declared metric's human label: the first clause of its description ("Share of records
    without a provenance tag"), or None when ``name`` is not a metric."""
    spec = registry.metric_spec(name) if name and "." in name else None
    if spec is None:
        return None
    label = getattr(spec, "label", "") or spec.description
    for stop in (": ", " (", ". ", ", "):
        label = label.split(stop, 1)[0]
    return label.rstrip(".")


def rule_rationales() -> dict[str, str]:
    """Rule code -> rationale, from the catalogue."""
    return {code: r.rationale for code, r in registry.catalogue().items()}


def catalogue_rules() -> list[tuple[str, str, str, str]]:
    """(code, name, metric, rationale) of every catalogued rule, for SARIF's reportingDescriptors."""
    return [(code, r.name, r.metric, r.rationale) for code, r in registry.catalogue().items()]


def check_sections(details: dict[str, Any], metrics: dict[str, Any], inputs: Iterable[Any] = ()) -> list[Section]:
    """Each check's report section, in check order, from the details it wrote; record locations are
    written knowing each of ``inputs``' format (``result.locations``)."""
    out = []
    with using_inputs(inputs):
        for cls in registry.registered():
            d = details.get(cls.name)
            s = cls.section(d, metrics) if d is not None else None
            if s is not None:
                out.append(s)
    return out


def check_of_metric(metric: str) -> str | None:
    """The check (details key) that produces ``metric``, for locating a rule's flagged records."""
    cls = registry.check_for_metric(metric)
    return cls.name if cls is not None else None
