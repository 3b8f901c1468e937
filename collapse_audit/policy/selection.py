"""Rule selection from the command line, like ruff: ``--select``, ``--extend-select``, ``--ignore``.

Each option takes comma-separated rule codes or code prefixes (``CA4`` is every CA4xx rule).
Applied in that order to the policy's rules:

* ``--select`` keeps only the policy's rules that match; a full code that the policy does not list
  but the catalogue does is added with its catalogue defaults.
* ``--extend-select`` adds catalogued rules the policy does not list, with their catalogue
  defaults. A prefix adds only the rules whose inputs this scan has (drift rules need
  ``--baseline``, contamination rules ``--eval-set``); a full code is always added, and a missing
  input is then an error naming the flag.
* ``--ignore`` drops every matching rule.

A code or prefix that matches no rule at all is an error: a typo must not switch a gate off.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..checks.registry import catalogue
from ..checks.spec import Rule
from ..errors import AuditError
from .load import RuleSpec


def parse_codes(values: Sequence[str] | None) -> list[str]:
    """Codes from repeated, comma-separated option values, upper-cased, order kept."""
    out: list[str] = []
    for value in values or ():
        for code in value.split(","):
            code = code.strip().upper()
            if code and code not in out:
                out.append(code)
    return out


def _matches(rule_id: str, codes: Sequence[str]) -> bool:
    return any(rule_id.upper().startswith(c) for c in codes)


def _from_catalogue(doc: Rule) -> RuleSpec:
    return RuleSpec(doc.code, doc.name, doc.metric, doc.op, float(doc.limit), doc.severity)


def select_rules(rules: Sequence[RuleSpec], select: Sequence[str] = (), extend_select: Sequence[str] = (),
                 ignore: Sequence[str] = (), available: Callable[[str], bool] = lambda metric: True,
                 ) -> list[RuleSpec]:
    """The rules a scan applies after ``--select``/``--extend-select``/``--ignore``.

    ``available(metric)`` says whether this scan can compute a metric (used for prefixes only).
    """
    docs = catalogue()
    known = set(docs) | {r.id.upper() for r in rules}
    for option, codes in (("--select", select), ("--extend-select", extend_select), ("--ignore", ignore)):
        for code in codes:
            if not any(k.startswith(code) for k in known):
                raise AuditError(f"{option} {code} matches no rule (see `collapse-audit rules list`).")
    out = list(rules)
    if select:
        out = [r for r in out if _matches(r.id, select)]
        listed = {r.id.upper() for r in out}
        out += [_from_catalogue(docs[c]) for c in select if c in docs and c not in listed]
    if extend_select:
        listed = {r.id.upper() for r in out}
        for doc in docs.values():
            if doc.code in listed or not _matches(doc.code, extend_select):
                continue
            if doc.code in extend_select or available(doc.metric):
                out.append(_from_catalogue(doc))
    if ignore:
        out = [r for r in out if not _matches(r.id, ignore)]
    return out
