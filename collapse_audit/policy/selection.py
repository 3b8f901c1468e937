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

Every input a user gives can gate: ``--eval-set`` switches on the rules that judge an eval set
(CA5xx) and ``--baseline`` those that judge drift from a baseline (CA41x), with their catalogue
defaults, before the options above apply. A user who supplies an eval set wants to know whether
it leaked, not to discover ``--extend-select CA5`` first. The policy keeps the last word short of
the command line: a rule it lists with ``enabled: false`` or matches in its ``ignore:`` list is
never switched on, and ``--ignore`` drops it whatever switched it on.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

from ..checks.registry import catalogue, registered
from ..checks.spec import Rule
from ..config import ScanConfig
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


#: a check's resource that a user supplies -> the scan option that supplies it
INPUT_FLAGS = {"eval_index": "--eval-set", "baseline": "--baseline"}


def input_rules(supplied: Collection[str], disabled: Collection[str] = (), ignore: Sequence[str] = (),
                available: Callable[[str], bool] = lambda metric: True) -> dict[str, list[str]]:
    """Option (``--eval-set``) -> the catalogued codes it switches on, for the ``supplied`` options.

    The rules of every check that needs the resource the option supplies, unless the policy
    ``disabled`` them (``enabled: false``) or ``ignore``s them, or this scan cannot compute their
    metric (``available``: a baseline profiled without scores has no score histogram).
    """
    out: dict[str, list[str]] = {}
    for cls in registered():
        for need in cls.needs:
            flag = INPUT_FLAGS.get(need)
            if flag is None or flag not in supplied:
                continue
            codes = [r.code for r in cls.rules if r.code.upper() not in disabled
                     and not _matches(r.code, ignore) and available(r.metric)]
            out.setdefault(flag, []).extend(c for c in codes if c not in out.get(flag, []))
    return {flag: sorted(codes) for flag, codes in out.items() if codes}


def supplied_inputs(config: ScanConfig) -> list[str]:
    """The options of ``INPUT_FLAGS`` this scan was given."""
    given = {"--eval-set": bool(config.eval_sets), "--baseline": bool(config.baseline)}
    return [flag for flag, on in given.items() if on]


def activated_by(activated: Mapping[str, Sequence[str]], applied: Sequence[RuleSpec],
                 listed: Sequence[RuleSpec]) -> dict[str, list[str]]:
    """Option -> the applied rules it switched on (not those the policy lists itself), for the report."""
    mine = {r.id.upper() for r in listed}
    used = {r.id.upper() for r in applied}
    out = {flag: [c for c in codes if c in used and c not in mine] for flag, codes in activated.items()}
    return {flag: codes for flag, codes in out.items() if codes}


def _check_codes(known: Collection[str], options: Mapping[str, Sequence[str]]) -> None:
    for option, codes in options.items():
        for code in codes:
            if not any(k.startswith(code) for k in known):
                raise AuditError(f"{option} {code} matches no rule (see `collapse-audit rules list`).")


def select_rules(rules: Sequence[RuleSpec], select: Sequence[str] = (), extend_select: Sequence[str] = (),
                 ignore: Sequence[str] = (), available: Callable[[str], bool] = lambda metric: True,
                 activated: Mapping[str, Sequence[str]] | None = None, policy_ignore: Sequence[str] = (),
                 ) -> list[RuleSpec]:
    """The rules a scan applies after ``--select``/``--extend-select``/``--ignore``.

    ``available(metric)`` says whether this scan can compute a metric (used for prefixes only);
    ``activated`` (from ``input_rules``) adds the codes the scan's inputs switch on, unless the
    policy lists them already; ``policy_ignore`` is the policy's ``ignore:`` list, applied to the
    policy's and the activated rules (``--select``/``--extend-select`` may still name one back in).
    """
    docs = catalogue()
    known = set(docs) | {r.id.upper() for r in rules}
    _check_codes(known, {"--select": select, "--extend-select": extend_select, "--ignore": ignore,
                         "The policy's ignore:": policy_ignore})
    out = list(rules)
    listed = {r.id.upper() for r in out}
    for codes in (activated or {}).values():
        out += [_from_catalogue(docs[c]) for c in codes if c not in listed]
        listed |= set(codes)
    if policy_ignore:  # before the command line's options, which may name a rule back in
        out = [r for r in out if not _matches(r.id, policy_ignore)]
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
