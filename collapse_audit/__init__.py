"""collapse-audit: audit ML training corpora for model-collapse risk before the training job is spent.

The Python API is small and mirrors the command line::

    import collapse_audit

    result = collapse_audit.scan(["data/"], policy="collapse-audit.yaml", sample=5000, seed=1)
    print(result.verdict, result.metric("duplicates.near_fraction"))
    for rule in result.rules:
        print(rule.id, rule.status, rule.message)

``scan`` returns a ``ScanResult`` (``result.to_json()`` is exactly what ``scan --format json``
writes); ``load_policy`` reads and validates a policy file; ``register_check`` and
``register_reader`` add a check or an input format.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .version import __version__

if TYPE_CHECKING:
    from .policy import Policy
    from .result import ScanResult


def scan(paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
         policy: str | os.PathLike[str] | Policy | None = None, **options: Any) -> ScanResult:
    """Audit ``paths`` against ``policy`` and return the result; nothing is printed or exited.

    ``policy`` is a path (YAML, or a pyproject.toml with ``[tool.collapse-audit]``), a ``Policy``
    from ``load_policy``, or None for the same discovery as the CLI. ``options`` are the scan
    flags by their Python names (``text_field``, ``sample``, ``seed``, ``workers``, ``select``,
    ``ignore``, ``accept``, ``baseline``, ``eval_sets``, ``annotations``...). The verdict is in
    ``result.verdict``; an audit that cannot run raises ``collapse_audit.errors.AuditError``.
    """
    from .engine.scan import run_scan, scan_options
    from .errors import AuditError
    from .outputs import check_scan_outputs

    if "argv" in options:
        raise TypeError("scan() got unknown option(s) argv")
    options.setdefault("progress", False)
    opts = scan_options(paths, policy, **options)   # the CLI builds its options with the same function
    if not opts.paths:
        raise AuditError("scan() needs at least one path.")
    check_scan_outputs(opts)  # annotations= or write_accept= onto an input is refused before anything is read
    return run_scan(opts)


def load_policy(path: str) -> Policy:
    """Read and validate a policy file (YAML, or a pyproject.toml's ``[tool.collapse-audit]``)."""
    from .policy import load_policy as _load

    return _load(path)


def __getattr__(name: str) -> Any:
    """The registration hooks, imported on first use so ``import collapse_audit`` stays light."""
    if name == "register_check":
        from .checks.registry import register_check

        return register_check
    if name == "register_reader":
        from .readers.registry import register_reader

        return register_reader
    raise AttributeError(f"module 'collapse_audit' has no attribute {name!r}")


__all__ = ["__version__", "load_policy", "register_check", "register_reader", "scan"]
