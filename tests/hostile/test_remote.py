"""Remote inputs under hostile conditions: credentials in URLs, endpoints that never answer, an S3
object that is also a prefix. Against moto's S3 server on localhost, a local HTTP server and a
socket that accepts and never answers - the tool must end with one line, never hang, never leak.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import socket
import threading

import pyarrow.parquet as pq
import pytest

pytest.importorskip("moto.server", reason="moto[server] is not installed (pip install collapse-audit[test])")
pytest.importorskip("s3fs", reason="s3fs is not installed (pip install collapse-audit[remote])")

from helpers import run_cli, words

from collapse_audit.errors import AuditError
from collapse_audit.readers import storage
from collapse_audit.reports.formats import FORMATS

from .conftest import (
    CANARY_ENV_SECRET,
    CANARY_KEY,
    CANARY_SECRET,
    CANARY_SIGNATURE,
    assert_no_canary,
    assert_one_clean_line,
)

RECORDS = [{"id": f"r{i}", "text": words(i), "provenance": "human", "source": "web"} for i in range(40)]
BODY = "".join(json.dumps(r) + "\n" for r in RECORDS).encode()
BOTH = "".join(json.dumps({**r, "id": f"both-{r['id']}", "text": r["text"] + " outer"}) + "\n"
               for r in RECORDS[:10]).encode()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3():
    """Environment for a moto S3 server holding corpus/a.jsonl, both.jsonl and both.jsonl/inner.jsonl."""
    import boto3
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": CANARY_ENV_SECRET,
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}
    client = boto3.client("s3", aws_access_key_id="testing", aws_secret_access_key="x", region_name="us-east-1",
                          endpoint_url=env["AWS_ENDPOINT_URL"])
    client.create_bucket(Bucket="corpus")
    client.put_object(Bucket="corpus", Key="a.jsonl", Body=BODY)
    client.put_object(Bucket="corpus", Key="both.jsonl", Body=BOTH)
    client.put_object(Bucket="corpus", Key="both.jsonl/inner.jsonl", Body=BODY)
    yield env
    server.stop()


@pytest.fixture(scope="module")
def http_corpus(tmp_path_factory):
    """A local HTTP server serving a.jsonl (query strings and credentials are ignored by it)."""
    root = tmp_path_factory.mktemp("www")
    (root / "a.jsonl").write_bytes(BODY)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def black_hole():
    """A TCP endpoint that accepts connections and never answers (a firewalled or dead service)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    held: list = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()
    yield f"127.0.0.1:{sock.getsockname()[1]}"
    stop.set()
    for c in held:
        c.close()
    sock.close()


def _all_outputs(tmp_path, url, env, *extra):
    """Every report format, the annotations file and every stderr line of scans of ``url``."""
    texts = []
    for fmt in FORMATS:
        out = tmp_path / f"report-{fmt}"
        proc = run_cli("scan", url, "-q", "-w", "1", "--exit-zero", "-f", fmt, "-o", out,
                       "--annotations", tmp_path / f"ann-{fmt}.parquet", *extra, env=env)
        assert proc.returncode == 0, proc.stderr
        texts += [proc.stdout, proc.stderr, out.read_bytes()]
        table = pq.read_table(tmp_path / f"ann-{fmt}.parquet")
        texts.append(json.dumps(table.to_pylist(), default=str))
    return texts


# ---- credentials --------------------------------------------------------------------------------

@pytest.mark.parametrize("redact", [[], ["--redact", "ids"]])
def test_user_and_password_in_an_http_url_reach_no_output(tmp_path, http_corpus, redact):
    secret = CANARY_SECRET.replace("/", "%2F").replace("+", "%2B")
    url = f"http://{CANARY_KEY}:{secret}@{http_corpus}/a.jsonl"
    texts = _all_outputs(tmp_path, url, {"AWS_SECRET_ACCESS_KEY": CANARY_ENV_SECRET}, *redact)
    assert_no_canary(*texts)
    result = json.loads((tmp_path / "report-json").read_text())
    assert result["records"]["total"] == len(RECORDS)   # the URL was read, credentials and all
    if not redact:
        assert result["inputs"][0]["path"] == f"http://***@{http_corpus}/a.jsonl"


def test_a_signed_url_is_refused_without_its_signature(http_corpus):
    url = f"http://{http_corpus}/a.jsonl?X-Amz-Signature={CANARY_SIGNATURE}&X-Amz-Credential={CANARY_KEY}"
    proc = run_cli("scan", url, "-q")
    assert proc.returncode == 2
    assert_one_clean_line(proc.stderr, f"http://{http_corpus}/a.jsonl?X-Amz-Signature=***&X-Amz-Credential=***")
    assert_no_canary(proc.stderr, proc.stdout)


@pytest.mark.parametrize("key", ["a.jsonl", "missing.jsonl"])
def test_credentials_in_an_s3_url_are_not_in_the_error(s3, key):
    """s3fs takes no credentials from the URL: the scan stops, and says so without them."""
    url = f"s3://{CANARY_KEY}:{CANARY_SECRET}@corpus/{key}"
    proc = run_cli("scan", url, "-q", env=s3)
    assert proc.returncode == 2
    line = assert_one_clean_line(proc.stderr, f"s3://***@corpus/{key}")
    assert_no_canary(line, proc.stdout)


