"""The result object: the one thing every renderer consumes, and exactly what ``--format json`` writes.

It is a plain JSON-able dict so that ``collapse-audit report result.json`` re-renders a past scan
with the very same code path. Schema (``schema_version`` 1)::

    schema_version: 1
    tool:     {name, version}
    run:      {started (ISO-8601 UTC), duration_s, workers, seed, argv}      # the only non-deterministic part
    inputs:   [{path, format: "jsonl"|"parquet", compression: null|"gz"|"zst", records, skipped}]
    records:  {total, skipped, skipped_examples: [{file, location, reason}]}
    detector: {name, version, threshold, validation: {...}, scored, sample}
    policy:   {path, sha256, fields: {text, id, provenance, source, license, ...}}
    metrics:  {"records.total": 123, "duplicates.exact_fraction": 0.02, ...}   # flat, dotted -> number
    sources:  {field: "source" | null, groups: {<source value>: {<metric>: number, ...}}}
    rules:    [{id, name, metric, op: "max"|"min", threshold, value, status: "pass"|"fail"|"warn",
                severity: "error"|"warning", message, where: {field: value} | null, records_flagged: int|null}]
    details:  {<check name>: {...}}       # examples, histograms, clusters for reports (see each check)
    verdict:  "pass" | "fail"

``details`` keys produced by the built-in checks:

    exact_duplicates: {groups: int, largest: [{size, file, row, excerpt}]}
    near_duplicates:  {cluster_sizes: {"2": n, "3": n, ...}, largest: [{size, members: [{file, row, excerpt}]}]}
    synthetic:        {histogram: {edges: [...21 floats], counts: [...20 ints]}, threshold,
                       top: [{file, row, score, provenance, excerpt}], estimate: {estimate, ci_low, ci_high, method}}
    provenance:       {values: {tag: count}, licenses: {license: count}, missing_examples: [{file, row, excerpt}],
                       disallowed_license_examples: [...], missing_required: {field: count}}
"""

from __future__ import annotations

import json
from typing import Any

SCHEMA_VERSION = 1
TOP_LEVEL_KEYS = (
    "schema_version", "tool", "run", "inputs", "skipped_inputs", "records", "detector", "policy",
    "metrics", "sources", "rules", "details", "verdict",
)


def to_json(result: dict[str, Any]) -> str:
    """Canonical JSON text: stable key order and formatting, so identical scans give identical bytes."""
    return json.dumps(result, indent=2, sort_keys=False, ensure_ascii=False, allow_nan=False) + "\n"


def load_result(path: str) -> dict[str, Any]:
    """Read a saved JSON result, refusing unknown schema versions with one clear sentence."""
    from ..errors import AuditError

    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise AuditError(f"Result file not found: {path}.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AuditError(f"{path} is not a readable collapse-audit JSON result ({exc}).") from None
    if not isinstance(data, dict) or "schema_version" not in data:
        raise AuditError(f"{path} is not a collapse-audit JSON result (no schema_version).")
    if data["schema_version"] != SCHEMA_VERSION:
        raise AuditError(
            f"{path} has schema_version {data['schema_version']!r}; this collapse-audit reads version {SCHEMA_VERSION}."
        )
    return data
