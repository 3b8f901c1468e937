"""Per-record facts the filter decides on, as compact numpy arrays (a few bytes per record, no texts).

They come from the scan's annotations (one row per audited record, in input order) plus one more
streaming pass over the inputs with the same readers, which (a) checks that the annotations belong
to these inputs record by record, (b) reads each record's source for per-source stratification and
(c) scores, with the policy's detector, every record the scan's sample left unscored.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..checks.provenance_tags import HUMAN, MISSING, SYNTHETIC, UNKNOWN
from ..config import FieldMap
from ..engine.annotations import INPUTS_KEY
from ..engine.sources import SourceIndex
from ..errors import AuditError
from ..readers import BadRecordSink, InputFile, InputStats, iter_batches

ANNOTATION_COLUMNS = ("file", "row", "id", "exact_group", "duplicate_of_row", "synthetic_score",
                      "provenance", "issues")


@dataclass
class RecordTable:
    """Everything the plan needs, one entry per audited record (global index = annotation row)."""

    files: list[str]              # input paths, by file index
    file_idx: np.ndarray          # int32
    row: np.ndarray               # int64, row within its file (JSONL: 0-based line index)
    ids: pa.Array                 # string ids (null where the policy has no id field)
    exact_group: np.ndarray       # int64, -1 when unique
    duplicate_of: np.ndarray      # int64, -1 for kept records and singletons
    score: np.ndarray             # float64, NaN when not scored
    tag: np.ndarray               # uint8 provenance class (MISSING/HUMAN/SYNTHETIC/UNKNOWN)
    issues: pa.ListArray          # rule ids per record, as the scan wrote them
    source: np.ndarray            # int32 source code per record
    source_names: list[str]       # by code
    bad_records: int = 0          # unreadable records the run tolerated (not in the table)
    bad_examples: list | None = None
    bad_per_file: dict | None = None

    def __len__(self) -> int:
        return len(self.row)

    def file_range(self, i: int) -> slice:
        """The records of input ``i``: a contiguous run, since records are in input order."""
        lo, hi = np.searchsorted(self.file_idx, [i, i + 1])
        return slice(int(lo), int(hi))

    def flagged_by(self, rule_id: str) -> np.ndarray:
        """Records whose ``issues`` list names ``rule_id``."""
        flat = self.issues.flatten()
        parents = pc.list_parent_indices(self.issues).to_numpy(zero_copy_only=False)
        hit = pc.equal(flat, rule_id).to_numpy(zero_copy_only=False)
        out = np.zeros(len(self), dtype=bool)
        out[parents[np.asarray(hit, dtype=bool)]] = True
        return out


def load_annotations(path: str, fields: FieldMap) -> dict:
    """The annotation columns the filter uses, validated, as arrays."""
    try:
        table = pq.read_table(path)
    except FileNotFoundError:
        raise AuditError(f"Annotations file not found: {path}.") from None
    except (pa.ArrowInvalid, OSError) as exc:
        raise AuditError(f"{path} is not a readable annotations Parquet file "
                         f"({str(exc).splitlines()[0][:160]}).") from None
    table = table.unify_dictionaries()   # row groups may carry their own 'file' dictionaries
    missing = [c for c in ANNOTATION_COLUMNS if c not in table.column_names]
    if missing:
        raise AuditError(f"{path} is not a scan annotations file: it lacks column(s) {', '.join(missing)} "
                         "(write one with `collapse-audit scan --annotations FILE`).")
    raw_inputs = (table.schema.metadata or {}).get(INPUTS_KEY)
    if raw_inputs is None:
        raise AuditError(f"{path} does not record the fingerprints of the inputs it was written from, so it "
                         "cannot be checked against the corpus; write it again with `collapse-audit scan "
                         "--annotations FILE`.")
    try:
        inputs = json.loads(raw_inputs)
    except ValueError:
        raise AuditError(f"{path}: its input fingerprints are damaged; write it again.") from None
    file_col = table.column("file").combine_chunks()
    if pa.types.is_dictionary(file_col.type):
        files = [str(x) for x in file_col.dictionary.to_pylist()]
        file_idx = file_col.indices.to_numpy(zero_copy_only=False).astype(np.int32)
    else:
        enc = pc.dictionary_encode(file_col)
        files = [str(x) for x in enc.dictionary.to_pylist()]
        file_idx = enc.indices.to_numpy(zero_copy_only=False).astype(np.int32)
    return {
        "path": path,
        "inputs": inputs if isinstance(inputs, list) else [],
        "files": files,
        "file_idx": file_idx,
        "row": _ints(table, "row", -1),
        "ids": table.column("id").combine_chunks().cast(pa.string()),
        "exact_group": _ints(table, "exact_group", -1),
        "duplicate_of": _ints(table, "duplicate_of_row", -1),
        "score": table.column("synthetic_score").combine_chunks().cast(pa.float64())
                      .to_numpy(zero_copy_only=False).astype(np.float64),
        "tag": classify_tag_column(table.column("provenance").combine_chunks(), fields),
        "issues": table.column("issues").combine_chunks(),
    }


def _ints(table: pa.Table, name: str, null: int) -> np.ndarray:
    col = table.column(name).combine_chunks().cast(pa.int64())
    return col.fill_null(null).to_numpy(zero_copy_only=False).astype(np.int64)


def classify_tag_column(tags: pa.Array, fields: FieldMap) -> np.ndarray:
    """Vectorised ``classify_tags`` over the annotations' tag text (same case-insensitive rule)."""
    tags = tags.cast(pa.string())
    norm = pc.utf8_lower(pc.utf8_trim_whitespace(tags))
    synthetic = pc.is_in(norm, value_set=pa.array([v.strip().lower() for v in fields.synthetic_values]))
    human = pc.is_in(norm, value_set=pa.array([v.strip().lower() for v in fields.human_values]))
    missing = pc.or_kleene(pc.is_null(norm), pc.equal(norm, "")).fill_null(True)
    out = np.full(len(tags), UNKNOWN, dtype=np.uint8)
    out[human.fill_null(False).to_numpy(zero_copy_only=False)] = HUMAN
    out[synthetic.fill_null(False).to_numpy(zero_copy_only=False)] = SYNTHETIC
    out[missing.to_numpy(zero_copy_only=False)] = MISSING
    return out


