"""Accepted findings: records a team has reviewed and accepted, left out of a rule's numerator.

This is how a gate is adopted on an old corpus: write the current findings once
(``scan --write-accept accepted.yaml``), commit the file, and from then on pass it with ``--accept``
(or the policy's ``accept:`` key) so only *new* problems fail. An accepted record leaves the
numerator of the rules it is accepted for; the raw metric stays in the report's metrics and each
rule says how many records were left out (``suppressed``).

Every accepted record is bound to its content: the ``fingerprint`` is the record's exact-duplicate
key (xxh3-128 of its NFC, whitespace-collapsed text), and a record is accepted only when both its
fingerprint and its place match - its id, or (records without an id) its file and row. A new record
that reuses an accepted id, or shifts into an accepted row, has other content and stays a finding.
The file (YAML, or JSON when it ends in ``.json``)::

    version: 2
    accepted:
      CA201:
        - {fingerprint: 5f0c...e1, id: rec-17}                        # the policy's id field
        - {fingerprint: 9a41...07, file: data/part-0.jsonl, row: 4}   # no id: file (relative to this
                                                                      # file) and 0-based row

Version 1 files (ids and rows without fingerprints) are refused: write them again with
``--write-accept``. Not to be confused with the drift ``--baseline`` profile, which is about the
corpus as a whole.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import yaml

from ..documents import read_document
from ..errors import AuditError

ACCEPT_VERSION = 2
_HEX = re.compile(r"[0-9a-f]{32}")
Fingerprint = tuple[int, int]


@dataclass
class Accepted:
    """Accepted findings per rule code: (fingerprint, id) and (fingerprint, real file path, row) keys."""

    ids: dict[str, set[tuple[Fingerprint, str]]] = field(default_factory=dict)
    records: dict[str, set[tuple[Fingerprint, str, int]]] = field(default_factory=dict)

    def codes(self) -> set[str]:
        """Every rule code with an accepted finding."""
        return set(self.ids) | set(self.records)


def _real(path: str, base: str) -> str:
    return os.path.realpath(path if os.path.isabs(path) else os.path.join(base, path))


def fingerprint_text(fp: Sequence[int] | np.ndarray) -> str:
    """A record's (high, low) 64-bit key pair as 32 hex digits."""
    return f"{int(fp[0]):016x}{int(fp[1]):016x}"


def load_accepted(path: str) -> Accepted:
    """Read an accepted-findings file; any malformed entry is an error naming the file."""
    doc = read_document(path, "Accepted-findings file").value  # bounded, strict: no alias bomb, no duplicate key
    if isinstance(doc, dict) and doc.get("version") == 1:
        raise AuditError(f"{path} is a version 1 accepted-findings file: it names records by id or row only, which "
                         "new records can reuse; write it again with `collapse-audit scan --write-accept FILE`.")
    if not isinstance(doc, dict) or doc.get("version") != ACCEPT_VERSION or not isinstance(doc.get("accepted"), dict):
        raise AuditError(f"{path} is not an accepted-findings file (expected `version: {ACCEPT_VERSION}` and an "
                         "`accepted:` mapping of rule codes; write one with `scan --write-accept`).")
    base = os.path.dirname(os.path.abspath(path))
    out = Accepted()
    for code, entries in doc["accepted"].items():
        code = str(code).upper()
        if not isinstance(entries, list):
            raise AuditError(f"{path}: the entry for {code} must be a list of accepted records.")
        ids, pairs = out.ids.setdefault(code, set()), out.records.setdefault(code, set())
        for r in entries:
            fp = _entry_fingerprint(path, code, r)
            if "id" in r and set(r) == {"fingerprint", "id"} and isinstance(r["id"], (str, int)):
                ids.add((fp, str(r["id"])))
            elif (set(r) == {"fingerprint", "file", "row"} and isinstance(r["file"], str)
                  and type(r["row"]) is int and r["row"] >= 0):
                pairs.add((fp, _real(r["file"], base), r["row"]))
            else:
                raise AuditError(f"{path}: each record accepted for {code} needs `fingerprint` and either `id` or "
                                 f"`file` and `row` (an integer >= 0), not {r!r}.")
    return out


def _entry_fingerprint(path: str, code: str, r: object) -> Fingerprint:
    fp = r.get("fingerprint") if isinstance(r, dict) else None
    if not isinstance(fp, str) or not _HEX.fullmatch(fp):
        raise AuditError(f"{path}: each record accepted for {code} needs a `fingerprint` of 32 hex digits "
                         f"(written by `scan --write-accept`), not {r!r}.")
    return int(fp[:16], 16), int(fp[16:], 16)


def accepted_masks(accepted: Accepted, files: Sequence[str], file_index: np.ndarray, rows: np.ndarray,
                   ids: Sequence[str | None], fps: np.ndarray) -> dict[str, np.ndarray]:
    """Per rule code, which records (aligned with the scan's records) are accepted: their content
    fingerprint and their id (or file and row) both match an entry."""
    real = [os.path.realpath(f) for f in files]
    fps = np.asarray(fps, dtype=np.uint64).reshape(-1, 2)
    out: dict[str, np.ndarray] = {}
    for code in accepted.codes():
        by_id, by_row = accepted.ids.get(code, set()), accepted.records.get(code, set())
        mask = np.zeros(len(ids), dtype=bool)
        wanted_hi = np.array([fp[0] for fp, _ in by_id] + [fp[0] for fp, _, _ in by_row], dtype=np.uint64)
        for i in np.flatnonzero(np.isin(fps[:, 0], wanted_hi)).tolist():  # candidates only, then exact keys
            fp = (int(fps[i, 0]), int(fps[i, 1]))
            rid = ids[i]
            mask[i] = ((rid is not None and (fp, rid) in by_id)
                       or (fp, real[int(file_index[i])], int(rows[i])) in by_row)
        out[code] = mask
    return out


def accepted_document(path: str, findings: Mapping[str, np.ndarray], files: Sequence[str], file_index: np.ndarray,
                      rows: np.ndarray, ids: Sequence[str | None], fps: np.ndarray) -> dict[str, object]:
    """The accepted-findings document for ``findings`` (rule id -> flagged records), to be written at ``path``.

    Each record is listed with its content fingerprint and its id (stable when rows move), or, without
    an id, its file (relative to the accept file's directory) and row.
    """
    base = os.path.dirname(os.path.abspath(path))
    rel = [os.path.relpath(os.path.abspath(f), base) for f in files]
    fps = np.asarray(fps, dtype=np.uint64).reshape(-1, 2)
    accepted: dict[str, list[dict[str, object]]] = {}
    for code in sorted(findings):
        idx = np.flatnonzero(findings[code])
        if not len(idx):
            continue
        entries: list[dict[str, object]] = []
        for i in idx.tolist():
            entry: dict[str, object] = {"fingerprint": fingerprint_text(fps[i])}
            if ids[i] is not None:
                entry["id"] = ids[i]
            else:
                entry.update(file=rel[int(file_index[i])], row=int(rows[i]))
            entries.append(entry)
        accepted[code] = entries
    doc: dict[str, object] = {"version": ACCEPT_VERSION, "accepted": accepted}
    return doc


def dump_accepted(path: str, doc: Mapping[str, object]) -> str:
    """The text of an accepted-findings document (JSON for ``.json`` paths, else YAML)."""
    if path.endswith(".json"):
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    header = "# Accepted findings: records reviewed and accepted; pass with `collapse-audit scan --accept FILE`.\n"
    return header + yaml.safe_dump(dict(doc), sort_keys=False, allow_unicode=True)
