"""Readers: every format, nested fields, directories and globs, streaming and input order."""

from __future__ import annotations

import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from collapse_audit.errors import AuditError
from collapse_audit.readers import BadRecordSink, discover, iter_batches


def records(n: int, offset: int = 0) -> list[dict]:
    return [{"id": f"r{offset + i}", "text": f"text number {offset + i}",
             "meta": {"provenance": "human" if i % 2 else "synthetic", "deep": {"source": f"s{i % 3}"}}}
            for i in range(n)]


def lines(recs) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in recs).encode()


def read_all(paths, fields=("meta.provenance", "meta.deep.source"), batch_size=4, max_bad=0):
    sink = BadRecordSink(max_bad)
    batches = list(iter_batches(discover([str(p) for p in paths]), "text", list(fields), batch_size, sink))
    return batches, sink


@pytest.mark.parametrize("name, writer", [
    ("a.jsonl", lambda p, data: p.write_bytes(data)),
    ("a.jsonl.gz", lambda p, data: p.write_bytes(gzip.compress(data))),
    ("a.jsonl.zst", lambda p, data: p.write_bytes(zstandard.ZstdCompressor().compress(data))),
])
def test_jsonl_variants_read_every_record_with_nested_fields(tmp_path, name, writer):
    path = tmp_path / name
    writer(path, lines(records(10)))
    batches, sink = read_all([path])
    texts = [t for b in batches for t in b.texts]
    assert texts == [f"text number {i}" for i in range(10)]
    prov = [v for b in batches for v in b.fields["meta.provenance"]]
    assert prov == ["synthetic", "human"] * 5
    assert [v for b in batches for v in b.fields["meta.deep.source"]][:3] == ["s0", "s1", "s2"]
    assert [b.start for b in batches] == [0, 4, 8]
    assert sink.count == 0


def test_parquet_nested_projection_and_rows(tmp_path):
    path = tmp_path / "a.parquet"
    pq.write_table(pa.Table.from_pylist(records(10)), path, row_group_size=3)
    batches, _ = read_all([path])
    assert [r for b in batches for r in b.rows] == list(range(10))
    assert [v for b in batches for v in b.fields["meta.deep.source"]][:4] == ["s0", "s1", "s2", "s0"]
    assert all(b.lines is None for b in batches)


def test_parquet_absent_metadata_field_is_none(tmp_path):
    path = tmp_path / "a.parquet"
    pq.write_table(pa.table({"text": ["a", "b"]}), path)
    batches, _ = read_all([path], fields=("provenance",))
    assert batches[0].fields["provenance"] == [None, None]


def test_directory_is_recursive_sorted_and_mixed(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "b.jsonl").write_bytes(lines(records(2, 10)))
    (tmp_path / "sub" / "a.parquet").write_bytes(b"")  # placeholder replaced below
    pq.write_table(pa.Table.from_pylist(records(3, 20)), tmp_path / "sub" / "a.parquet")
    (tmp_path / "ignore.txt").write_text("x")
    files = discover([str(tmp_path)])
    assert [f.path.split("/")[-1] for f in files] == ["b.jsonl", "a.parquet"]
    batches, _ = read_all([tmp_path])
    assert [t for b in batches for t in b.texts] == [f"text number {i}" for i in (10, 11, 20, 21, 22)]
    assert [b.file_index for b in batches] == [0, 1]


def test_glob_and_several_paths_keep_order_without_duplicates(tmp_path):
    for i in range(3):
        (tmp_path / f"p{i}.jsonl").write_bytes(lines(records(1, i)))
    files = discover([str(tmp_path / "p2.jsonl"), str(tmp_path / "p*.jsonl")])
    assert [f.path.split("/")[-1] for f in files] == ["p2.jsonl", "p0.jsonl", "p1.jsonl"]


def test_glob_matching_nothing_is_an_error(tmp_path):
    with pytest.raises(AuditError, match="No data files found"):
        discover([str(tmp_path / "*.jsonl")])


def test_blank_lines_are_not_records_and_rows_follow_lines(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"text": "a"}\n\n{"text": "b"}\n')
    batches, _ = read_all([path], fields=())
    assert batches[0].texts == ["a", "b"]
    assert batches[0].rows == [0, 2] and batches[0].lines == [1, 3]


def test_bad_records_are_counted_with_locations(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"text": "a"}\n{bad\n{"text": 1}\n{"text": "d"}\n')
    batches, sink = read_all([path], fields=(), max_bad=5)
    assert [t for b in batches for t in b.texts] == ["a", "d"]
    assert sink.count == 2
    assert [e.location for e in sink.examples] == ["line 2", "line 3"]


def test_large_parquet_is_streamed_in_batches(tmp_path):
    path = tmp_path / "big.parquet"
    n = 50_000
    pq.write_table(pa.table({"text": [f"t{i}" for i in range(n)]}), path, row_group_size=5_000)
    sink = BadRecordSink()
    sizes = [len(b) for b in iter_batches(discover([str(path)]), "text", [], 1024, sink)]
    assert sum(sizes) == n and max(sizes) <= 1024