def read_records(files: list[InputFile], ann: dict, fields: FieldMap, batch_size: int, max_bad: int,
                 detector=None) -> RecordTable:
    """Stream the inputs once: align with the annotations, collect sources, score unscored records.

    ``detector`` is given when every record needs a score (capping by score); records the scan
    already scored keep the scan's score, so the filter and the scan agree on every shared record.
    """
    n = len(ann["row"])
    paths = [f.path for f in files]
    ann_files = ann["files"]
    sources = SourceIndex(fields.source)
    sink = BadRecordSink(max_bad=max_bad)
    stats = InputStats(tuple(fields.metadata_fields()))
    score = ann["score"]
    seen = 0
    for batch in iter_batches(files, fields.text, fields.metadata_fields(), batch_size, sink, stats):
        lo, hi = batch.start, batch.start + len(batch)
        if hi > n:
            raise AuditError(f"The annotations have {n} records but the inputs have more "
                             f"(first extra: {batch.where(n - lo)}); they come from another corpus.")
        rows = np.asarray(batch.rows, dtype=np.int64)
        fi = ann["file_idx"][lo:hi]
        same_file = _same_path(ann_files[int(fi[0])], batch.file) if len(fi) else True
        if not same_file or not (fi == fi[0]).all() or not np.array_equal(ann["row"][lo:hi], rows):
            bad = lo + int(np.argmax((ann["row"][lo:hi] != rows) | (fi != fi[0]))) if same_file else lo
            raise AuditError(f"The annotations do not match the inputs at record {bad} "
                             f"({batch.where(bad - lo)}); pass the same PATHs the scan read.")
        sources.observe(batch)
        if detector is not None:
            todo = np.flatnonzero(np.isnan(score[lo:hi]))
            if len(todo):
                score[lo + todo] = np.asarray(detector.score([batch.texts[i] for i in todo]), dtype=np.float64)
        seen = hi
    if seen != n:
        raise AuditError(f"The annotations have {n} records but the inputs have {seen}; "
                         "they come from another corpus or another --max-bad-records run.")
    _check_unchanged(ann, files, stats)
    remap = _file_positions(ann_files, paths)
    src = sources.array()
    names = sorted(sources.names, key=sources.names.__getitem__)
    if src is None:
        src, names = np.zeros(n, dtype=np.int32), ["(all)"]
    return RecordTable(
        files=paths, file_idx=remap[ann["file_idx"]] if n else ann["file_idx"], row=ann["row"], ids=ann["ids"],
        exact_group=ann["exact_group"], duplicate_of=ann["duplicate_of"], score=score, tag=ann["tag"],
        issues=ann["issues"], source=src, source_names=names, bad_records=sink.count,
        bad_examples=[b.to_json() for b in sink.examples], bad_per_file=dict(sink.per_file),
    )


def _check_unchanged(ann: dict, files: list[InputFile], stats: InputStats) -> None:
    """Refuse inputs whose size or byte fingerprint differs from the scan's: the same number of records
    with other content would make the annotations point at the wrong records. Column fingerprints
    (Parquet, Arrow) depend on the columns read, so for those only the size is compared."""
    if "inputs" not in ann:
        return
    for i, info in enumerate(files):
        then = next((e for e in ann["inputs"] if isinstance(e, dict) and _same_path(str(e.get("path")), info.path)),
                    None)
        if then is None:
            continue
        now = stats.entry(i)
        was_fp, now_fp = then.get("fingerprint") or {}, now.get("fingerprint") or {}
        same_kind = was_fp.get("algorithm") == now_fp.get("algorithm") != "columns-xxh3-128"
        changed = (then.get("size") is not None and now.get("size") is not None and then["size"] != now["size"]) \
            or (same_kind and was_fp.get("value") != now_fp.get("value"))
        if changed:
            what = ann.get("path", "the annotations")
            raise AuditError(f"The input {info.path} changed since the scan that wrote {what} "
                             f"(its {was_fp.get('algorithm', 'size')} differs), so the annotations would point at the "
                             "wrong records; scan it again.")


def _same_path(a: str, b: str) -> bool:
    return a == b or os.path.realpath(a) == os.path.realpath(b)


def _file_positions(ann_files: list[str], paths: list[str]) -> np.ndarray:
    """Input position of each file the annotations name (they may spell a path differently)."""
    out = []
    for name in ann_files:
        pos = next((i for i, p in enumerate(paths) if _same_path(name, p)), None)
        if pos is None:
            raise AuditError(f"The annotations name {name}, which is not among the inputs.")
        out.append(pos)
    return np.array(out, dtype=np.int32)
