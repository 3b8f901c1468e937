"""Load and validate a policy file; every mistake is reported with the file and line.

A policy that names an unknown metric, field or key is an error (exit 2), never a silent pass:
a typo in a rule would otherwise turn a gate off without anyone noticing.
"""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass, field
from typing import Any

from ..checks.registry import catalogue, metric_spec, options_sections
from ..checks.spec import Rule
from ..config import FieldMap
from ..documents import Located, read_bytes_bounded, read_document
from ..errors import PolicyError
from .discovery import PYPROJECT, TOOL_KEY, PolicySource, default_policy_path, find_policy, pyproject_table
from .options import build_options
from .provenance import PROVENANCE_KEYS, ProvenanceDerivation, parse_derivation

POLICY_FILENAME = "collapse-audit.yaml"
# plus one section per check with options (the registry)
BASE_KEYS = {"version", "fields", "rules", "on_inconclusive", "accept", "where_missing", "ignore"}
FIELD_KEYS = {"text", "id", "provenance", "source", "license", "synthetic_values", "human_values",
              "required", "license_allowlist", "text_roles", *PROVENANCE_KEYS}
ON_INCONCLUSIVE = ("fail", "warn")
#: what a rule's ``where: {source: X}`` does when no record has source X: ``error`` (exit 2, the default:
#: a misspelt source must not switch a compliance rule off) or ``not_applicable`` (policies shared by
#: corpora where a source may legitimately be absent)
WHERE_MISSING = ("error", "not_applicable")
RULE_KEYS = {"id", "name", "metric", "max", "min", "severity", "where", "enabled", "description"}


@dataclass(frozen=True)
class RuleSpec:
    """One rule as the policy states it (catalogue defaults filled in)."""

    id: str
    name: str
    metric: str
    op: str                       # "max" | "min"
    threshold: float
    severity: str                 # "error" | "warning"
    where: dict | None = None     # {source: value}
    line: int | None = None


@dataclass
class Policy:
    """A loaded, validated policy.

    ``on_inconclusive`` says what an inconclusive error rule does to the verdict (``fail``, the
    default, or ``warn``); ``where_missing`` what a ``where:`` source no record has does (``error``,
    the default, or ``not_applicable``); ``accept`` is the accepted-findings file (resolved against the policy's
    directory); ``provenance`` derives the provenance tag from another field or maps its values.
    """

    path: str
    sha256: str
    fields: FieldMap
    rules: list[RuleSpec]
    #: policy section -> that check's validated ``Options`` instance (every registered section)
    options: dict[str, Any] = field(default_factory=dict)
    on_inconclusive: str = "fail"
    accept: str | None = None
    provenance: ProvenanceDerivation | None = None
    source: PolicySource = "--policy"
    where_missing: str = "error"
    #: rule codes or prefixes the policy switches off (``ignore:``), and the ids it lists with
    #: ``enabled: false``: an input such as --eval-set never switches these on
    ignore: tuple[str, ...] = ()
    disabled: frozenset[str] = frozenset()


def resolve_policy_path(explicit: str | None) -> str:
    """--policy if given, else the nearest discovered policy (see ``discovery``), else the default."""
    return find_policy(explicit).path


def load_policy(path: str, source: PolicySource | None = None) -> Policy:
    """Load and validate the policy at ``path`` (a YAML file, or a pyproject.toml's tool table)."""
    if source is None:
        source = "packaged default" if path == default_policy_path() else "--policy"
    if os.path.basename(path) == PYPROJECT:
        return _load_pyproject(path, source)
    raw = read_bytes_bounded(path, "Policy file", error=PolicyError)
    doc = read_document(path, "Policy file", empty_hint="write at least one rule, or remove it to use the packaged "
                        "default", error=PolicyError, raw=raw)
    policy = _build(path, hashlib.sha256(raw).hexdigest(), doc)
    policy.source = source
    return policy


