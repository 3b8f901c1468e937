"""Property: any bytes in a .jsonl / .jsonl.gz file become records or bad records with a location -
never another exception - and every non-blank line is accounted for (records + skipped = lines)."""

from __future__ import annotations

import gzip
import json

import pytest

from collapse_audit.errors import AuditError
from collapse_audit.readers import BadRecordSink, discover, iter_batches

hypothesis = pytest.importorskip("hypothesis")
st = pytest.importorskip("hypothesis.strategies")
HealthCheck, given, settings = hypothesis.HealthCheck, hypothesis.given, hypothesis.settings

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
_record_lines = st.one_of(
    st.fixed_dictionaries({"text": st.text(max_size=40)}, optional={"id": _json_values, "source": _json_values})
    .map(json.dumps),
    _json_values.map(json.dumps),
    st.binary(max_size=60).map(lambda b: b.decode("latin-1")),
    st.sampled_from(['{"text": "\\ud800"}', '{"text": "a\\u0000b"}', '{"text": "x"', "", "   ", "\r",
                     '\ufeff{"text": "bom"}', '{"text": "' + "[" * 50 + '"}', "[" * 50 + "]" * 50]),
)


def _read(path) -> tuple[int, BadRecordSink]:
    sink = BadRecordSink(max_bad=10**9)
    total = 0
    for batch in iter_batches(discover([str(path)]), "text", ["id", "source"], 7, sink):
        assert len(batch.texts) == len(batch.rows) == len(batch.fields["id"])
        assert all(isinstance(t, str) for t in batch.texts)
        total += len(batch)
    for bad in sink.examples:
        assert str(path) in bad.sentence() and ("line" in bad.sentence())
    return total, sink


def _nonblank_lines(data: bytes) -> int:
    # A UTF-8 byte-order mark opening the file is not content: the reader drops it from line 1.
    return sum(1 for line in data.removeprefix(b"\xef\xbb\xbf").split(b"\n") if line.strip())


@SETTINGS
@given(st.lists(_record_lines, max_size=30))
def test_jsonl_lines_are_records_or_located_bad_records(tmp_path, lines):
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    for name, payload in (("c.jsonl", data), ("c.jsonl.gz", gzip.compress(data, mtime=0))):
        path = tmp_path / name
        path.write_bytes(payload)
        total, sink = _read(path)
        assert total + sink.count == _nonblank_lines(data)


@SETTINGS
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_crash_the_reader(tmp_path, data):
    path = tmp_path / "c.jsonl"
    path.write_bytes(data)
    total, sink = _read(path)
    assert total + sink.count == _nonblank_lines(data)


@SETTINGS
@given(st.binary(max_size=600), st.integers(min_value=0, max_value=600))
def test_broken_gzip_is_a_located_error_never_a_crash(tmp_path, data, cut):
    path = tmp_path / "c.jsonl.gz"
    blob = gzip.compress(data, mtime=0)
    path.write_bytes(blob[: min(cut, len(blob))] if cut < len(blob) else data)  # truncated or not gzip at all
    try:
        _read(path)
    except AuditError as exc:
        assert str(path) in str(exc)


def test_a_deeply_nested_line_is_a_located_bad_record(tmp_path):
    data = ('{"text": "ok"}\n' + "[" * 200_000 + "]" * 200_000 + "\n").encode()
    path = tmp_path / "c.jsonl"
    path.write_bytes(data)
    total, sink = _read(path)
    assert (total, sink.count) == (1, 1)
    assert "line 2" in sink.examples[0].sentence()