def test_environment_credentials_never_appear_in_an_error(s3):
    proc = run_cli("scan", "s3://no-such-bucket/x.jsonl", "-q", env=s3)
    assert proc.returncode == 2
    assert_one_clean_line(proc.stderr, "s3://no-such-bucket/x.jsonl")
    assert_no_canary(proc.stderr, proc.stdout)


@pytest.mark.parametrize("text, shown", [
    ("s3://KEY:SECRET@bucket/x.jsonl", "s3://***@bucket/x.jsonl"),
    ("Cannot read http://user:pass@host:9/a.jsonl (refused)", "Cannot read http://***@host:9/a.jsonl (refused)"),
    ("https://h/x?X-Amz-Signature=abc&X-Amz-Credential=AK%2F1#f", "https://h/x?X-Amz-Signature=***&X-Amz-Credential=***#f"),
    ("https://token@h/x", "https://***@h/x"),
    ("s3://K:S/R+T@b/k", "s3://***@b/k"),                      # a secret key with '/' and '+'
    ("<a href=\"https://h/x?a=1&amp;sig=2\">", "<a href=\"https://h/x?a=***&amp;sig=***\">"),
    # valid but odd: nothing secret, nothing hidden
    ("s3://bucket/me@example.com/x.jsonl", "s3://bucket/me@example.com/x.jsonl"),
    ("data/a:b@c.jsonl", "data/a:b@c.jsonl"),
    ("hf://datasets/org/name/train.parquet", "hf://datasets/org/name/train.parquet"),
])
def test_urls_are_shown_without_their_credentials(text, shown):
    assert storage.hide_url_secrets(text) == shown


# ---- hangs --------------------------------------------------------------------------------------

def test_s3_endpoint_that_never_answers_ends_with_one_line(black_hole):
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": CANARY_ENV_SECRET,
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": f"http://{black_hole}", storage.TIMEOUT_ENV: "2"}
    proc = run_cli("scan", "s3://corpus/a.jsonl", "-q", env=env)
    assert proc.returncode == 2
    assert_one_clean_line(proc.stderr, "s3://corpus/a.jsonl")
    assert_no_canary(proc.stderr)


def test_a_filesystem_that_blocks_on_first_contact_is_given_up(monkeypatch):
    import fsspec
    from fsspec.spec import AbstractFileSystem

    class HangingFS(AbstractFileSystem):
        """First contact never returns (a cloud SDK probing a metadata server that is not there,
        as gcsfs does without network)."""

        protocol = "hang"

        def __init__(self, *args, **kwargs):
            threading.Event().wait()

    fsspec.register_implementation("hang", HangingFS, clobber=True)
    monkeypatch.setenv(storage.TIMEOUT_ENV, "0.5")
    with pytest.raises(AuditError, match=r"No answer from hang://bucket/x.jsonl within 0.5 s .*"
                                         + storage.TIMEOUT_ENV):
        storage.filesystem("hang://bucket/x.jsonl")


@pytest.mark.parametrize("value", ["0", "-3", "soon", "nan", "1e9"])
def test_a_bad_remote_timeout_is_a_usage_error(value, monkeypatch):
    monkeypatch.setenv(storage.TIMEOUT_ENV, value)
    with pytest.raises(AuditError, match=storage.TIMEOUT_ENV):
        storage.remote_timeout()


def test_a_remote_timeout_can_be_raised(monkeypatch):
    monkeypatch.setenv(storage.TIMEOUT_ENV, "120")
    assert storage.remote_timeout() == 120.0
    monkeypatch.delenv(storage.TIMEOUT_ENV)
    assert storage.remote_timeout() == storage.DEFAULT_TIMEOUT_S


# ---- an object that is also a prefix ------------------------------------------------------------

@pytest.mark.parametrize("target, expected", [
    ("s3://corpus/", {"s3://corpus/a.jsonl": 40, "s3://corpus/both.jsonl": 10,
                      "s3://corpus/both.jsonl/inner.jsonl": 40}),
    ("s3://corpus/both.jsonl", {"s3://corpus/both.jsonl": 10}),                  # the object named
    ("s3://corpus/both.jsonl/", {"s3://corpus/both.jsonl/inner.jsonl": 40}),     # the prefix named
])
def test_object_that_is_also_a_prefix_is_never_read_silently(s3, target, expected):
    """``both.jsonl`` is an object and the prefix of ``both.jsonl/inner.jsonl``: what is asked for is
    read in full (a cached listing once made the object a 0-record "directory", silently)."""
    proc = run_cli("scan", target, "-q", "-w", "1", "-f", "json", "--exit-zero", env=s3)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    read = {i["path"]: i["records"] for i in result["inputs"]}
    assert read == expected
    assert result["records"]["total"] == sum(expected.values())


def test_plain_s3_object_scans_like_its_bytes(s3, tmp_path):
    """Valid input: a remote object gives the same records as its local copy."""
    (tmp_path / "a.jsonl").write_bytes(BODY)
    there = json.loads(run_cli("scan", "s3://corpus/a.jsonl", "-q", "-w", "1", "-f", "json", "--exit-zero",
                               env=s3).stdout)
    here = json.loads(run_cli("scan", tmp_path / "a.jsonl", "-q", "-w", "1", "-f", "json", "--exit-zero").stdout)
    assert there["metrics"] == here["metrics"]
    assert os.path.basename(there["inputs"][0]["path"]) == "a.jsonl"
