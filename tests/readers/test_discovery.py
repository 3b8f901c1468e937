"""Discovery never drops a file silently: every file not read is listed with its reason."""

from __future__ import annotations

import os
import socket

import pytest

from collapse_audit.errors import AuditError
from collapse_audit.readers import discover, discover_inputs

from .conftest import jsonl_bytes

REC = [{"text": "hello"}]


def test_directory_scan_lists_every_file_it_does_not_read(tmp_path):
    (tmp_path / "a.jsonl").write_bytes(jsonl_bytes(REC))
    (tmp_path / ".hidden.jsonl").write_bytes(jsonl_bytes(REC))
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.jsonl").write_bytes(jsonl_bytes(REC))
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "b.parquet.gz").write_bytes(b"x")
    (tmp_path / "dataset_info.json").write_text("{}")
    (tmp_path / "_SUCCESS").write_text("")
    (tmp_path / "part.crc").write_text("")
    os.mkfifo(tmp_path / "pipe.jsonl")
    found = discover_inputs([str(tmp_path)])
    assert [os.path.basename(f.path) for f in found.files] == ["a.jsonl"]
    reasons = {os.path.basename(s.path): s.reason for s in found.skipped}
    assert reasons == {
        ".hidden.jsonl": "hidden file",
        ".git": "hidden directory",
        "notes.txt": "unsupported file type",
        "b.parquet.gz": "unsupported: parquet files cannot be read through .gz compression",
        "dataset_info.json": "metadata file",
        "_SUCCESS": "metadata file",
        "part.crc": "metadata file",
        "pipe.jsonl": "special file (a named pipe), never opened",
    }
    assert all(s.to_json().keys() == {"path", "reason"} for s in found.skipped)


def test_special_files_named_explicitly_are_errors_never_opened(tmp_path):
    fifo = tmp_path / "f.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(AuditError, match="is a named pipe, not a regular file"):
        discover([str(fifo)])  # would block forever if opened
    sock_path = tmp_path / "s.jsonl"
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(sock_path))
        with pytest.raises(AuditError, match="is a socket"):
            discover([str(sock_path)])
    finally:
        sock.close()


def test_compressed_parquet_named_explicitly_is_unsupported(tmp_path):
    (tmp_path / "a.parquet.gz").write_bytes(b"x")
    with pytest.raises(AuditError, match="parquet files cannot be read through .gz compression"):
        discover([str(tmp_path / "a.parquet.gz")])


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file, so permissions cannot make one unreadable")
def test_unreadable_subdirectory_is_an_error(tmp_path):
    (tmp_path / "a.jsonl").write_bytes(jsonl_bytes(REC))
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "b.jsonl").write_bytes(jsonl_bytes(REC))
    locked.chmod(0)
    try:
        with pytest.raises(AuditError, match="Cannot read directory .*locked"):
            discover([str(tmp_path)])
    finally:
        locked.chmod(0o755)


def test_directory_symlink_is_listed_not_followed(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.jsonl").write_bytes(jsonl_bytes(REC))
    (data / "loop").symlink_to(data)
    found = discover_inputs([str(data)])
    assert [os.path.basename(f.path) for f in found.files] == ["a.jsonl"]
    assert found.skipped[0].reason == "symbolic link to a directory (not followed)"


def test_directory_with_nothing_readable_names_what_was_skipped(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(AuditError, match=r"No data files found in directory .*notes.txt: unsupported file type"):
        discover([str(tmp_path)])


def test_subdirectory_that_cannot_be_listed_is_an_error_even_as_root(tmp_path, monkeypatch):
    (tmp_path / "a.jsonl").write_bytes(jsonl_bytes(REC))
    (tmp_path / "sub").mkdir()
    real = os.scandir

    def scandir(path):
        if str(path).endswith("sub"):
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(AuditError, match=r"Cannot read directory .*sub \(Permission denied\)"):
        discover([str(tmp_path)])
