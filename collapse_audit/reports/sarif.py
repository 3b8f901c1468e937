"""``--format sarif``: SARIF 2.1.0 for code-scanning dashboards (GitHub code scanning, Azure DevOps).

* ``tool.driver.rules``: a reportingDescriptor per catalogued rule (plus the policy's own rules
  that are not catalogued), rationale as ``help``.
* ``results``: one per rule that failed, warned or was inconclusive; ``level`` is ``error`` when
  it counts against the verdict. Its locations are the first records the rule's check listed
  (``file`` + ``region.startLine`` where the line is known), else the input files.
* ``artifacts``: every input with its size and SHA-256 where that is its fingerprint.
Validated against the SARIF 2.1.0 JSON schema in the test suite. Strings are made inert.
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import quote

from ..result import ScanResult
from .lookups import catalogue_rules
from .view import (
    STATUS_LABEL,
    as_result,
    counts_against,
    flagged_records,
    inert,
    json_safe,
    rule_label,
    rule_value_text,
    verdict_sentence,
)

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
MAX_LOCATIONS = 5


def uri(path: str) -> str:
    """A URI reference for a path: relative paths stay relative, absolute ones become file: URIs."""
    p = inert(path).replace(os.sep, "/")
    q = quote(p, safe="/-._~")
    return "file://" + q if p.startswith("/") else q


def _descriptors(res: ScanResult) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for code, name, metric, rationale in catalogue_rules():
        text = " ".join(rationale.split())
        out[code] = {"id": code, "name": name, "shortDescription": {"text": f"{code} {name}"},
                     "fullDescription": {"text": text}, "help": {"text": text}, "properties": {"metric": metric}}
    for r in res.rules:
        if r.id not in out:
            out[r.id] = {"id": inert(r.id), "name": inert(r.name),
                         "shortDescription": {"text": inert(rule_label(r))}, "properties": {"metric": inert(r.metric)}}
    return list(out.values())


def _location(file: str, line: Any = None, row: Any = None) -> dict[str, Any]:
    phys: dict[str, Any] = {"artifactLocation": {"uri": uri(file)}}
    if isinstance(line, int) and line >= 1:
        phys["region"] = {"startLine": line}
    loc: dict[str, Any] = {"physicalLocation": phys}
    if line is None and isinstance(row, int):
        loc["message"] = {"text": f"row {row}"}
    return loc


def _level(res: ScanResult, rule: Any) -> str:
    if counts_against(res, rule):
        return "error"
    return "warning" if rule.status in ("warn", "inconclusive") else "note"


def render(result: ScanResult | dict) -> str:
    """The result as SARIF 2.1.0, one result per rule that did not pass, for code-scanning UIs."""
    res = as_result(result)
    rules = _descriptors(res)
    index = {d["id"]: i for i, d in enumerate(rules)}
    results = []
    for r in res.rules:
        if r.status not in ("fail", "warn", "inconclusive"):
            continue
        examples = flagged_records(res, r.metric, MAX_LOCATIONS)
        locations = [_location(e["file"], e.get("line"), e.get("row")) for e in examples]
        if not locations:
            locations = [_location(i.path) for i in res.inputs[:MAX_LOCATIONS]]
        results.append({
            "ruleId": inert(r.id), "ruleIndex": index[inert(r.id)] if inert(r.id) in index else index[r.id],
            "level": _level(res, r),
            "message": {"text": inert(f"{rule_label(r)} {STATUS_LABEL.get(r.status, r.status)}: {r.message} "
                                      f"(value {rule_value_text(r)})")},
            "locations": locations,
            "properties": {"status": r.status, "metric": inert(r.metric), "value": r.value,
                           "threshold": r.threshold, "op": r.op, "severity": r.severity,
                           **({"recordsFlagged": r.records_flagged} if r.records_flagged is not None else {})},
        })
    artifacts = []
    for i in res.inputs:
        a: dict[str, Any] = {"location": {"uri": uri(i.path)}}
        if i.size is not None:
            a["length"] = int(i.size)
        fp = i.fingerprint or {}
        if fp.get("algorithm") == "sha256" and fp.get("value"):
            a["hashes"] = {"sha-256": fp["value"]}
        artifacts.append(a)
    driver: dict[str, Any] = {"name": "collapse-audit", "rules": rules}
    if res.tool.get("version"):
        driver["version"] = str(res.tool["version"])
        driver["semanticVersion"] = str(res.tool["version"])
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "invocations": [{"executionSuccessful": True,
                         "properties": {"verdict": res.verdict, "summary": verdict_sentence(res)}}],
        "artifacts": artifacts,
        "results": results,
        "properties": {"policySha256": res.policy.get("sha256"), "seed": res.run.get("seed")},
    }
    doc = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json_safe(json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False)) + "\n"
