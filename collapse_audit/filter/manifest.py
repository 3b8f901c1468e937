"""The filter's manifest: every removed record with its reason (``removed.parquet``) and a summary
(``manifest.json``): counts per reason and per source, kept / removed / tolerated-bad, the expected
synthetic share of the output with its interval, the policy hash and the tool version.

Built from the plan's per-record arrays at the end; only removed records become rows.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..readers import InputFile
from ..version import __version__
from .plan import BASES, Plan
from .records import RecordTable

EXAMPLES = 5


def removed_table(records: RecordTable, plan: Plan) -> pa.Table:
    """One row per removed record: where it was, which rule removed it, and why within that rule."""
    idx = np.flatnonzero(~plan.kept)
    sel = pa.array(idx, type=pa.int64())
    dup = records.duplicate_of[idx]
    score = records.score[idx]
    return pa.table({
        "file": pa.DictionaryArray.from_arrays(pa.array(records.file_idx[idx], type=pa.int32()),
                                               pa.array(records.files, type=pa.string())),
        "row": pa.array(records.row[idx], type=pa.int64()),
        "id": records.ids.take(sel),
        "reason": pa.DictionaryArray.from_arrays(pa.array(plan.reason[idx].astype(np.int32) - 1),
                                                 pa.array(plan.reasons or [""], type=pa.string())),
        "basis": pa.DictionaryArray.from_arrays(pa.array(plan.basis[idx].astype(np.int32)),
                                                pa.array(list(BASES), type=pa.string())),
        "source": pa.DictionaryArray.from_arrays(pa.array(records.source[idx], type=pa.int32()),
                                                 pa.array(records.source_names, type=pa.string())),
        "record": pa.array(idx, type=pa.int64()),
        "duplicate_of_row": pa.array(dup, type=pa.int64(), mask=dup < 0),
        "synthetic_score": pa.array(score, type=pa.float64(), mask=np.isnan(score)),
    })


def summary(records: RecordTable, plan: Plan, files: list[InputFile], *, policy: dict, validated: tuple,
            outputs: list[dict], quarantine: list[dict] | None, bad_per_file: dict[str, int]) -> dict[str, Any]:
    """The manifest's JSON: record counts per rule and per source, outputs, and the synthetic cap applied."""
    kept = plan.kept
    n = len(records)
    by_reason = {r: int((plan.reason == i + 1).sum()) for i, r in enumerate(plan.reasons)}
    by_source: dict[str, Any] = {}
    for code, name in enumerate(records.source_names):
        in_src = records.source == code
        total = int(in_src.sum())
        if not total:
            continue
        by_source[name] = {
            "records": total, "kept": int((kept & in_src).sum()), "removed": int((~kept & in_src).sum()),
            "removed_by_reason": {r: c for i, r in enumerate(plan.reasons)
                                  if (c := int(((plan.reason == i + 1) & in_src).sum()))},
        }
    per_file = []
    for i, f in enumerate(files):
        mine = kept[records.file_range(i)]
        per_file.append({"path": f.path, "format": f.format, "compression": f.compression,
                         "records": len(mine), "kept": int(mine.sum()), "removed": int((~mine).sum()),
                         "tolerated_bad": int(bad_per_file.get(f.path, 0))})
    out: dict[str, Any] = {
        "tool": {"name": "collapse-audit", "version": __version__},
        "policy": policy,
        "records": {"input": n + records.bad_records, "audited": n, "kept": int(kept.sum()),
                    "removed": int((~kept).sum()), "tolerated_bad": records.bad_records,
                    "tolerated_bad_examples": records.bad_examples or []},
        "removed_by_reason": by_reason,
        "by_source": by_source,
        "inputs": per_file,
        "rules": {"acted_on": plan.acted_on, "not_acted_on": plan.ignored},
        "synthetic_cap": cap_summary(plan, validated),
        "outputs": outputs,
    }
    if quarantine is not None:
        out["quarantine"] = quarantine
    return out


def cap_summary(plan: Plan, validated: tuple) -> dict | None:
    """What the synthetic-share cap did and whether the estimate behind it was validated; None without a cap."""
    cap = plan.cap
    if cap is None:
        return None
    return {
        "cap": cap.cap,
        "estimate_validated": {"validated": bool(validated[0]), "reason": validated[1]},
        "declared_synthetic": cap.declared_total,
        "declared_synthetic_kept": cap.declared_kept,
        "removed_declared": int(cap.removed_declared.sum()),
        "removed_by_score": int(cap.removed_scored.sum()),
        "flagged_by_detector": cap.flagged_total,
        "expected_share_before": cap.before,
        "expected_share_output": cap.expected,
        "cap_reachable": cap.reachable,
        "note": cap.note or None,
        "method": ("expected synthetic among kept = estimated synthetic (adjusted classify-and-count on the "
                   "pre-filter scores) minus expected true positives removed; 95% parametric bootstrap "
                   "interval over the flagged share and the detector's validated tpr/fpr"),
    }


def write_manifest(staged, table: pa.Table, info: dict) -> tuple[str, str]:
    """Write removed.parquet and manifest.json under ``.manifest/`` of the staged output; their paths."""
    removed = staged.path(".manifest/removed.parquet")
    pq.write_table(table, removed)
    summary_path = staged.path(".manifest/manifest.json")
    with open(summary_path, "w", encoding="utf-8") as fh:
        json.dump(info, fh, indent=2, sort_keys=False)
        fh.write("\n")
    return removed, summary_path


def examples(records: RecordTable, plan: Plan, per_reason: int = EXAMPLES) -> dict[str, list[str]]:
    """The first few removed records of each reason, as 'file:line (id) - basis' strings."""
    out: dict[str, list[str]] = {}
    for i, r in enumerate(plan.reasons):
        idx = np.flatnonzero(plan.reason == i + 1)[:per_reason]
        rows = []
        for k in idx.tolist():
            where = _where(records, k)
            rid = records.ids[k].as_py()
            extra = BASES[int(plan.basis[k])]
            if plan.basis[k] == BASES.index("near duplicate") and records.duplicate_of[k] >= 0:
                extra += f" of {_where(records, int(records.duplicate_of[k]))}"
            if plan.basis[k] == BASES.index("detector score"):
                extra += f" {records.score[k]:.3f}"
            rows.append(f"{where}{f' (id {rid})' if rid is not None else ''}: {extra}")
        if len(idx):
            out[r] = rows
    return out


def _where(records: RecordTable, k: int) -> str:
    """'file:line' for JSONL, 'file row N' for Parquet: how the scan's messages name a record."""
    f = records.files[int(records.file_idx[k])]
    if f.lower().endswith((".parquet", ".pq")):
        return f"{f} row {int(records.row[k])}"
    return f"{f}:{int(records.row[k]) + 1}"
