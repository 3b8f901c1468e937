"""The one small interface every check implements.

A check is split in two so a scan can use every core and still give byte-identical results:

* ``prepare(batch)`` is pure per-batch work (normalising, hashing, MinHash signatures, detector
  scores). It may run in a worker process, on any batch, in any order.
* ``observe(batch, prepared)`` folds that work into the check's compact state. It runs in the main
  process, strictly in input order.

``finish()`` turns the state into metrics, JSON-able details for reports, per-record annotation
columns, and per-record *flags*: for each metric, which records make it worse. Flags are how a
rule's failure is traced back to the records behind it, and how metrics are broken down per source.

A check never reads files and never prints; it keeps hashes, signatures and counters, never texts
(beyond a few short excerpts kept as examples for reports).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..config import ScanConfig
from ..readers.base import RecordBatch

EXCERPT_CHARS = 200


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """A short, single-line excerpt of a record for report examples (renderers escape it)."""
    t = " ".join(text.split())
    return t if len(t) <= limit else t[: limit - 1] + "…"


@dataclass
class CheckResult:
    metrics: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)          # JSON-able, for reports
    columns: dict[str, Any] = field(default_factory=dict)          # annotation column -> array/list, len = records
    flags: dict[str, np.ndarray] = field(default_factory=dict)     # metric -> bool array, len = records


class Check(abc.ABC):
    #: short name, also the key of this check's ``details`` in the JSON report
    name: ClassVar[str]
    #: metric names this check can produce; an entry ending in ".*" covers a family (``diversity.*``)
    produces: ClassVar[tuple[str, ...]]

    def __init__(self, config: ScanConfig, resources: dict[str, Any] | None = None):
        # ``resources`` holds things the engine loaded for the checks (a baseline profile, an
        # eval-set index), so that checks themselves never touch the filesystem.
        self.config = config
        self.resources = resources or {}

    @classmethod
    def enabled(cls, config: ScanConfig) -> bool:
        """Whether this check runs for this configuration (e.g. drift needs a baseline)."""
        return True

    def prepare(self, batch: RecordBatch) -> Any:
        """Pure per-batch work; may run in a worker process. Default: nothing."""
        return None

    @abc.abstractmethod
    def observe(self, batch: RecordBatch, prepared: Any) -> None:
        """Fold one batch into the state; called in input order in the main process."""

    @abc.abstractmethod
    def finish(self) -> CheckResult:
        """Metrics, details, annotation columns and flags for all observed records."""

    def metrics_for(self, mask: np.ndarray) -> dict[str, float]:
        """The same metrics restricted to the records where ``mask`` is true (per-source breakdown).

        Called after ``finish``. Checks whose metrics are simple per-record shares may rely on the
        engine's default (flag counts over the subset) and leave this empty.
        """
        return {}
