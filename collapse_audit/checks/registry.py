"""The registered checks, in order, and everything derived from their declarations.

``register_check`` is the one hook: ``checks/__init__.py`` imports each built-in check module (one
line each, in the order the engine runs them), and each module registers its class. The rule
catalogue, metric kinds, the annotations schema and the policy's option sections are all derived
from the registered classes here, so nothing about a check lives in a parallel table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..config import ScanConfig
from .base import Check
from .spec import Column, Metric, Rule

_CHECKS: list[type[Check]] = []
_WHEN_SELECTED: set[str] = set()   # checks that run only when one of their rules is applied (plugins')

#: engine-level metrics, not produced by any check
ALWAYS_METRICS: tuple[Metric, ...] = (
    Metric("records.total", "count", "Records read (after skipping unreadable ones).", unit="records"),
    Metric("records.skipped", "count", "Unreadable records skipped (see --max-bad-records).", unit="records",
           per_source=False),
)


def register_check(cls: type[Check]) -> type[Check]:
    """Register a check class (usable as a decorator). Names, metrics, rule codes, option sections
    and column names must not clash with an already registered check."""
    if cls in _CHECKS:
        return cls
    for other in _CHECKS:
        clash = (
            ("name", {cls.name} & {other.name}),
            ("metric", {m.name for m in cls.metrics} & {m.name for m in other.metrics}),
            ("rule code", {r.code for r in cls.rules} & {r.code for r in other.rules}),
            ("options section", {k for k in (cls.options_key,) if k} & {k for k in (other.options_key,) if k}),
            ("annotation column", {c.name for c in cls.columns} & {c.name for c in other.columns}),
        )
        for what, same in clash:
            if same:
                raise TypeError(f"check {cls.__name__} redeclares {what} {sorted(same)} of {other.__name__}")
    if {m.name for m in cls.metrics} & {m.name for m in ALWAYS_METRICS}:
        raise TypeError(f"check {cls.__name__} redeclares an engine-level metric")
    _CHECKS.append(cls)
    return cls


def run_only_when_selected(cls: type[Check]) -> None:
    """Run the registered check ``cls`` only in scans that apply one of its rules (``checks.plugins``)."""
    _WHEN_SELECTED.add(cls.name)


def _selected(cls: type[Check], config: ScanConfig) -> bool:
    return cls.name not in _WHEN_SELECTED or any(r.code in config.rules for r in cls.rules)


def registered() -> tuple[type[Check], ...]:
    """All registered check classes, in run order."""
    return tuple(_CHECKS)


def check_named(name: str) -> type[Check] | None:
    """The registered check class called ``name``, or None when there is none."""
    return next((c for c in _CHECKS if c.name == name), None)


def runnable(config: ScanConfig, available: Any) -> list[type[Check]]:
    """The check classes a scan runs: those whose needed resources are ``available`` (names) and
    whose options switch them on (a plugin's: and one of whose rules is applied), in run order."""
    return [cls for cls in _CHECKS if all(r in available for r in cls.needs)
            and cls.active(cls.options_from(config)) and _selected(cls, config)]


def build_checks(config: ScanConfig, resources: Mapping[str, Any],
                 classes: Sequence[type[Check]] | None = None) -> list[Check]:
    """The checks this scan runs, built with the loaded ``resources``: ``classes`` as the engine chose
    them (passed to worker processes, so a plugin's check is imported there too), else ``runnable``."""
    chosen = runnable(config, resources) if classes is None else classes
    return [cls.from_config(config, resources) for cls in chosen]


def catalogue() -> dict[str, Rule]:
    """Every catalogued rule by code, in code order."""
    rules = [r for c in _CHECKS for r in c.rules]
    return {r.code: r for r in sorted(rules, key=lambda r: r.code)}


def all_metrics() -> dict[str, Metric]:
    """Every declared metric by name (engine-level ones first, then each check's in order)."""
    out = {m.name: m for m in ALWAYS_METRICS}
    for c in _CHECKS:
        out.update({m.name: m for m in c.metrics})
    return out


def metric_spec(name: str) -> Metric | None:
    """The declaration of metric ``name`` (exact names; an interval's ``_ci_low``/``_ci_high``
    bounds are fractions described by their interval), or None when nothing produces it."""
    metrics = all_metrics()
    if name in metrics:
        return metrics[name]
    for m in metrics.values():
        # a metric that is not an interval has no companions: nothing to pair with the words
        for bound, word in zip(m.companions(), ("lower", "upper"), strict=False):
            if bound == name:
                return Metric(name, "fraction", f"{word} bound of the 95% interval of {m.name}",
                              unit=m.unit, per_source=m.per_source)
    return None


def check_for_metric(name: str) -> type[Check] | None:
    """The check that produces metric ``name`` (None for engine-level or unknown metrics)."""
    for c in _CHECKS:
        if any(m.name == name or name in m.companions() for m in c.metrics):
            return c
    return None


def annotation_columns() -> tuple[Column, ...]:
    """Every check's per-record annotation columns: the contract's first, then the rest, each in check order."""
    cols = [col for c in _CHECKS for col in c.columns]
    return tuple([c for c in cols if c.contract] + [c for c in cols if not c.contract])


def options_sections() -> dict[str, type]:
    """Policy section -> the ``Options`` dataclass validated for it."""
    return {c.options_key: c.Options for c in _CHECKS if c.options_key and c.Options}


def metrics_from_flags(flags: Mapping[str, Any], mask: Any) -> dict[str, float]:
    """Default per-subset values of flagged metrics, by their declared kind: a ``count`` counts the
    flagged records in ``mask``, a ``fraction`` is their share of it (what the engine falls back to
    where a check's ``metrics_for`` gives no value). Other kinds have no default."""
    out: dict[str, float] = {}
    n = int(mask.sum())
    for name, flag in flags.items():
        spec = metric_spec(name)
        if spec is None or spec.kind not in ("count", "fraction"):
            continue
        # boolean flags (every built-in check's) are counted without copying the subset out
        hits = int((flag & mask).sum()) if flag.dtype == bool else None
        if spec.kind == "count":
            out[name] = hits if hits is not None else int(flag[mask].sum())
        elif n:
            out[name] = hits / n if hits is not None else float(flag[mask].mean())
    return out
