"""The one small interface every check implements, and the declarations it carries about itself.

A check class declares (see ``checks.spec`` for the types):

* ``name``, ``title``  - its key in the result's ``details`` and its heading in reports;
* ``metrics``          - every metric it produces (``Metric``: kind, unit, description, per source);
* ``rules``            - the catalogued rules on those metrics (``Rule``);
* ``Options``, ``options_key`` - a dataclass of its typed policy options and the policy section
  that holds them (``None`` when it has none); validated at policy load (``policy.options``);
* ``needs``            - the resources it needs: ``"detector"``, ``"sample_rows"``, ``"baseline"``,
  ``"eval_index"``; a check whose resources were not loaded does not run;
* ``columns``          - its per-record annotation columns (``Column``);
* ``section(details, metrics)`` - its renderer-neutral report section, drawn from the JSON-able
  details its ``finish`` returned (so a saved ``result.json`` re-renders the same).

The declarations are validated when the class is created (``__init_subclass__``): a rule on an
undeclared metric, a duplicate code or an unknown column type fails at import, i.e. in every test.

The work is split in two so a scan can use every core and still give byte-identical results:

* ``prepare(batch)`` is pure per-batch work (normalising, hashing, MinHash signatures, detector
  scores). It may run in a worker process, on any batch, in any order.
* ``observe(batch, prepared)`` folds that work into the check's compact state. It runs in the main
  process, strictly in input order.

A scan can also be split into shards (contiguous runs of records), each observed by its own check
instance: ``merge(other)`` folds the state of the shard that immediately follows this one into
this one, so ``observe(A); merge(observe(B))`` finishes exactly as observing A then B would (the
few bounded exceptions are documented on each check and in ``docs/distributed.md``). Indices in
a shard's state start at 0; ``merge`` rebases them. ``to_state``/``from_state`` save and load a
shard's state (numpy arrays plus JSON, ``checks.state``) so another process can merge it.

``finish()`` turns the state into metrics, JSON-able details for reports, per-record annotation
columns, and per-record *flags*: for each metric, which records make it worse. Flags are how a
rule's failure is traced back to the records behind it, and how metrics are broken down per source.

A check is built from a small ``CheckContext`` (the field map, its options, the seed and the loaded
resources): it never reads files and never prints; it keeps hashes, signatures and counters, never
texts (beyond a few short excerpts kept as examples for reports).
"""

from __future__ import annotations

import abc
import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from ..config import FieldMap, ScanConfig
from ..lazy import np
from ..result.sections import Section
from ..text.excerpt import EXCERPT_CHARS, excerpt
from .spec import RECORD_LEVELS, Column, Metric, Rule

if TYPE_CHECKING:  # annotations only: reading the declarations does not load the readers
    from ..readers.base import RecordBatch

COLUMN_TYPES = ("int64", "float64", "string", "bool")
_CODE = re.compile(r"^CA\d{3}$")
_METRIC = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


@dataclass
class CheckResult:
    """What one check found: metrics for the rules, JSON-able details, per-record columns and flags."""
    metrics: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)          # JSON-able, for reports
    columns: dict[str, Any] = field(default_factory=dict)          # annotation column -> array/list, len = records
    flags: dict[str, np.ndarray] = field(default_factory=dict)     # metric -> bool array, len = records


@dataclass(frozen=True)
class CheckContext:
    """Everything a check is built from: nothing here reads a file or the command line."""

    fields: FieldMap = FieldMap()
    options: Any = None                  # the check's ``Options`` instance (None: the defaults)
    seed: int = 0
    resources: Mapping[str, Any] = field(default_factory=dict)


class DeclarationError(TypeError):
    """A check class declares something inconsistent (a programming error, raised at import)."""


