"""YAML parsing that remembers where every value came from, so policy errors can name the line."""

from __future__ import annotations

from typing import Any

import yaml


class Located:
    """A parsed YAML document plus the 1-based line of each value, keyed by its path tuple."""

    def __init__(self, value: Any, lines: dict[tuple, int]):
        self.value = value
        self.lines = lines

    def line(self, *path: Any) -> int | None:
        """The line of the value at ``path``, or of its nearest enclosing value."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())


def parse(text: str) -> Located:
    """Parse YAML text; raises yaml.YAMLError (with a mark) on syntax errors."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    lines: dict[tuple, int] = {}
    if node is None:
        return Located(None, lines)
    constructor = yaml.SafeLoader("")  # for scalar resolution (ints, floats, bools)

    def build(n: yaml.Node, path: tuple) -> Any:
        lines[path] = n.start_mark.line + 1
        if isinstance(n, yaml.MappingNode):
            out = {}
            for k, v in n.value:
                key = constructor.construct_object(k, deep=True)
                out[key] = build(v, path + (key,))
                lines[path + (key,)] = k.start_mark.line + 1
            return out
        if isinstance(n, yaml.SequenceNode):
            return [build(v, path + (i,)) for i, v in enumerate(n.value)]
        return constructor.construct_object(n, deep=True)

    return Located(build(node, ()), lines)
