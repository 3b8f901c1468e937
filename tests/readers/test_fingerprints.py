"""Audit trail: each input's size and fingerprint, the same value for the same data."""

from __future__ import annotations

import gzip
import hashlib
import json

import pyarrow as pa
import pyarrow.parquet as pq
from pyarrow import feather

from .conftest import jsonl_bytes

RECORDS = [{"id": f"r{i}", "text": f"text number {i}", "source": None if i % 4 == 0 else f"s{i % 3}",
            "n": None if i % 5 == 0 else i, "score": i / 7} for i in range(50)]


def entry(read, path, **kw):
    r = read([path], **kw)
    return r.stats.entry(0)


def test_row_formats_hash_the_bytes_as_stored(tmp_path, read):
    plain = tmp_path / "a.jsonl"
    plain.write_bytes(jsonl_bytes(RECORDS))
    packed = tmp_path / "b.jsonl.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    array = tmp_path / "c.json"
    array.write_text(json.dumps(RECORDS))
    for path in (plain, packed, array):
        data = path.read_bytes()
        assert entry(read, path) == {"size": len(data), "fingerprint": {
            "algorithm": "sha256", "value": hashlib.sha256(data).hexdigest()}}


def test_trailing_bytes_after_the_last_record_are_covered(tmp_path, read):
    path = tmp_path / "a.csv"
    path.write_bytes(b"id,text\n1,a\n\n\n")
    data = path.read_bytes()
    assert entry(read, path)["fingerprint"]["value"] == hashlib.sha256(data).hexdigest()


def test_columnar_fingerprint_follows_the_audited_values_not_the_layout(tmp_path, read):
    table = pa.Table.from_pylist(RECORDS)
    pq.write_table(table, tmp_path / "a.parquet", row_group_size=7)
    pq.write_table(table, tmp_path / "b.parquet", row_group_size=50, compression="zstd")
    feather.write_feather(table, tmp_path / "c.feather")
    changed = table.set_column(1, "text", pa.array([*table.column("text").to_pylist()[:-1], "changed"]))
    pq.write_table(changed, tmp_path / "d.parquet")
    extra = table.append_column("unaudited", pa.array(range(50)))
    renumbered = table.set_column(3, "n", pa.array([None if i % 5 == 0 else i + 1 for i in range(50)]))
    pq.write_table(renumbered, tmp_path / "f.parquet", row_group_size=7)
    pq.write_table(extra, tmp_path / "e.parquet")
    prints = {name: entry(read, tmp_path / name, fields=("source", "n", "score"), batch_size=8)["fingerprint"]
              for name in ("a.parquet", "b.parquet", "c.feather", "d.parquet", "e.parquet", "f.parquet")}
    assert prints["a.parquet"]["algorithm"] == "columns-xxh3-128"
    assert prints["a.parquet"] == prints["b.parquet"] == prints["c.feather"] == prints["e.parquet"]
    assert prints["d.parquet"] != prints["a.parquet"]
    assert prints["f.parquet"] != prints["a.parquet"]  # one audited integer column changed
    other_fields = entry(read, tmp_path / "a.parquet", fields=("source", "n"))["fingerprint"]
    assert other_fields != prints["a.parquet"]  # the fingerprint says which columns were audited
    assert entry(read, tmp_path / "a.parquet")["size"] == (tmp_path / "a.parquet").stat().st_size


def test_scan_result_carries_size_fingerprint_and_skipped_inputs(tmp_path):
    from helpers import run_cli, words

    data = tmp_path / "data"
    data.mkdir()
    path = data / "a.jsonl"
    path.write_bytes(jsonl_bytes([{"id": i, "text": words(i), "provenance": "human"} for i in range(20)]))
    (data / "README.md").write_text("about")
    (data / "notes.txt").write_text("x")
    proc = run_cli("scan", data, "-q", "-f", "json")
    assert proc.returncode in (0, 1), proc.stderr
    result = json.loads(proc.stdout)
    raw = path.read_bytes()
    assert result["inputs"][0]["size"] == len(raw)
    assert result["inputs"][0]["fingerprint"] == {"algorithm": "sha256", "value": hashlib.sha256(raw).hexdigest()}
    assert result["skipped_inputs"] == [{"path": str(data / "README.md"), "reason": "metadata file"},
                                        {"path": str(data / "notes.txt"), "reason": "unsupported file type"}]
