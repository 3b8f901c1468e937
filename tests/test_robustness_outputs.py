"""No input is ever modified and no output is ever left half-written."""

from __future__ import annotations

import os
import resource
import subprocess
import sys

import pytest
from helpers import REPO, run_cli, words, write_jsonl

from collapse_audit.errors import AuditError
from collapse_audit.outputs import atomic_output, atomic_path, check_outputs


def corpus(tmp_path, name="c.jsonl", n=12):
    return write_jsonl(tmp_path / name, [{"id": i, "text": words(i), "provenance": "human"} for i in range(n)])


def assert_refused(proc, *fragments):
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    for f in fragments:
        assert f in proc.stderr


@pytest.mark.parametrize("args", [
    ("scan", "{c}", "-f", "json", "-o", "{c}", "-q"),
    ("scan", "{c}", "-f", "json", "--annotations", "{c}", "-q"),
    ("detector", "score", "{c}", "-o", "{c}"),
    ("profile", "{c}", "-o", "{c}", "-q"),
])
def test_output_onto_the_input_is_refused_and_input_unchanged(tmp_path, args):
    c = corpus(tmp_path)
    before = c.read_bytes()
    proc = run_cli(*(a.format(c=c) for a in args))
    assert_refused(proc, "is the input file", str(c))
    assert c.read_bytes() == before


def test_output_through_a_symlink_and_a_hard_link_is_refused(tmp_path):
    c = corpus(tmp_path)
    before = c.read_bytes()
    (tmp_path / "link.json").symlink_to(c)
    os.link(c, tmp_path / "hard.json")
    for out in ("link.json", "hard.json"):
        proc = run_cli("scan", c, "-f", "json", "-o", tmp_path / out, "-q")
        assert_refused(proc, "is the input file")
    assert c.read_bytes() == before


def test_output_inside_a_scanned_directory_is_refused(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    corpus(data)
    proc = run_cli("scan", data, "-f", "json", "-o", data / "report.json", "-q")
    assert_refused(proc, "inside the input directory")
    assert not (data / "report.json").exists()
    # a file a scan would not read (wrong suffix) may live there
    proc = run_cli("scan", data, "-f", "markdown", "-o", data / "report.md", "-q", "--exit-zero")
    assert proc.returncode == 0, proc.stderr
    assert (data / "report.md").read_text().strip()


def test_output_onto_the_policy_is_refused(tmp_path):
    c = corpus(tmp_path)
    pol = tmp_path / "p.yaml"
    pol.write_text("rules: []\n")
    assert_refused(run_cli("scan", c, "-p", pol, "-f", "json", "-o", pol, "-q"), "is the input file")
    assert pol.read_text() == "rules: []\n"


def test_check_outputs_unit(tmp_path):
    c = corpus(tmp_path)
    check_outputs([None, "-", str(tmp_path / "new.json")], [str(c)])
    with pytest.raises(AuditError, match="same file"):
        check_outputs([str(tmp_path / "a.json"), str(tmp_path / "a.json")], [str(c)])
    with pytest.raises(AuditError, match="is the input file"):
        check_outputs([str(c)], [str(tmp_path / "*.jsonl")])


def test_atomic_output_keeps_the_old_file_on_error(tmp_path):
    out = tmp_path / "r.json"
    out.write_text("old")
    with pytest.raises(RuntimeError), atomic_output(str(out)) as fh:
        fh.write("new, half")
        raise RuntimeError("boom")
    assert out.read_text() == "old"
    assert os.listdir(tmp_path) == ["r.json"]  # no temp file left
    with atomic_output(str(out), "wb") as fh:
        fh.write(b"new")
    assert out.read_bytes() == b"new"
    assert sorted(os.listdir(tmp_path)) == ["r.json"]


def test_atomic_output_keeps_mode_and_atomic_path(tmp_path):
    out = tmp_path / "r.json"
    out.write_text("old")
    os.chmod(out, 0o640)
    with atomic_path(str(out)) as tmp:
        with open(tmp, "w") as fh:
            fh.write("new")
    assert out.read_text() == "new"
    assert os.stat(out).st_mode & 0o777 == 0o640


def test_unwritable_directory_is_a_user_error(tmp_path):
    with pytest.raises(AuditError, match="Cannot write"), atomic_output(str(tmp_path / "missing" / "r.json")):
        pass


def _limit_file_size():
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


def test_a_write_over_the_file_size_limit_leaves_the_previous_report(tmp_path):
    """`ulimit -f`: the write fails, the error names the file, the old report is intact."""
    c = corpus(tmp_path, n=60)
    out = tmp_path / "r.json"
    out.write_text("previous good report")
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    proc = subprocess.run([sys.executable, "-m", "collapse_audit", "scan", str(c), "-f", "json", "-o", str(out),
                           "-q", "-w", "1"], capture_output=True, text=True, cwd=REPO, env=env,
                          preexec_fn=_limit_file_size, timeout=300)
    assert_refused(proc, "Cannot write", str(out))
    assert out.read_text() == "previous good report"
    assert sorted(os.listdir(tmp_path)) == ["c.jsonl", "r.json"]


def test_report_refuses_to_rerender_a_result_over_itself(tmp_path):
    c = corpus(tmp_path)
    result = tmp_path / "r.json"
    assert run_cli("scan", c, "-f", "json", "-o", result, "-q", "--exit-zero").returncode == 0
    before = result.read_bytes()
    assert_refused(run_cli("report", result, "-f", "markdown", "-o", result), "is the input file")
    assert result.read_bytes() == before


def test_a_device_or_pipe_output_is_written_straight_through(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    import threading

    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo).read()))
    reader.start()
    with atomic_output(str(fifo)) as fh:
        fh.write("through the pipe")
    reader.join(timeout=10)
    assert got == ["through the pipe"]
    assert os.listdir(tmp_path) == ["pipe.json"]
