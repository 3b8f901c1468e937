"""Derive the policy schema's option sections from the checks' typed ``Options`` dataclasses.

Each field made with ``checks.spec.option`` carries its doc, range and choices in the dataclass
field's metadata; this turns them into JSON Schema, so an option added to a check reaches editors
without a hand edit. ``python -m collapse_audit.schemas.generate`` rewrites the shipped
``policy.schema.json`` (and the repository copy under ``schemas/`` when run from a checkout) from
the registered checks; a test fails when the shipped file and the checks disagree.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_SCALARS = (("bool", "boolean"), ("int", "integer"), ("float", "number"), ("str", "string"))


def _json_types(annotation: Any) -> list[str]:
    """JSON types for a field annotation (a string under ``from __future__ import annotations``)."""
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    parts = [p.strip() for p in re.split(r"\|", text)]
    out: list[str] = []
    for p in parts:
        if p == "None":
            out.append("null")
        elif p.startswith(("tuple", "list", "Sequence")):
            out.append("array")
        elif p.startswith(("dict", "Mapping")):
            out.append("object")
        else:
            out += [j for py, j in _SCALARS if p == py]
    return out or ["string"]


def option_schema(f: dataclasses.Field) -> dict[str, Any]:
    """One option's schema from its type and ``option()`` metadata (doc, min, max, choices)."""
    meta = f.metadata
    types = _json_types(f.type)
    out: dict[str, Any] = {}
    if meta.get("choices"):
        out["enum"] = [*meta["choices"], *([None] if "null" in types else [])]
    else:
        out["type"] = types[0] if len(types) == 1 else types
    if meta.get("min") is not None:
        out["exclusiveMinimum" if meta.get("min_exclusive") else "minimum"] = meta["min"]
    if meta.get("max") is not None:
        out["maximum"] = meta["max"]
    if meta.get("doc"):
        out["description"] = meta["doc"]
    return out


def options_section(cls: type) -> dict[str, Any]:
    """The JSON-schema section for one check's ``Options`` dataclass, described by its docstring."""
    section: dict[str, Any] = {"type": "object", "additionalProperties": False,
                               "properties": {f.name: option_schema(f) for f in dataclasses.fields(cls)}}
    doc = cls.__doc__ or ""
    if doc and not doc.startswith(f"{cls.__name__}("):     # not the signature dataclass writes itself
        section["description"] = " ".join(doc.split())
    return section


def policy_schema(sections: Mapping[str, type], base: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` (the hand-written parts: version, fields, rules, ...) with every option section derived."""
    out = json.loads(json.dumps(base))
    props = out["properties"]
    fixed = {k: v for k, v in props.items() if k not in sections and k != "rules"}
    derived = {name: options_section(cls) for name, cls in sections.items()}
    out["properties"] = {**fixed, **derived, "rules": props["rules"]}
    return out


def dump(schema: Mapping[str, Any]) -> str:
    """A schema as the committed file holds it (indented, UTF-8, ending with a newline)."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def main() -> None:  # pragma: no cover - a maintainer's command
    """Regenerate policy.schema.json from the checks' options, in the package and the repository root."""
    from ..checks.registry import options_sections
    from . import schema_text

    text = dump(policy_schema(options_sections(), json.loads(schema_text("policy"))))
    here = Path(__file__).resolve().parent
    targets = [here / "policy.schema.json", here.parent.parent / "schemas" / "policy.schema.json"]
    for t in targets:
        if t.parent.is_dir():
            t.write_text(text, encoding="utf-8")
            sys.stdout.write(f"wrote {t}\n")


if __name__ == "__main__":  # pragma: no cover
    main()
