"""The package's import graph: no cycles, and every layer imports only layers below it.

Every ``import`` in every module counts, including imports inside functions (a lazy import is
still a dependency; it only hides a cycle until the function runs). Layers, bottom to top::

    errors / result / config / version / templates / documents / lazy
    text / sketches / signals
    readers
    detectors
    checks
    policy / schemas
    engine / outputs
    filter
    reports
    cli / __main__ / the package root (the public API)

A module may import its own layer or any layer below it; a cycle is an error even within a layer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = "collapse_audit"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE

LAYERS: list[set[str]] = [
    {"errors", "result", "config", "version", "templates", "documents", "lazy"},
    {"text", "sketches", "signals"},
    {"readers"},
    {"detectors"},
    {"checks"},
    {"policy", "schemas"},        # the policy and result JSON Schemas derive from the checks
    {"engine", "outputs"},        # output safety asks the readers which files a scan would read
    {"filter"},
    {"reports"},
    {"cli", "__main__", ""},      # "" is the package root: the public API
]


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in ROOT.rglob("*.py")}


def _resolve(importer: str, is_package: bool, level: int, target: str | None) -> str:
    if level == 0:
        return target or ""
    base = importer.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def _existing(name: str) -> str | None:
    """The longest prefix of ``name`` that is a module of the package."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in MODULES:
            return candidate
        parts.pop()
    return None


def imports_of(name: str) -> set[str]:
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(name, is_package, node.level, node.module)
            # `from pkg import sub` depends on pkg.sub when sub is a module, else on pkg itself
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        for t in targets:
            if t == PACKAGE or t.startswith(PACKAGE + "."):
                found = _existing(t)
                if found is not None and found != name:
                    out.add(found)
    return out


GRAPH = {name: imports_of(name) for name in MODULES}


def layer_of(name: str) -> int:
    top = name.split(".")[1] if "." in name else ""
    for i, group in enumerate(LAYERS):
        if top in group:
            return i
    raise AssertionError(f"{name} belongs to no layer: add its package to LAYERS in {Path(__file__).name}")


def test_every_module_has_a_layer():
    for name in MODULES:
        layer_of(name)


def test_no_upward_imports():
    upward = sorted(f"{src} -> {dst}" for src, dsts in GRAPH.items() for dst in dsts
                    if layer_of(dst) > layer_of(src))
    assert not upward, "imports from a higher layer:\n" + "\n".join(upward)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path [a, b, ..., a], or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_import_cycles():
    cycle = find_cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize("graph, has_cycle", [
    ({"a": {"b"}, "b": {"c"}, "c": set()}, False),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, True),
    ({"a": {"a.x"}, "a.x": {"a"}}, True),
])
def test_the_cycle_finder_finds_cycles(graph, has_cycle):
    assert (find_cycle(graph) is not None) == has_cycle


def test_imports_inside_functions_count():
    assert "collapse_audit.engine.scan" in GRAPH["collapse_audit.cli.scan"]
    # engine.resources imports the detector registry inside a function (its detector loader)
    assert "collapse_audit.detectors.registry" in GRAPH["collapse_audit.engine.resources"]
