"""Which policy a scan uses, and from where: ``--policy``, a discovered file, or the packaged default.

Like ruff, the scan looks for its configuration from the current directory upward, stopping at the
repository root (the first directory holding ``.git``) so a policy outside the project is never
picked up by accident; outside a repository only the current directory is searched. In each
directory it takes the first of:

1. ``collapse-audit.yaml``
2. ``.collapse-audit.yaml``
3. ``pyproject.toml`` with a ``[tool.collapse-audit]`` table (the same keys as the YAML file)

Nothing found means the packaged ``rules/default.yaml``. The result reports the choice in
``policy.path`` and ``policy.source`` so a reader of the report knows which gate was applied.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

from ..documents import read_bytes_bounded
from ..errors import PolicyError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

PolicySource = Literal["--policy", "discovered", "pyproject", "packaged default"]
POLICY_FILENAMES = ("collapse-audit.yaml", ".collapse-audit.yaml")
PYPROJECT = "pyproject.toml"
TOOL_KEY = "collapse-audit"


@dataclass(frozen=True)
class PolicyLocation:
    """Where the policy came from: a path and how it was found."""

    path: str
    source: PolicySource


def default_policy_path() -> str:
    """The packaged default policy (``collapse_audit/rules/default.yaml``)."""
    return str(resources.files("collapse_audit") / "rules" / "default.yaml")


def pyproject_table(path: str) -> dict[str, Any] | None:
    """The ``[tool.collapse-audit]`` table of a pyproject.toml, or None when it has none."""
    raw = read_bytes_bounded(path, "Policy file", error=PolicyError)
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path} is not valid TOML ({exc}).") from None
    table = data.get("tool", {}).get(TOOL_KEY)
    if table is None:
        return None
    if not isinstance(table, dict):
        raise PolicyError(f"Policy {path}: [tool.{TOOL_KEY}] must be a table.")
    return table


def _repository_root(start: str) -> str | None:
    d = start
    while True:
        if os.path.exists(os.path.join(d, ".git")):
            return d
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def _relative(path: str, cwd: str) -> str:
    rel = os.path.relpath(path, cwd)
    return rel if not rel.startswith(os.pardir + os.sep + os.pardir) else path


def find_policy(explicit: str | None = None, cwd: str | None = None) -> PolicyLocation:
    """``--policy`` if given, else the nearest policy up to the repository root, else the default."""
    if explicit:
        return PolicyLocation(explicit, "--policy")
    here = os.path.abspath(cwd or os.getcwd())
    root = _repository_root(here)
    d = here
    while True:
        for name in POLICY_FILENAMES:
            candidate = os.path.join(d, name)
            if os.path.isfile(candidate):
                return PolicyLocation(_relative(candidate, here), "discovered")
        candidate = os.path.join(d, PYPROJECT)
        if os.path.isfile(candidate) and pyproject_table(candidate) is not None:
            return PolicyLocation(_relative(candidate, here), "pyproject")
        parent = os.path.dirname(d)
        if root is None or d == root or parent == d:
            break
        d = parent
    return PolicyLocation(default_policy_path(), "packaged default")
