"""What a check declares about itself, so nothing about it is kept in a parallel table.

A check class carries (as a sqlfluff rule class does):

* ``metrics``  - every metric it produces, each with a kind, unit, description and whether it has
  per-source values (``Metric``). Reports format a value by its kind (``result.formatting``).
* ``rules``    - the catalogued rules on those metrics (``Rule``: code, name, default limit,
  severity, rationale, example, enabled by default). ``rules list/explain``, policy validation and
  the default policy are derived from these.
* ``Options``  - a dataclass of its typed policy options (section ``options_key`` of the policy),
  validated at policy load with file and line; unknown keys rejected.
* ``needs``    - the resources it needs loaded before the scan (``"detector"``, ``"baseline"``,
  ``"eval_index"``); a check whose resource was not asked for does not run.
* ``columns``  - its per-record annotation columns (``Column``).
* ``Metric.record_level`` - what ``filter`` can do about a rule on the metric (``RecordLevel``), and
  ``Metric.field`` - the record field the metric rests on.
* ``section(details, metrics)`` - the renderer-neutral report section (``result.sections``).

The catalogue, policy validation, the annotations schema and every report are derived from the
registered checks (``checks.registry``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

MetricKind = Literal["count", "fraction", "value", "interval"]
#: what ``filter`` can do about a rule on a metric: remove the records the scan flagged for it, keep one
#: representative per duplicate group (the check's ``copies``), cap a share (the synthetic cap), or nothing
RecordLevel = Literal["flagged", "representative", "cap", "none"]
RECORD_LEVELS = ("flagged", "representative", "cap", "none")


@dataclass(frozen=True)
class Metric:
    """One metric a check produces.

    ``interval`` metrics are point estimates in [0, 1] with ``<name>_ci_low`` / ``<name>_ci_high``
    companions (declared implicitly); rules on them decide from the interval, not the point.
    """

    name: str
    kind: MetricKind
    description: str
    unit: str = ""
    per_source: bool = True
    #: what ``filter`` can do about a ``max`` rule on this metric. Declared on the metric, not on a
    #: catalogued rule: a policy may put a rule of its own id on any metric, and it gets the same fix.
    record_level: RecordLevel = "none"
    #: the ``FieldMap`` attribute (record field) the metric rests on, if any: a failing rule says so
    #: when that field exists in none of the inputs (the policy names the wrong column)
    field: str | None = None

    def companions(self) -> tuple[str, ...]:
        """The names of the interval bounds published next to an interval metric (none otherwise)."""
        return (f"{self.name}_ci_low", f"{self.name}_ci_high") if self.kind == "interval" else ()


@dataclass(frozen=True)
class Rule:
    """A catalogued rule: a stable code on one metric with a default limit and a rationale."""

    code: str                     # "CA101"
    name: str                     # "synthetic-share-cap"
    metric: str
    op: Literal["max", "min"]
    limit: float
    severity: Literal["error", "warning"]
    rationale: str
    example: str
    enabled_by_default: bool = False
    applies_when: str = ""        # e.g. "needs --baseline"; shown by `rules explain`


@dataclass(frozen=True)
class Column:
    """A per-record column of the annotations file."""

    name: str
    type: str                     # Arrow type name: "int64", "float64", "string", "bool"
    description: str
    #: one of the documented contract's columns (file, row, id, then these, then issues): they come first,
    #: in check order, so a column a check adds later never shifts the contract's positions
    contract: bool = False


def option(default: Any, doc: str, *, min: float | None = None, max: float | None = None,
           min_exclusive: bool = False, choices: tuple[str, ...] | None = None) -> Any:
    """A field of a check's ``Options`` dataclass with what the policy loader validates: its range
    (``min``/``max``; ``min_exclusive`` for an open lower bound), allowed ``choices`` and a ``doc``."""
    meta = {"doc": doc, "min": min, "max": max, "min_exclusive": min_exclusive, "choices": choices}
    return field(default=default, metadata=meta)