def _load_pyproject(path: str, source: PolicySource) -> Policy:
    """The ``[tool.collapse-audit]`` table of a pyproject.toml (errors name the table's keys)."""
    table = pyproject_table(path)
    if table is None:
        raise PolicyError(f"Policy {path} has no [tool.{TOOL_KEY}] table.")
    if not table:  # as an empty YAML policy: a mistake, never a policy without rules that passes
        raise PolicyError(f"Policy {path}: the [tool.{TOOL_KEY}] table is empty (write at least one rule, or "
                          "remove the table to use the packaged default).")
    import json

    canonical = json.dumps(table, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")
    policy = _build(f"{path} [tool.{TOOL_KEY}]", hashlib.sha256(canonical).hexdigest(), Located(table, {}))
    policy.path = path
    policy.source = "pyproject" if source == "discovered" else source
    if policy.accept is not None and not os.path.isabs(policy.accept):
        policy.accept = os.path.join(os.path.dirname(path), policy.accept)
    return policy


class _Ctx:
    def __init__(self, path: str, doc: Located):
        self.path, self.doc = path, doc

    def fail(self, message: str, *at: Any) -> PolicyError:
        line = self.doc.line(*at)
        where = f"{self.path}:{line}" if line else self.path
        return PolicyError(f"Policy {where}: {message}.")


def _mapping(ctx: _Ctx, value: Any, allowed: set[str], *at: Any) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ctx.fail(f"'{'.'.join(map(str, at))}' must be a mapping", *at)
    for key in value:
        if key not in allowed:
            raise ctx.fail(f"unknown key '{key}' in '{'.'.join(map(str, at)) or 'policy'}' "
                           f"(expected one of: {', '.join(sorted(allowed))})", *at, key)
    return value


def _str_list(ctx: _Ctx, value: Any, *at: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
        raise ctx.fail(f"'{'.'.join(map(str, at))}' must be a list of strings", *at)
    return tuple(str(v) for v in value)


def _field_name(ctx: _Ctx, value: Any, *at: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ctx.fail(f"'{'.'.join(map(str, at))}' must be a field name (dotted paths allowed)", *at)
    return value


def _number(ctx: _Ctx, value: Any, *at: Any, integer: bool = False, lo: float | None = None,
            hi: float | None = None) -> float:
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    ok = ok and _finite(value)  # robustness: .nan passes every comparison, 1e400 parses as inf
    if isinstance(value, bool) or not ok or (lo is not None and value < lo) or (hi is not None and value > hi):
        kind = "an integer" if integer else "a number"
        rng = (f" between {lo} and {hi}" if lo is not None and hi is not None
               else (f" >= {lo}" if lo is not None else ""))
        shown = repr(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and not _finite(value):
            kind = f"a finite {kind.split()[-1]}"
            shown = f"an integer of {len(str(value))} digits" if isinstance(value, int) else shown
        raise ctx.fail(f"'{'.'.join(map(str, at))}' must be {kind}{rng}, not {shown}", *at)
    return value


def _finite(value: Any) -> bool:
    """A number a threshold can be: not NaN, not +-inf, and (for ints) within float range."""
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def _build(path: str, sha: str, doc: Located) -> Policy:
    ctx = _Ctx(path, doc)
    top = doc.value
    if top is None:
        top = {}
    if not isinstance(top, dict):
        raise ctx.fail("the policy must be a YAML mapping")
    sections = options_sections()
    _mapping(ctx, top, BASE_KEYS | set(sections))
    version = top.get("version", 1)
    if version != 1:
        raise ctx.fail(f"unsupported policy version {version!r} (this collapse-audit reads version 1)", "version")

    f = _mapping(ctx, top.get("fields"), FIELD_KEYS, "fields")
    defaults = FieldMap()
    allow = f.get("license_allowlist")
    fields = FieldMap(
        text=_field_name(ctx, f.get("text", defaults.text), "fields", "text") or defaults.text,
        id=_field_name(ctx, f.get("id", defaults.id), "fields", "id"),
        provenance=_field_name(ctx, f.get("provenance", defaults.provenance), "fields", "provenance"),
        source=_field_name(ctx, f.get("source", defaults.source), "fields", "source"),
        license=_field_name(ctx, f.get("license", defaults.license), "fields", "license"),
        synthetic_values=_str_list(ctx, f.get("synthetic_values", list(defaults.synthetic_values)),
                                   "fields", "synthetic_values"),
        human_values=_str_list(ctx, f.get("human_values", list(defaults.human_values)), "fields", "human_values"),
        required=_str_list(ctx, f.get("required"), "fields", "required"),
        license_allowlist=None if allow is None else _str_list(ctx, allow, "fields", "license_allowlist"),
        text_roles=None if f.get("text_roles") is None else _str_list(ctx, f["text_roles"], "fields", "text_roles"),
    )

    options = {key: build_options(cls, top.get(key), ctx, key) for key, cls in sections.items()}
    rules = _rules(ctx, top.get("rules"), fields)
    on_inconclusive = top.get("on_inconclusive", "fail")
    if on_inconclusive not in ON_INCONCLUSIVE:
        raise ctx.fail(f"'on_inconclusive' must be 'fail' or 'warn', not {on_inconclusive!r}", "on_inconclusive")
    where_missing = top.get("where_missing", "error")
    if where_missing not in WHERE_MISSING:
        raise ctx.fail(f"'where_missing' must be 'error' or 'not_applicable', not {where_missing!r}", "where_missing")
    accept = top.get("accept")
    if accept is not None:
        if not isinstance(accept, str) or not accept.strip():
            raise ctx.fail("'accept' must be the path of an accepted-findings file", "accept")
        if not os.path.isabs(accept) and os.path.isfile(path):
            accept = os.path.join(os.path.dirname(path), accept)
    derivation = parse_derivation(f, ctx.fail)
    ignore = tuple(c.strip().upper() for c in _str_list(ctx, top.get("ignore"), "ignore"))
    return Policy(path, sha, fields, rules, options, on_inconclusive=on_inconclusive, accept=accept,
                  provenance=derivation, where_missing=where_missing, ignore=ignore,
                  disabled=_disabled(top.get("rules")))


def require_active_rules(rules: list[RuleSpec], policy: Policy, selected: bool) -> None:
    """A policy or a selection that leaves no rule to apply cannot pass a gate: exit 2, never a pass."""
    if rules:
        return
    name = "the packaged default policy" if policy.source == "packaged default" else f"the policy {policy.path}"
    if selected:
        raise PolicyError(f"The rule selection (--select/--extend-select/--ignore) leaves no rule of {name} to "
                          "apply, so nothing would be judged; select at least one rule.")
    raise PolicyError(f"Policy {policy.path} has no active rule, so nothing would be judged; add at least one "
                      "rule (`collapse-audit rules list` shows the catalogue).")


def _disabled(value: Any) -> frozenset[str]:
    """The ids the policy lists with ``enabled: false`` (validated with the rest by ``_rules``)."""
    rules = value if isinstance(value, list) else []
    return frozenset(str(r["id"]).upper() for r in rules
                     if isinstance(r, dict) and r.get("enabled", True) is False and "id" in r)


def _rules(ctx: _Ctx, value: Any, fields: FieldMap) -> list[RuleSpec]:
    """The policy's active rules in order; a disabled rule is still checked for a known id and metric,
    and the same rule (id and ``where``) may appear only once."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ctx.fail("'rules' must be a list", "rules")
    docs = catalogue()
    out: list[RuleSpec] = []
    seen: set[tuple] = set()
    for i, r in enumerate(value):
        at = ("rules", i)
        rule = _rule(ctx, _mapping(ctx, r, RULE_KEYS, *at), docs, fields, at)
        if rule is None:
            continue
        key = (rule.id, rule.where["source"] if rule.where else "")
        if key in seen:
            raise ctx.fail(f"rule {rule.id} appears twice", *at)
        seen.add(key)
        out.append(rule)
    return out


def _rule(ctx: _Ctx, r: dict, docs: dict[str, Rule], fields: FieldMap, at: tuple) -> RuleSpec | None:
    """One rule entry with the catalogue's defaults for its id filled in; None when it is disabled."""
    rid = r.get("id")
    if not isinstance(rid, str) or not rid:
        raise ctx.fail("every rule needs an 'id' (e.g. CA101)", *at)
    doc = docs.get(rid)
    metric = r.get("metric", doc.metric if doc else None)
    if not isinstance(metric, str):
        raise ctx.fail(f"rule {rid} needs a 'metric' (it is not a catalogued rule id)", *at)
    if metric_spec(metric) is None:
        raise ctx.fail(f"rule {rid} names unknown metric '{metric}' (see `collapse-audit rules list`)",
                       *at, "metric")
    if r.get("enabled", True) is False:
        return None
    op, threshold = _rule_limit(ctx, r, rid, doc, metric, at)
    severity = r.get("severity", doc.severity if doc else "error")
    if severity not in ("error", "warning"):
        raise ctx.fail(f"rule {rid} severity must be 'error' or 'warning', not {severity!r}", *at, "severity")
    where = _rule_where(ctx, r.get("where"), rid, fields, at)
    name = r.get("name", doc.name if doc else rid)
    return RuleSpec(rid, str(name), metric, op, threshold, severity, where, ctx.doc.line(*at))


def _rule_limit(ctx: _Ctx, r: dict, rid: str, doc: Rule | None, metric: str, at: tuple) -> tuple[str, float]:
    """(op, threshold): the rule's own ``max`` or ``min``; a catalogued id alone (``- {id: CA410}``)
    takes the catalogue's limit, but not once its metric is changed (the limit would mean nothing)."""
    has_max, has_min = "max" in r, "min" in r
    if has_max and has_min:
        raise ctx.fail(f"rule {rid} needs exactly one of 'max' or 'min'", *at)
    if has_max or has_min:
        op = "max" if has_max else "min"
        return op, float(_number(ctx, r[op], *at, op))
    if doc is not None and metric == doc.metric:
        return doc.op, float(doc.limit)
    raise ctx.fail(f"rule {rid} needs exactly one of 'max' or 'min'"
                   + ("" if doc is None else f" (its metric differs from the catalogued {doc.metric})"), *at)


def _rule_where(ctx: _Ctx, where: Any, rid: str, fields: FieldMap, at: tuple) -> dict | None:
    """A rule's ``where: {source: VALUE}`` (the value as a string), which needs ``fields.source``."""
    if where is None:
        return None
    if not isinstance(where, dict) or list(where) != ["source"] or not isinstance(where["source"], (str, int)):
        raise ctx.fail(f"rule {rid} 'where' must be {{source: VALUE}}", *at, "where")
    if fields.source is None:
        raise ctx.fail(f"rule {rid} uses 'where: {{source: ...}}' but fields.source is not set", *at, "where")
    return {"source": str(where["source"])}
