"""Accepted findings: records a team has reviewed and accepted, left out of a rule's numerator.

This is how a gate is adopted on an old corpus: write the current findings once
(``scan --write-accept accepted.yaml``), commit the file, and from then on pass it with ``--accept``
(or the policy's ``accept:`` key) so only *new* problems fail. An accepted record leaves the
numerator of the rules it is accepted for; the raw metric stays in the report's metrics and each
rule says how many records were left out (``suppressed``).

The file (YAML, or JSON when it ends in ``.json``)::

    version: 1
    accepted:
      CA201:
        ids: [rec-17, rec-99]                        # the policy's id field
        records: [{file: data/part-0.jsonl, row: 4}] # records without an id: file (relative to
                                                     # this file) and 0-based row

Not to be confused with the drift ``--baseline`` profile, which is about the corpus as a whole.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import yaml

from ..documents import read_document
from ..errors import AuditError

ACCEPT_VERSION = 1


@dataclass
class Accepted:
    """Accepted findings per rule code: record ids and (real file path, row) pairs."""

    ids: dict[str, set[str]] = field(default_factory=dict)
    records: dict[str, set[tuple[str, int]]] = field(default_factory=dict)

    def codes(self) -> set[str]:
        """Every rule code with an accepted finding."""
        return set(self.ids) | set(self.records)


def _real(path: str, base: str) -> str:
    return os.path.realpath(path if os.path.isabs(path) else os.path.join(base, path))


def load_accepted(path: str) -> Accepted:
    """Read an accepted-findings file; any malformed entry is an error naming the file."""
    doc = read_document(path, "Accepted-findings file").value  # bounded, strict: no alias bomb, no duplicate key
    if not isinstance(doc, dict) or doc.get("version") != ACCEPT_VERSION or not isinstance(doc.get("accepted"), dict):
        raise AuditError(f"{path} is not an accepted-findings file (expected `version: 1` and an "
                         "`accepted:` mapping of rule codes; write one with `scan --write-accept`).")
    base = os.path.dirname(os.path.abspath(path))
    out = Accepted()
    for code, entry in doc["accepted"].items():
        code = str(code).upper()
        if not isinstance(entry, dict) or set(entry) - {"ids", "records"}:
            raise AuditError(f"{path}: the entry for {code} must be a mapping with `ids` and/or `records`.")
        ids = entry.get("ids") or []
        records = entry.get("records") or []
        if not isinstance(ids, list) or not isinstance(records, list):
            raise AuditError(f"{path}: `ids` and `records` of {code} must be lists.")
        out.ids[code] = {str(i) for i in ids}
        pairs: set[tuple[str, int]] = set()
        for r in records:
            if (not isinstance(r, dict) or not isinstance(r.get("file"), str)
                    or not isinstance(r.get("row"), int) or isinstance(r.get("row"), bool)):
                raise AuditError(f"{path}: each record accepted for {code} needs `file` (a path) and `row` "
                                 f"(an integer), not {r!r}.")
            pairs.add((_real(r["file"], base), int(r["row"])))
        out.records[code] = pairs
    return out


def accepted_masks(accepted: Accepted, files: Sequence[str], file_index: np.ndarray, rows: np.ndarray,
                   ids: Sequence[str | None]) -> dict[str, np.ndarray]:
    """Per rule code, which records (aligned with the scan's records) are accepted."""
    real = [os.path.realpath(f) for f in files]
    out: dict[str, np.ndarray] = {}
    for code in accepted.codes():
        wanted_ids = accepted.ids.get(code, set())
        wanted = accepted.records.get(code, set())
        mask = np.fromiter((i is not None and i in wanted_ids for i in ids), dtype=bool, count=len(ids))
        if wanted:
            by_file: dict[int, list[int]] = {}
            for f, row in wanted:
                for k, r in enumerate(real):
                    if r == f:
                        by_file.setdefault(k, []).append(row)
            for k, wanted_rows in by_file.items():
                mask |= (file_index == k) & np.isin(rows, np.asarray(wanted_rows, dtype=np.int64))
        out[code] = mask
    return out


def accepted_document(path: str, findings: Mapping[str, np.ndarray], files: Sequence[str], file_index: np.ndarray,
                   rows: np.ndarray, ids: Sequence[str | None]) -> dict[str, object]:
    """The accepted-findings document for ``findings`` (rule id -> flagged records), to be written at ``path``.

    Records with an id are listed by id (stable when rows move); the rest by file (relative to the
    accept file's directory) and row.
    """
    base = os.path.dirname(os.path.abspath(path))
    rel = [os.path.relpath(os.path.abspath(f), base) for f in files]
    accepted: dict[str, dict[str, list[object]]] = {}
    for code in sorted(findings):
        idx = np.flatnonzero(findings[code])
        if not len(idx):
            continue
        entry: dict[str, list[object]] = {"ids": [], "records": []}
        for i in idx.tolist():
            rid = ids[i]
            if rid is not None:
                entry["ids"].append(rid)
            else:
                entry["records"].append({"file": rel[int(file_index[i])], "row": int(rows[i])})
        accepted[code] = {k: v for k, v in entry.items() if v}
    doc: dict[str, object] = {"version": ACCEPT_VERSION, "accepted": accepted}
    return doc


def dump_accepted(path: str, doc: Mapping[str, object]) -> str:
    """The text of an accepted-findings document (JSON for ``.json`` paths, else YAML)."""
    if path.endswith(".json"):
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    header = "# Accepted findings: records reviewed and accepted; pass with `collapse-audit scan --accept FILE`.\n"
    return header + yaml.safe_dump(dict(doc), sort_keys=False, allow_unicode=True)
