"""Remote inputs against a real S3-compatible server started on localhost (moto's server mode).

The readers talk to it through s3fs exactly as they would to S3: listing, ranged reads, ETags.
"""

from __future__ import annotations

import json
import os
import socket

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

pytest.importorskip("moto.server", reason="moto[server] is not installed (pip install collapse-audit[test])")
pytest.importorskip("s3fs", reason="s3fs is not installed (pip install collapse-audit[remote])")

from collapse_audit.errors import AuditError
from collapse_audit.readers import discover, discover_inputs, storage

from .conftest import jsonl_bytes


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """(endpoint env, boto3 client, local copy of what was uploaded to s3://corpus/data/)."""
    import boto3
    import fsspec
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    fsspec.filesystem("s3").clear_instance_cache()
    from helpers import words

    local = tmp_path_factory.mktemp("corpus")
    recs = [{"id": i, "text": words(i % 30), "provenance": "human" if i % 3 else "synthetic", "source": f"s{i % 2}"}
            for i in range(60)]
    (local / "a.jsonl").write_bytes(jsonl_bytes(recs[:30]))
    (local / "sub").mkdir()
    pq.write_table(pa.Table.from_pylist(recs[30:]), local / "sub" / "b.parquet", row_group_size=7)
    (local / "notes.txt").write_text("not data")
    client = boto3.client("s3")
    client.create_bucket(Bucket="corpus")
    for path in sorted(p for p in local.rglob("*") if p.is_file()):
        client.put_object(Bucket="corpus", Key=f"data/{path.relative_to(local)}", Body=path.read_bytes())
    yield env, client, local
    server.stop()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    fsspec.filesystem("s3").clear_instance_cache()


def test_remote_directory_lists_like_the_local_copy(s3):
    _, _, local = s3
    remote = discover_inputs(["s3://corpus/data/"])
    assert [f.path for f in remote.files] == ["s3://corpus/data/a.jsonl", "s3://corpus/data/sub/b.parquet"]
    assert [f.format for f in remote.files] == [f.format for f in discover([str(local)])]
    assert [(s.path, s.reason) for s in remote.skipped] == [("s3://corpus/data/notes.txt", "unsupported file type")]
    assert all(f.version for f in remote.files)  # ETags
    assert [f.path for f in discover(["s3://corpus/data/*.jsonl"])] == ["s3://corpus/data/a.jsonl"]


def test_remote_scan_gives_the_same_metrics_as_the_local_copy(s3):
    from helpers import run_cli

    env, _, local = s3
    results = []
    for target in (str(local), "s3://corpus/data/"):
        proc = run_cli("scan", target, "-q", "-f", "json", "--workers", "1", env=env)
        assert proc.returncode in (0, 1), proc.stderr
        results.append(json.loads(proc.stdout))
    here, there = results
    assert there["metrics"] == here["metrics"]
    assert there["records"] == here["records"]
    assert [i["fingerprint"]["algorithm"] for i in there["inputs"]] == ["etag", "etag"]
    assert [i["size"] for i in there["inputs"]] == [i["size"] for i in here["inputs"]]
    assert "testing" not in json.dumps(there)  # credentials never reach the report


@pytest.mark.parametrize("url", ["s3://corpus/data/missing.jsonl", "s3://no-such-bucket/data/"])
def test_missing_object_or_bucket_is_exit_2_naming_it(s3, url):
    from helpers import run_cli

    env, _, _ = s3
    proc = run_cli("scan", url, "-q", env=env)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert url in proc.stderr


def test_object_that_cannot_be_read_is_bad_input(s3, read):
    _env, client, local = s3
    data = (local / "a.jsonl").read_bytes()
    import gzip

    packed = gzip.compress(data)
    client.put_object(Bucket="corpus", Key="broken/c.jsonl.gz", Body=packed[: len(packed) // 2])
    with pytest.raises(AuditError, match=r"s3://corpus/broken/c.jsonl.gz is truncated or corrupt"):
        read(["s3://corpus/broken/"])


def test_transient_errors_are_retried_then_reported(monkeypatch):
    monkeypatch.setattr(storage, "BACKOFF_S", 0)
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("connection reset")
        return "ok"

    assert storage.retrying("s3://b/k", flaky) == "ok" and len(calls) == 3

    def always():
        raise TimeoutError("timed out")

    with pytest.raises(AuditError, match=r"Cannot read s3://b/k \(timed out\)"):
        storage.retrying("s3://b/k", always)

    def missing():
        calls.append(1)
        raise FileNotFoundError(2, "No such key")

    calls.clear()
    with pytest.raises(AuditError, match="No such key"):
        storage.retrying("s3://b/k", missing)
    assert len(calls) == 1  # a missing object is not retried


def test_unknown_protocol_is_a_clear_error():
    with pytest.raises(AuditError, match="nosuchproto://x/y"):
        discover(["nosuchproto://x/y"])



def test_a_read_that_fails_midway_resumes_at_the_same_offset(monkeypatch):
    """The retry logic itself (the S3 tests above use the real server): a connection dropped in the
    middle of an object is reopened at the byte where it broke, so no byte is lost or repeated."""
    import io

    monkeypatch.setattr(storage, "BACKOFF_S", 0)
    payload = bytes(range(256)) * 1000
    opened = []

    class Flaky(io.BytesIO):
        def read(self, n=-1):
            if len(opened) == 1 and self.tell() >= 50_000:
                raise ConnectionResetError("connection reset by peer")
            return super().read(min(n, 8192) if n and n > 0 else n)

    class FakeFS:
        def open(self, key, mode):
            opened.append(key)
            return Flaky(payload)

    monkeypatch.setattr(storage, "filesystem", lambda url: (FakeFS(), "bucket/key"))
    with storage.RemoteFile("s3://bucket/key") as fh:
        data = io.BufferedReader(fh).read()
    assert data == payload and len(opened) == 2
