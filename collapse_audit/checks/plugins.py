"""Checks and readers from other distributions, found through entry points.

A package adds a check or an input format without editing this one by declaring, in its
``pyproject.toml``::

    [project.entry-points."collapse_audit.checks"]
    url_share = "my_package.checks:UrlShare"       # a Check subclass, or a module that registers one

    [project.entry-points."collapse_audit.readers"]
    warc = "my_package.readers:WarcReader"         # a Reader subclass, or a module that registers one

Loading happens once, when ``collapse_audit.checks`` is first imported (so every engine, worker
process included, sees the same checks). A plugin is trusted code, but not a trusted opinion:

* its rules are *off unless the policy selects them* (a ``rules:`` entry, ``--select`` or
  ``--extend-select``): a catalogue entry that says ``enabled_by_default`` is shown as off, and the
  check itself does not run - costs nothing, adds no metric - unless one of its rules is applied;
* the JSON result lists every loaded plugin with its distribution and version (``tool.plugins``),
  so a report says which code produced it;
* a plugin that cannot be imported, or names something that is neither a check nor a reader, stops
  the audit with one sentence naming the entry point and its distribution (exit 2).
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import AuditError

CHECK_GROUP = "collapse_audit.checks"
READER_GROUP = "collapse_audit.readers"


@dataclass(frozen=True)
class Plugin:
    """One loaded entry point: where it came from and what it registered."""

    group: str             # CHECK_GROUP or READER_GROUP
    entry_point: str       # the entry point's name
    distribution: str
    version: str
    provides: tuple[str, ...]   # the names of the checks or readers it registered

    def to_json(self) -> dict[str, Any]:
        """The entry of ``tool.plugins`` in the JSON result."""
        kind = "checks" if self.group == CHECK_GROUP else "readers"
        return {"name": self.distribution, "version": self.version, "entry_point": self.entry_point,
                kind: list(self.provides)}


_LOADED: dict[tuple[str, str, str], Plugin] = {}


def loaded() -> tuple[Plugin, ...]:
    """Every plugin loaded so far, in load order."""
    return tuple(_LOADED.values())


def tool_entry() -> dict[str, Any]:
    """``{"plugins": [...]}`` for the result's ``tool`` object, or nothing when no plugin is loaded
    (so a result without plugins is byte-identical to one from before plugins existed)."""
    return {"plugins": [p.to_json() for p in _LOADED.values()]} if _LOADED else {}


def load_plugins() -> None:
    """Load every check and reader entry point not loaded yet (idempotent)."""
    for group, register in ((READER_GROUP, _register_reader), (CHECK_GROUP, _register_check)):
        for ep in importlib.metadata.entry_points(group=group):
            dist = ep.dist
            key = (group, dist.name if dist else "", ep.name)
            if key in _LOADED:
                continue
            provides = register(_load(ep), ep)
            _LOADED[key] = Plugin(group, ep.name, dist.name if dist else "unknown",
                                  dist.version if dist else "unknown", provides)


def _describe(ep: importlib.metadata.EntryPoint) -> str:
    dist = f" of {ep.dist.name} {ep.dist.version}" if ep.dist else ""
    return f"the {ep.group} entry point '{ep.name} = {ep.value}'{dist}"


def _load(ep: importlib.metadata.EntryPoint) -> Any:
    try:
        return ep.load()
    except Exception as exc:  # noqa: BLE001 - any failure of foreign code is one sentence, not a traceback
        raise AuditError(f"Cannot load {_describe(ep)}: {type(exc).__name__}: {exc} "
                         f"(fix or uninstall that package).") from exc


def _registered_by(obj: Any, ep: importlib.metadata.EntryPoint, base: type, register: Callable[[Any], Any],
                   before: Callable[[], set[Any]]) -> list[Any]:
    """The classes of kind ``base`` that ``obj`` (a class, or a module whose import registered them) adds."""
    if isinstance(obj, type) and issubclass(obj, base):
        register(obj)
        return [obj]
    if isinstance(obj, types.ModuleType):
        new = [c for c in before() if getattr(c, "__module__", "").startswith(obj.__name__)]
        if new:
            return new
    raise AuditError(f"{_describe(ep)} names neither a {base.__name__} subclass nor a module that registers one.")


def _register_check(obj: Any, ep: importlib.metadata.EntryPoint) -> tuple[str, ...]:
    from .base import Check
    from .registry import register_check, registered, run_only_when_selected

    try:
        classes = _registered_by(obj, ep, Check, register_check, lambda: set(registered()))
    except TypeError as exc:      # a clash with a registered check's name, metric, code or column
        raise AuditError(f"Cannot register {_describe(ep)}: {exc}.") from None
    for cls in classes:
        run_only_when_selected(cls)
        # off unless selected: the catalogue says so too (`rules list`, the default policy)
        cls.rules = tuple(dataclasses.replace(r, enabled_by_default=False) for r in cls.rules)
    return tuple(cls.name for cls in classes)


def _register_reader(obj: Any, ep: importlib.metadata.EntryPoint) -> tuple[str, ...]:
    from ..readers.base import Reader
    from ..readers.registry import register_reader, registered_readers

    classes = _registered_by(obj, ep, Reader, register_reader,
                             lambda: {type(r) for r in registered_readers()})
    return tuple(cls.name for cls in classes)
