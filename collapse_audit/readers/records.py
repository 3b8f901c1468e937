"""From a parsed record to what is audited: its text (plain, chat turns or SFT parts) and fields.

Chat and SFT corpora keep their text in structure, not in one string. The text field may name:
- a string (``text``, ``meta.body``, ``messages.-1.content``);
- a list of chat turns: ``messages: [{role, content}]`` (OpenAI style; ``content`` may itself be a
  list of ``{type: text, text}`` parts) or ShareGPT ``conversations: [{from, value}]``; the turns
  of the roles in ``text_roles`` (all turns when unset) are joined with a blank line. ShareGPT
  speakers are mapped to roles (human -> user, gpt -> assistant) and match either name;
- several fields joined with ``+`` (``instruction+input+output``): the non-empty ones are joined
  with a blank line; with ``text_roles`` only the parts whose role matches are kept (instruction,
  input, prompt -> user; output, response, completion -> assistant; system -> system).
"""

from __future__ import annotations

import re
from typing import Any

from .fields import get_path

_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
# Deeper records are bad records: Python's JSON parser and repr() recurse, and a value nested
# hundreds of levels deep would crash whatever code formats it later.
MAX_NESTING = 100
SPEAKER_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "chatgpt": "assistant", "bard": "assistant",
                 "model": "assistant", "assistant": "assistant", "system": "system", "tool": "tool"}
SFT_ROLES = {"instruction": "user", "input": "user", "prompt": "user", "question": "user", "query": "user",
             "output": "assistant", "response": "assistant", "completion": "assistant", "answer": "assistant",
             "chosen": "assistant", "system": "system"}
JOIN = "\n\n"


class TextError(ValueError):
    """Why a record has no usable text (becomes a bad record's reason)."""


def record_text(record: Any, text_field: str, roles: tuple[str, ...] | None = None) -> str:
    """The audited text of one record, or ``TextError`` saying why there is none."""
    if "+" in text_field and not (isinstance(record, dict) and text_field in record):
        return _joined_fields(record, text_field, roles)
    value = get_path(record, text_field)
    if value is None:
        raise TextError(f"the text field '{text_field}' is missing")
    return value_text(value, text_field, roles)


def value_text(value: Any, text_field: str, roles: tuple[str, ...] | None = None) -> str:
    """A text field's value as text: a string, or chat turns (see the module docstring)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(isinstance(t, dict) for t in value):
        return _chat_text(value, text_field, roles)
    raise TextError(f"the text field '{text_field}' is {type(value).__name__}, not a string")


def _chat_text(turns: list[dict[str, Any]], text_field: str, roles: tuple[str, ...] | None) -> str:
    parts = []
    for i, turn in enumerate(turns):
        speaker = turn.get("role", turn.get("from"))
        content = turn.get("content", turn.get("value", turn.get("text")))
        if speaker is None and content is None:
            raise TextError(f"the text field '{text_field}' is a list whose item {i} is not a chat turn "
                            "(expected role/content or from/value)")
        if roles is not None and not _role_matches(speaker, roles, SPEAKER_ROLES):
            continue
        text = _content_text(content)
        if text is None:
            raise TextError(f"turn {i} of the text field '{text_field}' has content of type "
                            f"{type(content).__name__}, not text")
        if text:
            parts.append(text)
    return JOIN.join(parts)


def _content_text(content: Any) -> str | None:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # [{type: text, text: ...}, {type: image_url, ...}]
        texts: list[str] = []
        for part in content:
            text = part.get("text") if isinstance(part, dict) else None
            if isinstance(text, str):
                texts.append(text)
        return JOIN.join(texts)
    return None


def _joined_fields(record: Any, text_field: str, roles: tuple[str, ...] | None) -> str:
    paths = [p.strip() for p in text_field.split("+") if p.strip()]
    parts, found = [], False
    for path in paths:
        value = get_path(record, path)
        if value is None:
            continue
        found = True
        if roles is not None and not _role_matches(path.rsplit(".", 1)[-1], roles, SFT_ROLES):
            continue
        text = value_text(value, path, roles)
        if text:
            parts.append(text)
    if not found:
        raise TextError(f"none of the text fields {', '.join(repr(p) for p in paths)} is present")
    return JOIN.join(parts)


def _role_matches(name: Any, roles: tuple[str, ...], mapping: dict[str, str]) -> bool:
    if not isinstance(name, str):
        return False
    low = name.lower()
    return low in roles or mapping.get(low) in roles


def may_hold_surrogates(line: str) -> bool:
    """Cheap pre-test on a JSON line: lone surrogates can only come from ``\\uD8xx`` escapes."""
    return "\\" in line and bool(_SURROGATE_ESCAPE.search(line))  # one-byte test first: memchr-fast


def may_nest_deeply(line: str) -> bool:
    """Cheap pre-test: a record nesting deeper than ``MAX_NESTING`` has at least that many brackets."""
    return line.count("[") + line.count("{") > MAX_NESTING


def surrogate_path(value: Any) -> str | None:
    """Dotted path of the first string (value or key) holding a lone surrogate, iteratively (deep
    values cannot overflow the stack); None when there is none."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, cur = stack.pop()
        if isinstance(cur, str):
            if _SURROGATE.search(cur):
                return safe(path) or "(the record)"
        elif isinstance(cur, dict):
            for k, v in cur.items():
                sub = f"{path}.{k}" if path else str(k)
                if isinstance(k, str) and _SURROGATE.search(k):
                    return safe(sub)
                stack.append((sub, v))
        elif isinstance(cur, list):
            stack.extend((f"{path}.{i}" if path else str(i), v) for i, v in enumerate(cur))
    return None


def safe(name: str) -> str:
    """A name from the data made inert for messages: lone surrogates and control characters (ESC,
    CR, BEL...) become backslash escapes, so a column name cannot drive the terminal."""
    name = name.encode("utf-8", "backslashreplace").decode("utf-8")
    return _CONTROL.sub(lambda m: ascii(m.group())[1:-1], name)


def nesting_depth_exceeds(record: Any, limit: int) -> bool:
    """Whether containers nest deeper than ``limit`` (iterative: any depth is safe to test)."""
    stack: list[tuple[Any, int]] = [(record, 1)]
    while stack:
        cur, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(cur, dict):
            stack.extend((v, depth + 1) for v in cur.values() if isinstance(v, (dict, list)))
        elif isinstance(cur, list):
            stack.extend((v, depth + 1) for v in cur if isinstance(v, (dict, list)))
    return False
