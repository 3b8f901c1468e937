"""Typed check options from the policy: one generic validator for every check's ``Options`` dataclass.

Each field of an ``Options`` dataclass declares its type (``int``, ``float``, ``str``, ``bool``,
optionally ``| None``) and, through ``checks.spec.option``, its range, allowed choices and a doc
line. ``build_options`` turns the policy's mapping into an instance or raises ``PolicyError`` with
the file and line: unknown keys (with a "did you mean" suggestion), wrong types, NaN or infinite
numbers, values out of range, and any cross-field ``problems()`` the dataclass reports.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from typing import Any, Protocol

from ..errors import PolicyError


class FailContext(Protocol):
    """Whatever is loading the policy: it turns a message into a ``PolicyError`` located in the file."""

    def fail(self, message: str, *at: Any) -> PolicyError:
        """A ``PolicyError`` for ``message``, located at the policy node(s) ``at`` (file and line)."""


def _allowed_types(hint: Any) -> tuple[tuple[type, ...], bool]:
    """(concrete types, None allowed) of a field's annotation."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        return tuple(a for a in args if a is not type(None)), type(None) in args
    return (hint,), False


def _convert(value: Any, allowed: tuple[type, ...]) -> tuple[bool, Any]:
    """(ok, value converted to the field's type); bools are never numbers, ints are floats."""
    for t in allowed:
        if t is bool and isinstance(value, bool):
            return True, value
        if t is int and isinstance(value, int) and not isinstance(value, bool):
            return True, value
        if t is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                return True, float(value)
            except OverflowError:  # an integer of hundreds of digits: not a number a threshold can be
                return True, math.inf
        if t is str and isinstance(value, str) and value.strip():
            return True, value
    return False, value


_NAMES = {int: "an integer", float: "a number", str: "a non-empty string", bool: "true or false"}


def _range_text(meta: dict[str, Any]) -> str:
    lo, hi = meta.get("min"), meta.get("max")
    if lo is not None and hi is not None:
        if meta.get("min_exclusive"):
            return f" in ({lo:g}, {hi:g}]"
        return f" between {lo:g} and {hi:g}"
    if lo is not None:
        return f" {'>' if meta.get('min_exclusive') else '>='} {lo:g}"
    if hi is not None:
        return f" <= {hi:g}"
    return ""


def build_options(cls: type, mapping: Any, ctx: FailContext, section: str) -> Any:
    """An instance of the ``Options`` dataclass ``cls`` from the policy's ``section`` mapping."""
    if mapping is None:
        return cls()
    if not isinstance(mapping, dict):
        raise ctx.fail(f"'{section}' must be a mapping", section)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in mapping.items():
        if key not in fields:
            close = difflib.get_close_matches(str(key), list(fields), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f" (expected one of: {', '.join(fields)})"
            raise ctx.fail(f"unknown key '{key}' in '{section}'{hint}", section, key)
        values[key] = _check_value(section, key, value, hints[key], dict(fields[key].metadata), ctx)
    instance = cls(**values)
    for key, message in getattr(instance, "problems", lambda: [])():
        raise ctx.fail(f"'{section}' {message}", section, key)
    return instance


def _check_value(section: str, key: str, value: Any, hint: Any, meta: dict[str, Any], ctx: FailContext) -> Any:
    name = f"{section}.{key}"
    allowed, nullable = _allowed_types(hint)
    if value is None:
        if nullable:
            return None
        raise ctx.fail(f"'{name}' needs a value", section, key)
    ok, converted = _convert(value, allowed)
    if not ok:
        want = " or ".join(_NAMES.get(t, t.__name__) for t in allowed)
        raise ctx.fail(f"'{name}' must be {want}{_range_text(meta)}, not {value!r}", section, key)
    shown = f"an integer of {len(str(value))} digits" if isinstance(value, int) and len(str(value)) > 30 \
        else repr(value)
    if isinstance(converted, float) and not math.isfinite(converted):
        raise ctx.fail(f"'{name}' must be a finite number, not {shown}", section, key)
    if isinstance(converted, (int, float)) and not isinstance(converted, bool):
        lo, hi = meta.get("min"), meta.get("max")
        too_low = lo is not None and (converted <= lo if meta.get("min_exclusive") else converted < lo)
        if too_low or (hi is not None and converted > hi):
            raise ctx.fail(f"'{name}' must be{_range_text(meta)}, not {shown}", section, key)
    choices = meta.get("choices")
    if choices and isinstance(converted, str) and converted.lower() not in choices:
        raise ctx.fail(f"'{name}' must be one of {', '.join(choices)}, not {value!r}", section, key)
    return converted.lower() if choices and isinstance(converted, str) else converted
