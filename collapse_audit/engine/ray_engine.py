"""The Ray engine: the distributed plan (``engine.distributed``) run as Ray tasks.

``scan --engine ray`` connects to the cluster named by ``--ray-address`` or ``RAY_ADDRESS``, or
starts a local one. Every shard is a Ray task that reads its files (each worker reads its own
inputs: they must be reachable from every node - shared storage or object store URLs), prepares
and observes them, and returns its compact state plus its duplicate keys cut into partitions; the
exact-key, signature, band-key and pair reducers are Ray tasks over one partition each, so no
process holds a whole index. Only the per-record outputs (cluster roots, group ids, scores: a few
bytes per record) meet in the driver, which finishes and reports exactly as the local engine.

Ray is optional (``pip install 'collapse-audit[ray]'``); without it ``--engine ray`` is a clear
error (exit 2), and nothing else imports it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from ..config import ScanConfig
from ..errors import AuditError
from ..readers import InputFile
from .distributed import run_distributed
from .excerpts import fill_excerpts
from .shards import ShardState, read_options

SHARDS_PER_CPU = 2


def import_ray() -> Any:
    """The ray module, or an AuditError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise AuditError("--engine ray needs Ray, which is not installed: pip install 'collapse-audit[ray]' "
                         "(or pip install ray).") from None
    return ray


class RayExecutor:
    """Runs the distributed plan's tasks as Ray tasks."""
    def __init__(self, ray: Any):
        self.ray = ray
        self._remote: dict[Callable[..., Any], Any] = {}

    def submit(self, fn: Callable[..., Any], *args: Any, num_returns: int = 1) -> Any:
        """Start ``fn(*args)`` as a Ray task."""
        remote = self._remote.get(fn)
        if remote is None:
            remote = self._remote[fn] = self.ray.remote(fn)
        return remote.options(num_returns=num_returns).remote(*args)

    def get(self, refs: Any) -> Any:
        """The values behind Ray object references."""
        return self.ray.get(refs)

    def put(self, value: Any) -> Any:
        """Put ``value`` in Ray's object store."""
        return self.ray.put(value)

    def wait(self, refs: Sequence[Any], advance: Callable[[int], None]) -> None:
        """Wait for the map tasks, counting their records as each one finishes."""
        pending = list(refs)
        while pending:
            done, pending = self.ray.wait(pending, num_returns=1)
            for meta in self.ray.get(done):
                advance(int(meta["records"]))


def connect(address: str | None) -> Any:
    """Ray, initialised: the given cluster, ``RAY_ADDRESS``, an already initialised one, or a new
    local cluster."""
    ray = import_ray()
    if ray.is_initialized():
        return ray
    address = address or os.environ.get("RAY_ADDRESS") or None
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 runtime_env=None if address else {"env_vars": {"PYTHONPATH": os.environ.get("PYTHONPATH", "")}})
    except ConnectionError as exc:
        raise AuditError(f"Could not connect to the Ray cluster at {address} ({exc}).") from None
    return ray


def scan_ray(files: list[InputFile], config: ScanConfig, resources: dict[str, Any], address: str | None,
             max_bad: int, annotations: bool, shards: int | None = None,
             advance: Callable[[int], None] = lambda n: None, fields: list[str] | None = None,
             transform: Any = None, checks: Any = None) -> ShardState:
    """The whole scan's merged state, computed by Ray tasks (``checks``: the classes to run)."""
    ray = connect(address)
    ex = RayExecutor(ray)
    cpus = int(ray.cluster_resources().get("CPU", 1))
    n = shards or max(1, cpus * SHARDS_PER_CPU)
    # progress counts records as the shards finish; the in-order merge then adds nothing more
    state = run_distributed(ex, files, config, resources, shards=n, max_bad=max_bad, annotations=annotations,
                            reducers=max(2, cpus), wait=lambda refs: ex.wait(refs, advance), fields=fields,
                            transform=transform, checks=checks)
    # the few texts no shard kept, read back by Ray tasks (one per input that holds some)
    fill_excerpts(state.checks, files, read_options(config),
                  lambda fn, args: ex.get([ex.submit(fn, *a) for a in args]))
    return state
