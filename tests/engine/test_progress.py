"""The progress bar knows the total (and so an ETA) when the inputs' sizes can be counted cheaply."""

from __future__ import annotations

import io
import sys

import pyarrow as pa
import pyarrow.parquet as pq
from helpers import write_jsonl

from collapse_audit.engine import progress
from collapse_audit.readers import discover


def test_total_counts_parquet_rows_and_jsonl_lines(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [{"text": f"t{i}"} for i in range(7)])
    pq.write_table(pa.table({"text": [f"p{i}" for i in range(5)]}), tmp_path / "b.parquet")
    files = discover([str(tmp_path / "a.jsonl"), str(tmp_path / "b.parquet")])
    assert progress.input_total(files) == 12


def test_bar_shows_total_and_eta_on_a_terminal(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    err = Tty()
    monkeypatch.setattr(sys, "stderr", err)
    with progress.progress_bar(True, "scanning", total=100) as advance:
        advance(40)
    out = err.getvalue()
    assert "scanning" in out and "/100" in out and "ETA" in out


def test_no_bar_without_a_terminal(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    with progress.progress_bar(True, "scanning", total=100) as advance:
        advance(40)
    assert err.getvalue() == ""