class Check(abc.ABC):
    """One audit of the corpus: observes batches into compact state, then turns it into a result."""
    #: short name, also the key of this check's ``details`` in the JSON result
    name: ClassVar[str]
    #: heading of its report section
    title: ClassVar[str]
    metrics: ClassVar[tuple[Metric, ...]] = ()
    rules: ClassVar[tuple[Rule, ...]] = ()
    #: dataclass of typed policy options; ``options_key`` is its policy section
    Options: ClassVar[type | None] = None
    options_key: ClassVar[str | None] = None
    needs: ClassVar[tuple[str, ...]] = ()
    columns: ClassVar[tuple[Column, ...]] = ()
    #: its bars in the HTML report's per-source figure (``result.sections.SourceSeries``)
    source_series: ClassVar[tuple[Any, ...]] = ()
    #: how many key tables the check cuts into partitions when a scan is distributed (0: it is not
    #: partitioned, its states merge whole); a check with tables implements ``Partitioned``
    key_tables: ClassVar[int] = 0
    #: why ``filter`` removed a record of ``copies`` (the manifest's basis), for representative metrics
    copy_basis: ClassVar[str] = "flagged by the scan"
    #: the attributes that make up the observed state (what ``to_state`` saves)
    state_attrs: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            validate_declarations(cls)

    def __init__(self, ctx: CheckContext | None = None):
        ctx = ctx or CheckContext()
        missing = [r for r in self.needs if r not in ctx.resources]
        if missing:
            raise RuntimeError(f"the {self.name} check needs resources {missing} (loaded by the engine)")
        self.ctx = ctx
        self.fields = ctx.fields
        self.seed = ctx.seed
        self.resources = ctx.resources
        self.options: Any = ctx.options if ctx.options is not None else (self.Options() if self.Options else None)

    # ---- construction ----------------------------------------------------------------------------

    @classmethod
    def options_from(cls, config: ScanConfig) -> Any:
        """This check's options in ``config`` (the defaults when the policy did not set them)."""
        if cls.Options is None:
            return None
        found = config.options.get(cls.options_key) if cls.options_key else None
        return found if found is not None else cls.Options()

    @classmethod
    def from_config(cls, config: ScanConfig, resources: Mapping[str, Any] | None = None) -> Check:
        """Build this check for a scan, its options read from the scan's policy."""
        return cls(CheckContext(fields=config.fields, options=cls.options_from(config), seed=config.seed,
                                resources=dict(resources or {})))

    @classmethod
    def active(cls, options: Any) -> bool:
        """Whether the options switch this check on (its resources permitting). Default: yes."""
        return True

    # ---- the work ----------------------------------------------------------------------------------

    def prepare(self, batch: RecordBatch) -> Any:
        """Pure per-batch work; may run in a worker process. Default: nothing."""
        return None

    @abc.abstractmethod
    def observe(self, batch: RecordBatch, prepared: Any) -> None:
        """Fold one batch into the state; called in input order in the main process."""

    @abc.abstractmethod
    def finish(self) -> CheckResult:
        """Metrics, details, annotation columns and flags for all observed records."""

    def merge(self, other: Check) -> None:
        """Fold ``other`` (same class and options, observed on the records that immediately follow
        this check's records, its indices starting at 0) into this check's state."""
        raise NotImplementedError(f"the {self.name} check cannot merge shard states")

    def _merge_guard(self, other: Check) -> None:
        if type(other) is not type(self):
            raise TypeError(f"cannot merge a {type(other).__name__} state into a {type(self).__name__} state")
        if other.options != self.options or other.seed != self.seed:
            raise ValueError(f"cannot merge {self.name} states built with different options or seeds")

    def to_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """The observed state as (numpy arrays, JSON-able meta), for ``from_state`` elsewhere."""
        from .state import pack_attrs

        return pack_attrs(self, self.state_attrs)

    @classmethod
    def from_state(cls, ctx: CheckContext, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> Check:
        """A check built from ``ctx`` holding the state saved by ``to_state``."""
        from .state import unpack_attrs

        check = cls(ctx)
        unpack_attrs(check, arrays, dict(meta))
        return check

    def combine(self, results: Mapping[str, CheckResult]) -> dict[str, float]:
        """Figures of this check that rest on other checks' results (by check name, all finished),
        e.g. drift's PSI of the detector's scores. Called after every ``finish``; checks stay
        independent while reading and join here. Default: none."""
        return {}

    def metrics_for(self, mask: np.ndarray) -> dict[str, float]:
        """The same metrics restricted to the records where ``mask`` is true (per-source breakdown).

        Called after ``finish``. Checks whose metrics are simple per-record shares may rely on the
        engine's default (flag counts over the subset) and leave this empty.
        """
        return {}

    @classmethod
    def copies(cls, records: Any) -> np.ndarray:
        """For a check with ``representative`` metrics: per record of the filter's record table (the
        scan's annotations), whether it is a copy that ``filter`` removes, keeping one representative
        per group."""
        raise NotImplementedError(f"the {cls.name} check declares no duplicate groups")

    # ---- reporting -----------------------------------------------------------------------------------

    @classmethod
    def figures(cls, details: Mapping[str, Any], metrics: Mapping[str, Any],
                detector: Mapping[str, Any]) -> list[Any]:
        """The pictures this check's details make (``result.sections.Histogram``/``SizeCounts``), drawn by
        the HTML report; ``detector`` is the result's detector block. Default: none."""
        return []

    @classmethod
    def summary(cls, details: Mapping[str, Any], metrics: Mapping[str, Any]) -> dict[str, Any]:
        """What this check's details say in the compliance summary (``reports.summary``): dotted paths
        of the summary template -> values, filling the slots the metrics leave empty. Default: nothing."""
        return {}

    @classmethod
    def section(cls, details: Mapping[str, Any], metrics: Mapping[str, Any]) -> Section | None:
        """The report section for these details (from ``finish`` or a saved result); None: nothing to show."""
        return None


@runtime_checkable
class Partitioned(Protocol):
    """A check whose index can be partitioned across machines (``engine.distributed``): instead of
    merging whole indexes shard after shard, each shard cuts its key tables into ``r`` partitions by
    key hash, reducers see one partition of every shard, and the driver joins what they found.

    The engine loops over whichever checks implement this; it never names one."""

    def partition(self, shard: int, r: int) -> list[list[Any]]:
        """Map side, on shard ``shard`` after observing it: each of its key tables cut into ``r``
        partitions (a list per table); the index is dropped, what remains merges by ``merge_partitioned``."""

    @classmethod
    def reduce(cls, ex: Any, tables: list[list[list[Any]]], r: int, options: Any) -> Any:
        """Reduce side: ``tables[t][i]`` holds partition ``i`` of key table ``t`` of every shard (in shard
        order); run the reducers as tasks through ``ex`` (``submit``/``get``/``put``) and return what the
        driver needs (a few numbers per record at most)."""

    def join(self, reduced: Any, bases: np.ndarray) -> Any:
        """Driver, before merging: what ``reduced`` means in merged record indices (``bases[k]``: the
        first record of shard ``k``)."""

    def merge_partitioned(self, other: Any, shard: int, joined: Any) -> None:
        """Fold shard ``shard``'s state (its index dropped) into this one, in shard order."""

    def apply_joined(self, joined: Any) -> None:
        """After every shard is merged: apply the links across shards that the reducers found."""


def _defined_by(cls: type[Check]) -> set[str]:
    """The attribute names ``cls`` or a base below ``Check`` defines itself."""
    return {name for klass in cls.__mro__ if klass not in (Check, abc.ABC, object) for name in vars(klass)}


def validate_declarations(cls: type[Check]) -> None:
    """Raise ``DeclarationError`` when a check's declarations do not fit together."""
    def fail(msg: str) -> DeclarationError:
        return DeclarationError(f"check {cls.__name__}: {msg}")

    if not isinstance(cls.__dict__.get("name"), str) or not cls.name:
        raise fail("'name' must be a non-empty string")
    if not isinstance(getattr(cls, "title", None), str) or not cls.title:
        raise fail("'title' must be a non-empty string")
    for problem in (*_metric_problems(cls), *_rule_problems(cls), *_other_problems(cls)):
        raise fail(problem)


def _metric_problems(cls: type[Check]) -> list[str]:
    names = [m.name for m in cls.metrics]
    if len(set(names)) != len(names):
        return [f"metric declared twice: {sorted({n for n in names if names.count(n) > 1})}"]
    for m in cls.metrics:
        if not isinstance(m, Metric) or not _METRIC.match(m.name) or not m.description:
            return [f"metric {m!r} needs a dotted lower-case name and a description"]
        if m.record_level not in RECORD_LEVELS:
            return [f"metric {m.name} has record_level {m.record_level!r} (one of {', '.join(RECORD_LEVELS)})"]
        if m.record_level == "representative" and "copies" not in _defined_by(cls):
            return [f"metric {m.name} is record_level 'representative' but the check has no 'copies'"]
    return []


def _rule_problems(cls: type[Check]) -> list[str]:
    known = {m.name for m in cls.metrics} | {c for m in cls.metrics for c in m.companions()}
    codes = [r.code for r in cls.rules]
    if len(set(codes)) != len(codes):
        return [f"rule code declared twice: {codes}"]
    for r in cls.rules:
        if not _CODE.match(r.code):
            return [f"rule code {r.code!r} is not of the form CA123"]
        if r.metric not in known:
            return [f"rule {r.code} is on metric {r.metric!r}, which the check does not declare"]
        if r.op not in ("max", "min") or r.severity not in ("error", "warning"):
            return [f"rule {r.code} needs op max|min and severity error|warning"]
        if len(r.rationale) < 40 or not r.example.startswith(f"{{id: {r.code}"):
            return [f"rule {r.code} needs a rationale and an example starting '{{id: {r.code}'"]
    return []


def _other_problems(cls: type[Check]) -> list[str]:
    for c in cls.columns:
        if c.type not in COLUMN_TYPES:
            return [f"column {c.name!r} has unknown type {c.type!r} (one of {', '.join(COLUMN_TYPES)})"]
    if not all(isinstance(need, str) and need for need in cls.needs):
        return ["'needs' lists resource names (loaded by the engine's resource registry)"]
    if cls.key_tables and not all(callable(getattr(cls, m, None)) for m in
                                  ("partition", "reduce", "join", "merge_partitioned", "apply_joined")):
        return ["'key_tables' needs the Partitioned methods (partition, reduce, join, merge_partitioned, "
                "apply_joined)"]
    if (cls.Options is None) != (cls.options_key is None):
        return ["'Options' and 'options_key' go together"]
    if cls.Options is not None and not dataclasses.is_dataclass(cls.Options):
        return ["'Options' must be a dataclass"]
    return []


__all__ = ["EXCERPT_CHARS", "Check", "CheckContext", "CheckResult", "DeclarationError", "excerpt"]
