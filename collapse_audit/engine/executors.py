"""Engines as executors: each turns a planned read into the checks' merged state, nothing more.

A scan is planned once (``engine.scan``: policy, inputs, loaded resources, the checks to run) and
then handed to one executor; what it returns (``ShardState``) is finished and reported the same way
whichever ran it. Three executors, one interface (datatrove's pipeline executors are the model):

* ``LocalExecutor``   - one process, the records streamed through every check in input order;
* ``ShardedExecutor`` - worker processes on this machine, each observing its own shards
  (``engine.local``), or one shard ``I/N`` of a ``--shard`` scan;
* ``RayExecutor``     - the distributed plan as Ray tasks (``engine.ray_engine``).

``EXECUTORS`` maps the engine names a user may give (``--engine``, ``scan(engine=...)``) to the
executors; the local engine shards itself when it has more than one worker.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from ..checks.base import Check
from ..checks.registry import build_checks
from ..config import ScanConfig
from ..readers import BadRecordSink, InputFile, InputStats, RecordBatch
from .annotations import AnnotationCollector
from .parallel import prepared_batches
from .progress import progress_bar
from .shards import ShardState
from .sources import SourceIndex


@dataclass
class ReadPlan:
    """Everything an executor needs to read a scan's inputs into the checks' state."""

    files: list[InputFile]
    config: ScanConfig
    resources: dict[str, Any]
    fields: list[str]                  # the record fields the readers read besides the text
    transform: Any                     # the per-batch rewrite (a derived provenance tag), or None
    max_bad: int
    keep_keys: bool                    # collect record keys (annotations, accepted findings)
    progress: bool
    total: int | None                  # records expected (for the progress bar), if known
    read: Callable[..., Any]           # engine.scan.read_batches with the policy's derivation bound
    checks: list[type[Check]]          # the check classes to run (workers import their modules)
    shard: tuple[int, int] | None = None
    ray_address: str | None = None


class Step(Protocol):
    """One unit of work over the record stream (a check, or the profile builder)."""

    def prepare(self, batch: RecordBatch) -> Any:
        """Pure per-batch work; may run in a worker process."""

    def observe(self, batch: RecordBatch, prepared: Any) -> None:
        """Fold one batch into the state, in input order, in this process."""


def stream(steps: Sequence[Step], batches: Iterator[RecordBatch], n_files: int, workers: int, *,
           progress: bool, label: str,
           observers: Sequence[Callable[[RecordBatch], None]] = (), total: int | None = None) -> list[int]:
    """The one reading loop: every step's ``prepare`` on the worker pool, ``observe`` in input order.

    Returns the number of records read per file index.
    """
    per_file = [0] * n_files
    with progress_bar(progress, label, total) as advance:
        for batch, prepared in prepared_batches(list(steps), batches, workers):  # type: ignore[arg-type]
            for step, prep in zip(steps, prepared, strict=True):
                step.observe(batch, prep)
            for observe in observers:
                observe(batch)
            per_file[batch.file_index] += len(batch)
            advance(len(batch))
    return per_file


class Executor(abc.ABC):
    """Reads a planned scan into the checks' merged state (in input order, as one scan would)."""

    #: the ``--engine`` name that selects it
    engine: ClassVar[str]

    @abc.abstractmethod
    def run(self, plan: ReadPlan) -> ShardState:
        """The checks' state after observing every record of the plan (or of its shard)."""


class LocalExecutor(Executor):
    """One process: every batch through every check, in input order."""

    engine = "local"

    def run(self, plan: ReadPlan) -> ShardState:
        """Stream the inputs through the checks in this process."""
        config = plan.config
        sink = BadRecordSink(max_bad=plan.max_bad)
        stats = InputStats(tuple(plan.fields))
        state = ShardState(checks=build_checks(config, plan.resources, plan.checks),
                           sources=SourceIndex(config.fields.source), stats=stats,
                           collector=AnnotationCollector(config.fields.id) if plan.keep_keys else None)
        observers = [state.sources.observe] + ([state.collector.observe] if state.collector is not None else [])
        per_file = stream(state.checks, plan.read(plan.files, config, sink, stats=stats), len(plan.files), 1,
                          progress=plan.progress, label="scanning", observers=observers, total=plan.total)
        state.per_file = {i: n for i, n in enumerate(per_file) if n}
        state.total = sum(per_file)
        state.skipped, state.skipped_per_file = sink.count, dict(sink.per_file)
        state.skipped_examples = list(sink.examples)
        return state


class ShardedExecutor(Executor):
    """Worker processes on this machine, each observing its own shards; or one shard of N."""

    engine = "local"

    def run(self, plan: ReadPlan) -> ShardState:
        """Scan shard ``I/N`` alone, or all shards with the configured number of workers."""
        if plan.shard is not None and plan.shard[1] > 1:
            from .shards import plan_shards, scan_shard

            i, n = plan.shard
            pieces = plan_shards(plan.files, n)[i]
            with progress_bar(plan.progress, f"scanning shard {i}/{n}") as advance:
                return scan_shard(plan.files, pieces, plan.config,
                                  build_checks(plan.config, plan.resources, plan.checks),
                                  plan.max_bad, plan.keep_keys, advance, fields=plan.fields,
                                  transform=plan.transform)
        from .local import scan_sharded

        with progress_bar(plan.progress, "scanning", plan.total) as advance:
            return scan_sharded(plan.files, plan.config, plan.resources, plan.config.workers, plan.max_bad,
                                plan.keep_keys, advance, fields=plan.fields, transform=plan.transform,
                                checks=plan.checks)


class RayExecutor(Executor):
    """The distributed plan as Ray tasks, as many shards as the local engine makes with the same -w."""

    engine = "ray"

    def run(self, plan: ReadPlan) -> ShardState:
        """Map the shards and reduce the partitioned checks' key tables on Ray."""
        from .local import SHARDS_PER_WORKER
        from .ray_engine import scan_ray

        with progress_bar(plan.progress, "scanning", plan.total) as advance:
            return scan_ray(plan.files, plan.config, plan.resources, plan.ray_address, plan.max_bad, plan.keep_keys,
                            shards=plan.config.workers * SHARDS_PER_WORKER, fields=plan.fields,
                            transform=plan.transform, advance=advance, checks=plan.checks)


#: the engine names a user may give, in the order the documentation lists them
EXECUTORS: dict[str, type[Executor]] = {"local": LocalExecutor, "ray": RayExecutor}


def executor_for(engine: str, workers: int, shard: tuple[int, int] | None) -> Executor:
    """The executor for ``--engine`` (validated with the scan's options): the local engine shards
    itself across worker processes when it has more than one, or reads one shard of a ``--shard`` scan."""
    cls = EXECUTORS[engine]
    if cls is LocalExecutor and (workers > 1 or (shard is not None and shard[1] > 1)):
        return ShardedExecutor()
    return cls()
