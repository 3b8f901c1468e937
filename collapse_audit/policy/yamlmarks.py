"""YAML parsing that remembers where every value came from, so policy errors can name the line.

The loader is strict on purpose: YAML that could make a policy mean something other than what it
says is an error with the line, never a silent guess. Refused:

* a duplicate key at any level (plain YAML keeps the last one, so a second ``rules:`` or a
  repeated ``max:`` inside a rule would silently replace the first);
* a complex key (a list or mapping used as a key), which no policy field can mean;
* a recursive alias (an anchor used inside itself);
* nesting deeper than ``MAX_DEPTH`` levels (no policy needs it; deep nesting would exhaust the stack);
* an alias bomb: aliases may reuse anchored nodes, but at most ``MAX_ALIAS_NODES`` nodes may be
  produced through aliases in one document, so a 1 KB file cannot expand into gigabytes.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_ALIAS_NODES = 10_000
MAX_DEPTH = 64  # nesting levels; a policy needs about five


class StrictYAMLError(yaml.MarkedYAMLError):
    """A well-formed YAML document the policy loader refuses; carries the offending line."""

    def __init__(self, problem: str, mark: yaml.Mark | None):
        super().__init__(problem=problem, problem_mark=mark)


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


class _Composer(yaml.SafeLoader):
    """The safe loader, composing a node graph; aliases are recorded so expansion can be counted."""


def parse(text: str) -> Located:
    """Parse YAML text; raises yaml.YAMLError (with a mark) on syntax errors and refused constructs."""
    loader = _Composer(text)
    try:
        node = loader.get_single_node()
    except RecursionError:
        raise StrictYAMLError(f"the document is nested too deeply (more than {MAX_DEPTH} levels)",
                              None) from None
    finally:
        loader.dispose()
    lines: dict[tuple, int] = {}
    if node is None:
        return Located(None, lines)
    constructor = yaml.SafeLoader("")  # for scalar resolution (ints, floats, bools)
    budget = [MAX_ALIAS_NODES]
    seen_ids: set[int] = set()

    def build(n: yaml.Node, path: tuple, active: tuple[int, ...], via_alias: bool,
              at: yaml.Mark | None = None) -> Any:
        """``at``: where the value was written (an alias's expansion is reported at its use site)."""
        ident = id(n)
        if len(active) >= MAX_DEPTH:
            raise StrictYAMLError(f"the document is nested too deeply (more than {MAX_DEPTH} levels)",
                                  n.start_mark)
        if ident in active:
            raise StrictYAMLError("a recursive alias (an anchor used inside itself) is not allowed", n.start_mark)
        if isinstance(n, (yaml.MappingNode, yaml.SequenceNode)):
            # a collection node seen before is reached again through an alias
            repeat = ident in seen_ids
            seen_ids.add(ident)
            via_alias = via_alias or repeat
        if not via_alias:
            at = n.start_mark
        if via_alias:
            budget[0] -= 1
            if budget[0] < 0:
                raise StrictYAMLError(f"aliases expand to more than {MAX_ALIAS_NODES:,} values "
                                      f"(an alias bomb?); write the values out instead", at)
        if path not in lines:
            lines[path] = n.start_mark.line + 1
        if isinstance(n, yaml.MappingNode):
            out: dict = {}
            inner = active + (ident,)
            for k, v in _pairs(n, inner):
                if not isinstance(k, yaml.ScalarNode):
                    raise StrictYAMLError("a complex key (a list or mapping used as a key) is not allowed",
                                          k.start_mark)
                key = constructor.construct_object(k, deep=True)
                if not isinstance(key, (str, int, float, bool)) and key is not None:
                    raise StrictYAMLError(f"a key must be a plain name, not {type(key).__name__}", k.start_mark)
                if key in out:
                    raise StrictYAMLError(f"duplicate key '{key}' (first on line {lines.get(path + (key,), '?')})",
                                          k.start_mark)
                lines[path + (key,)] = k.start_mark.line + 1
                out[key] = build(v, path + (key,), inner, via_alias, k.start_mark if not via_alias else at)
            return out
        if isinstance(n, yaml.SequenceNode):
            inner = active + (ident,)
            return [build(v, path + (i,), inner, via_alias, at) for i, v in enumerate(n.value)]
        return constructor.construct_object(n, deep=True)

    return Located(build(node, (), (), False), lines)


def _pairs(n: yaml.MappingNode, active: tuple[int, ...]) -> list[tuple[yaml.Node, yaml.Node]]:
    """The mapping's key/value nodes with ``<<`` merge keys resolved (explicit keys win, as in YAML)."""
    own: list[tuple[yaml.Node, yaml.Node]] = []
    merged: list[tuple[yaml.Node, yaml.Node]] = []
    for k, v in n.value:
        if isinstance(k, yaml.ScalarNode) and k.tag == "tag:yaml.org,2002:merge":
            sources = v.value if isinstance(v, yaml.SequenceNode) else [v]
            for src in sources:
                if not isinstance(src, yaml.MappingNode):
                    raise StrictYAMLError("a merge key '<<' must name a mapping", src.start_mark)
                if id(src) in active:
                    raise StrictYAMLError("a recursive alias (an anchor used inside itself) is not allowed",
                                          src.start_mark)
                merged.extend(_pairs(src, active + (id(src),)))
        else:
            own.append((k, v))
    taken = {k.value for k, _ in own if isinstance(k, yaml.ScalarNode)}
    for k, v in merged:  # the first merged mapping that has a key wins, as in YAML
        if isinstance(k, yaml.ScalarNode):
            if k.value in taken:
                continue
            taken.add(k.value)
        own.append((k, v))
    return own
