"""The one hardened reader of configuration files (policy, accepted findings, calibration), and YAML
parsing that remembers where every value came from, so errors can name the line.

``read_document`` is the only way a configuration file is read: bounded in size, UTF-8, not empty,
parsed strictly (below), every failure an ``AuditError`` naming the file and line. A size bound and
an alias budget matter because these files arrive from anywhere (a shared policy, an accept file
in a pull request): a 1 KB alias bomb must not become a MemoryError.

The parser is strict on purpose: YAML that could make a file mean something other than what it
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

import json
from typing import Any

import yaml

from .errors import AuditError

MAX_DOCUMENT_BYTES = 16 * 1024 * 1024  # far above any real policy, accept or calibration file
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
    node = _compose(text)
    if node is None:
        return Located(None, {})
    builder = _Builder()
    return Located(builder.build(node, (), (), False), builder.lines)


def _compose(text: str) -> yaml.Node | None:
    """The document's node graph, aliases still shared (so ``_Builder`` can count their expansion);
    a document too deep for the composer is refused like one too deep for the builder."""
    loader = _Composer(text)
    try:
        return loader.get_single_node()
    except RecursionError:
        raise StrictYAMLError(f"the document is nested too deeply (more than {MAX_DEPTH} levels)",
                              None) from None
    finally:
        loader.dispose()


class _Builder:
    """Turns one document's node graph into Python values, refusing what ``parse`` refuses, and
    records the line of every value. It holds the document's alias budget and the nodes seen so far
    (a collection node seen again is reached through an alias)."""

    def __init__(self) -> None:
        self.lines: dict[tuple, int] = {}
        self.constructor = yaml.SafeLoader("")  # for scalar resolution (ints, floats, bools)
        self.budget = MAX_ALIAS_NODES
        self.seen_ids: set[int] = set()

    def build(self, n: yaml.Node, path: tuple, active: tuple[int, ...], via_alias: bool,
              at: yaml.Mark | None = None) -> Any:
        """The value of ``n`` at ``path``; ``active``: the collections being built around it;
        ``at``: where the value was written (an alias's expansion is reported at its use site)."""
        via_alias, at = self._visit(n, active, via_alias, at)
        if path not in self.lines:
            self.lines[path] = n.start_mark.line + 1
        if isinstance(n, yaml.MappingNode):
            return self._mapping(n, path, active + (id(n),), via_alias, at)
        if isinstance(n, yaml.SequenceNode):
            inner = active + (id(n),)
            return [self.build(v, path + (i,), inner, via_alias, at) for i, v in enumerate(n.value)]
        return self.constructor.construct_object(n, deep=True)

    def _visit(self, n: yaml.Node, active: tuple[int, ...], via_alias: bool,
               at: yaml.Mark | None) -> tuple[bool, yaml.Mark | None]:
        """Refuse a node nested too deeply or inside itself, and charge one reached through an alias
        to the budget; returns (reached through an alias?, where to report it)."""
        ident = id(n)
        if len(active) >= MAX_DEPTH:
            raise StrictYAMLError(f"the document is nested too deeply (more than {MAX_DEPTH} levels)",
                                  n.start_mark)
        if ident in active:
            raise StrictYAMLError("a recursive alias (an anchor used inside itself) is not allowed", n.start_mark)
        if isinstance(n, (yaml.MappingNode, yaml.SequenceNode)):
            # a collection node seen before is reached again through an alias
            repeat = ident in self.seen_ids
            self.seen_ids.add(ident)
            via_alias = via_alias or repeat
        if not via_alias:
            at = n.start_mark
        if via_alias:
            self.budget -= 1
            if self.budget < 0:
                raise StrictYAMLError(f"aliases expand to more than {MAX_ALIAS_NODES:,} values "
                                      f"(an alias bomb?); write the values out instead", at)
        return via_alias, at

    def _mapping(self, n: yaml.MappingNode, path: tuple, inner: tuple[int, ...], via_alias: bool,
                 at: yaml.Mark | None) -> dict:
        """A mapping's value (merge keys resolved); each key's line is recorded as its value's."""
        out: dict = {}
        for k, v in _pairs(n, inner):
            key = self._key(k, out, path)
            self.lines[path + (key,)] = k.start_mark.line + 1
            out[key] = self.build(v, path + (key,), inner, via_alias, k.start_mark if not via_alias else at)
        return out

    def _key(self, k: yaml.Node, out: dict, path: tuple) -> Any:
        """A mapping key as a plain value; a complex, non-scalar-typed or repeated key is refused."""
        if not isinstance(k, yaml.ScalarNode):
            raise StrictYAMLError("a complex key (a list or mapping used as a key) is not allowed",
                                  k.start_mark)
        key = self.constructor.construct_object(k, deep=True)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            raise StrictYAMLError(f"a key must be a plain name, not {type(key).__name__}", k.start_mark)
        if key in out:
            raise StrictYAMLError(f"duplicate key '{key}' (first on line {self.lines.get(path + (key,), '?')})",
                                  k.start_mark)
        return key


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


def read_bytes_bounded(path: str, what: str, limit: int = MAX_DOCUMENT_BYTES,
                       error: type[AuditError] = AuditError) -> bytes:
    """The bytes of ``path`` (at most ``limit``), or an error naming ``what`` and the file."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(limit + 1)
    except FileNotFoundError:
        raise error(f"{what} not found: {path}.") from None
    except IsADirectoryError:
        raise error(f"{what} {path} is a directory, not a file.") from None
    except OSError as exc:
        raise error(f"Cannot read {what.lower()} {path}: {exc.strerror or exc}.") from None
    if len(raw) > limit:
        raise error(f"{what} {path} is larger than {limit:,} bytes; that is not a {what.lower()}.")
    return raw


def read_document(path: str, what: str, empty_hint: str = "", error: type[AuditError] = AuditError,
                  raw: bytes | None = None) -> Located:
    """Read and strictly parse a YAML (or ``.json``) configuration file; ``what`` names it in errors
    ("Policy file", "Accepted-findings file", "Calibration file")."""
    if raw is None:
        raw = read_bytes_bounded(path, what, error=error)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise error(f"{what} {path} is not valid UTF-8.") from None
    if not text.strip():  # an empty file is a mistake, never a silent default
        raise error(f"{what} {path} is empty{f' ({empty_hint})' if empty_hint else ''}.")
    if path.endswith(".json"):
        return _parse_json(path, text, what, error)
    try:
        return parse(text)
    except StrictYAMLError as exc:  # duplicate/complex keys, recursive aliases, alias bombs
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
        raise error(f"{what} {path}{f':{line}' if line else ''}: {exc.problem}.") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else path
        problem = getattr(exc, "problem", None) or str(exc).split("\n")[0]
        raise error(f"{what} {where} is not valid YAML ({problem}).") from None


def _parse_json(path: str, text: str, what: str, error: type[AuditError]) -> Located:
    """JSON has no aliases; a duplicate key is refused as in YAML."""
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in items:
            if k in out:
                raise ValueError(f"duplicate key '{k}'")
            out[k] = v
        return out

    try:
        return Located(json.loads(text, object_pairs_hook=pairs), {})
    except RecursionError:
        raise error(f"{what} {path} is nested too deeply.") from None
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        raise error(f"{what} {path}{f':{line}' if line else ''} is not valid JSON "
                    f"({getattr(exc, 'msg', exc)}).") from None
