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

Failures end like the local engine's: a task's error (a bad record, a missing file) is re-raised
here as the very error the task raised, so the user sees one sentence naming the file and line, not
Ray's wrapped traceback; Ray's own log lines are kept off the terminal; a cluster address is probed
with a bounded TCP connect (``COLLAPSE_AUDIT_REMOTE_TIMEOUT``) before Ray is asked to join it, since
Ray retries an unreachable address for minutes; and this process's SIGINT/SIGTERM handlers survive
``ray.init`` (which installs its own), so an interrupted Ray scan exits 130/143 like any other.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..config import ScanConfig
from ..errors import AuditError
from ..readers import InputFile
from ..readers.storage import TIMEOUT_ENV, hide_url_secrets, remote_timeout
from .distributed import run_distributed
from .excerpts import fill_excerpts
from .shards import ShardState, read_options

SHARDS_PER_CPU = 2


def import_ray() -> Any:
    """The ray module, or an AuditError saying how to install it."""
    # Ray's C++ failure-signal handler would catch SIGTERM in the driver and abort after ours ran
    os.environ.setdefault("RAY_DISABLE_FAILURE_SIGNAL_HANDLER", "1")
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
        """The values behind Ray object references (a task's error re-raised as itself)."""
        with task_errors(self.ray):
            return self.ray.get(refs)

    def put(self, value: Any) -> Any:
        """Put ``value`` in Ray's object store."""
        return self.ray.put(value)

    def wait(self, refs: Sequence[Any], advance: Callable[[int], None]) -> None:
        """Wait for the map tasks, counting their records as each one finishes."""
        pending = list(refs)
        while pending:
            with task_errors(self.ray):
                done, pending = self.ray.wait(pending, num_returns=1)
                metas = self.ray.get(done)
            for meta in metas:
                advance(int(meta["records"]))


@contextlib.contextmanager
def task_errors(ray: Any) -> Iterator[None]:
    """A failed Ray task's error as the error the task raised: an AuditError stays one sentence
    (the file and line of a bad record); anything else is one line naming its type, never Ray's
    ANSI-coloured remote traceback."""
    try:
        yield
    except SystemError as exc:
        # a signal handled while Ray's compiled code waited: Cython reports the handler's exception
        # (KeyboardInterrupt, or the CLI's SIGTERM exception) as a SystemError around it
        inner = exc.__cause__ or exc.__context__
        if isinstance(inner, BaseException) and not isinstance(inner, Exception):
            raise inner from None
        raise
    except ray.exceptions.RayTaskError as exc:
        cause = getattr(exc, "cause", None)
        if isinstance(cause, AuditError):
            raise AuditError(str(cause)) from None
        if isinstance(cause, BaseException):
            raise RuntimeError(f"a Ray task failed: {type(cause).__name__}: {_first_line(cause)}") from None
        raise RuntimeError(f"a Ray task failed: {_first_line(exc)}") from None
    except ray.exceptions.RayError as exc:
        raise AuditError(f"The Ray cluster could not finish the scan ({type(exc).__name__}: "
                         f"{_first_line(exc)}).") from None


def _first_line(exc: BaseException) -> str:
    import re

    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()
    return (text.splitlines() or [type(exc).__name__])[0][:200]


def connect(address: str | None) -> Any:
    """Ray, initialised: the given cluster, ``RAY_ADDRESS``, an already initialised one, or a new
    local cluster."""
    ray = import_ray()
    if ray.is_initialized():
        return ray
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address:
        probe(address)
    os.environ.setdefault("RAY_IGNORE_UNHANDLED_ERRORS", "1")   # the first error is reported, once
    terminated = False
    with _own_signal_handlers():
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
                     runtime_env=None if address else {"env_vars": {"PYTHONPATH": os.environ.get("PYTHONPATH", "")}})
        except (ConnectionError, TimeoutError) as exc:
            raise AuditError(f"Could not connect to the Ray cluster at {hide_url_secrets(address or '')} "
                             f"({_first_line(exc)}).") from None
        except BaseException as exc:      # interrupted while starting: stop what was started
            _abandon_cluster(ray)
            # SIGTERM while starting is Ray's own handler exiting with 15: signal it again, to this
            # process's own handler (exit 143 from the command line)
            if not (isinstance(exc, SystemExit) and exc.code == signal.SIGTERM):
                raise
            terminated = True
    if terminated:
        signal.raise_signal(signal.SIGTERM)
    return ray


def _abandon_cluster(ray: Any) -> None:
    """Shut down a local cluster whose start was interrupted, and kill what it left: Ray's
    shutdown stops its servers, but agents they had started can outlive them."""
    family = _descendants(os.getpid())
    with contextlib.suppress(Exception):
        ray.shutdown()
    for pid in family:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc; none where there is no /proc)."""
    children: dict[int, list[int]] = {}
    with contextlib.suppress(OSError):
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                with contextlib.suppress(OSError, ValueError, IndexError), open(f"/proc/{entry}/stat") as fh:
                    children.setdefault(int(fh.read().rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    out, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            out.append(child)
            stack.append(child)
    return out


def probe(address: str) -> None:
    """A bounded handshake with ``host:port`` (``ray://`` too): an unreachable or silent address is
    one sentence after at most ``COLLAPSE_AUDIT_REMOTE_TIMEOUT`` seconds, not minutes (or, for a
    port that accepts and never speaks, for ever) of Ray retrying."""
    target = address.split("://", 1)[-1].rsplit("@", 1)[-1].split("/", 1)[0]
    if address in ("auto", "local") or ":" not in target:
        return                                    # Ray's own discovery; nothing to probe
    host, _, port_text = target.rpartition(":")
    shown = hide_url_secrets(address)
    try:
        port = int(port_text)
    except ValueError:
        raise AuditError(f"--ray-address {shown}: the port must be a number.") from None
    seconds = remote_timeout()
    try:
        with socket.create_connection((host.strip("[]"), port), timeout=seconds) as conn:
            conn.settimeout(seconds)
            conn.sendall(_H2_PREFACE)
            answer = conn.recv(9)
    except OSError as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else (exc.strerror or type(exc).__name__)
        raise AuditError(f"Cannot reach the Ray cluster at {shown} ({reason}; waited at most {seconds:g} s: "
                         f"is it running? {TIMEOUT_ENV} sets the wait).") from None
    if len(answer) < 4 or answer[3] != 0x4:       # a gRPC server's first frame is its SETTINGS
        raise AuditError(f"{shown} does not answer like a Ray cluster (no gRPC service there); "
                         "check --ray-address / RAY_ADDRESS.")


#: an HTTP/2 client preface and an empty SETTINGS frame: a Ray cluster's gRPC endpoint answers at
#: once with its own SETTINGS frame, where a dead or foreign service stays silent or says otherwise
_H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"


@contextlib.contextmanager
def _own_signal_handlers() -> Iterator[None]:
    """Keep this process's SIGINT/SIGTERM handlers: ``ray.init`` replaces SIGTERM's with one that
    exits with status 1."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            if handler is not None:
                signal.signal(sig, handler)


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
