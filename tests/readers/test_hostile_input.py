"""Truncated streams and hostile values are bad input or bad records - never a crash, never a
silently partial audit."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import json
import lzma
import zlib

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from collapse_audit.errors import AuditError
from collapse_audit.readers import jsonl as jsonl_module

from .conftest import jsonl_bytes

RECORDS = [{"id": i, "text": hashlib.sha256(str(i).encode()).hexdigest() * 3} for i in range(15000)]
DATA = jsonl_bytes(RECORDS)


@pytest.mark.parametrize("suffix, pack", [
    (".zst", lambda b: zstandard.ZstdCompressor().compress(b)),
    (".gz", gzip.compress), (".bz2", bz2.compress), (".xz", lzma.compress),
])
def test_truncated_stream_is_bad_input_naming_the_last_good_line(tmp_path, read, suffix, pack):
    packed = pack(DATA)
    path = tmp_path / f"c.jsonl{suffix}"
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(AuditError, match=r"c.jsonl.* is truncated or corrupt after line \d+ \(the last complete"):
        read([path], max_bad=100)


def test_small_truncated_zst_is_not_an_empty_input(tmp_path, read):
    packed = zstandard.ZstdCompressor().compress(DATA[:300])
    path = tmp_path / "c.jsonl.zst"
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(AuditError, match="truncated or corrupt before its first line"):
        read([path])


def test_concatenated_zst_frames_are_all_read(tmp_path, read):
    half = len(RECORDS) // 2
    c = zstandard.ZstdCompressor()
    path = tmp_path / "c.jsonl.zst"
    path.write_bytes(c.compress(jsonl_bytes(RECORDS[:half])) + c.compress(jsonl_bytes(RECORDS[half:])))
    assert len(read([path], batch_size=1000).texts) == len(RECORDS)


@pytest.mark.parametrize("line, where", [
    (r'{"id": 1, "text": "bad \ud800 x"}', "'text' holds a lone surrogate"),
    (r'{"id": "\udfff", "text": "x"}', "'id' holds a lone surrogate"),
    (r'{"id": 1, "text": "x", "meta": {"\ud800k": 1}}', "'meta.\\ud800k' holds a lone surrogate"),
])
def test_lone_surrogates_are_bad_records(tmp_path, read, line, where):
    path = tmp_path / "c.jsonl"
    path.write_bytes(jsonl_bytes([{"text": "ok"}, line, r'{"text": "pair \ud83d\ude00 fine"}']))
    r = read([path], fields=("id",), max_bad=1)
    assert r.texts == ["ok", "pair \U0001f600 fine"]
    assert r.bad[0].startswith(f"{path}, line 2: ") and where in r.bad[0]


def test_cesu_bytes_are_invalid_utf8(tmp_path, read):
    path = tmp_path / "c.jsonl"
    path.write_bytes(b'{"text": "ok"}\n{"text": "cesu \xed\xa0\x80"}\n')
    r = read([path], max_bad=1)
    assert r.texts == ["ok"] and "line 2: the line is not valid UTF-8" in r.bad[0]


def test_deep_nesting_is_a_bad_record(tmp_path, read):
    path = tmp_path / "c.jsonl"
    deep = '{"text": "x", "m": ' + "[" * 200_000 + "]" * 200_000 + "}"
    path.write_bytes(jsonl_bytes([{"text": "ok"}, deep]))
    r = read([path], max_bad=1)
    assert r.texts == ["ok"] and "nested too deeply" in r.bad[0]


def test_nesting_python_can_parse_but_not_safely_format_is_a_bad_record(tmp_path, read):
    path = tmp_path / "c.jsonl"
    nested = '{"text": "x", "source": ' + "[" * 500 + "]" * 500 + "}"
    wide = {"text": "y", "source": [[i] for i in range(300)]}  # many brackets, shallow: fine
    path.write_bytes(jsonl_bytes([{"text": "ok"}, nested, wide]))
    r = read([path], fields=("source",), max_bad=1)
    assert r.texts == ["ok", "y"]
    assert "line 2: the record is nested more than 100 levels deep" in r.bad[0]


def test_column_names_in_messages_are_inert(tmp_path, read):
    path = tmp_path / "c.parquet"
    pq.write_table(pa.table({"body\x1b[2J": ["x"]}), path)
    with pytest.raises(AuditError) as err:
        read([path])
    assert "\x1b" not in str(err.value) and "body\\x1b[2J" in str(err.value)


def test_overlong_line_is_a_bad_record_and_reading_goes_on(tmp_path, read, monkeypatch):
    monkeypatch.setattr(jsonl_module, "MAX_RECORD_BYTES", 1000)
    path = tmp_path / "c.jsonl.gz"
    co = zlib.compressobj(9, zlib.DEFLATED, 31)
    path.write_bytes(co.compress(b'{"text": "a"}\n{"text": "' + b" " * 50_000 + b'"}\n{"text": "b"}\n') + co.flush())
    r = read([path], max_bad=1)
    assert r.texts == ["a", "b"]
    assert "line 2: the line is longer than" in r.bad[0]


def invalid_utf8_strings(values: list[bytes]) -> pa.Array:
    return pa.Array.from_buffers(pa.string(), len(values), pa.array(values, pa.binary()).buffers())


def test_invalid_utf8_in_parquet_text_and_field_columns_are_bad_rows(tmp_path, read):
    path = tmp_path / "c.parquet"
    table = pa.table({"text": invalid_utf8_strings([b"ok", b"caf\xe9", b"fine", b"also"]),
                      "source": invalid_utf8_strings([b"a", b"b", b"c", b"\xff"])})
    pq.write_table(table, path)
    r = read([path], fields=("source",), max_bad=2)
    assert r.texts == ["ok", "fine"] and r.rows == [0, 2]
    assert r.bad == [f"{path}, row 1: the text field 'text' is not valid UTF-8 (byte 3)",
                     f"{path}, row 3: field 'source' is not valid UTF-8 (byte 0)"]


def test_surrogate_tolerated_end_to_end(tmp_path):
    from helpers import run_cli

    path = tmp_path / "c.jsonl"
    good = [json.dumps({"id": i, "text": f"distinct words for record {i}", "provenance": "human"}) for i in range(5)]
    path.write_text("\n".join([*good[:2], r'{"id": "\ud800", "text": "x"}', *good[2:]]) + "\n")
    proc = run_cli("scan", path, "-q", "-f", "json")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"{path}, line 3" in proc.stderr and "lone surrogate" in proc.stderr
    proc = run_cli("scan", path, "-q", "-f", "json", "--max-bad-records", "1")
    assert proc.returncode in (0, 1), proc.stderr
    result = json.loads(proc.stdout)
    assert result["records"] == {"total": 5, "skipped": 1, "skipped_examples": [
        {"file": str(path), "location": "line 3",
         "reason": "'id' holds a lone surrogate (an unpaired \\uD800-\\uDFFF escape), which is not valid Unicode"}]}
