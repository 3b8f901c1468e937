"""Hostile input on `collapse-audit filter --from-annotations`: annotations that no longer describe the corpus.

The annotations file records each input's size and fingerprint; a corpus with the same number of
records but other content would make every removal hit the wrong record, so it is refused.
"""

from __future__ import annotations

import os

import pyarrow.parquet as pq
import pytest
from helpers import run_cli, words, write_jsonl

from .refusals import assert_refused, tree


@pytest.fixture
def scanned(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    recs = [{"id": f"r{i}", "text": words(i), "provenance": "human"} for i in range(30)]
    recs += [{"id": f"d{i}", "text": recs[i]["text"], "provenance": "human"} for i in range(3)]
    path = write_jsonl(data / "c.jsonl", recs)
    ann = tmp_path / "ann.parquet"
    proc = run_cli("scan", path, "--annotations", ann, "-q", "-f", "json", "--exit-zero")
    assert proc.returncode == 0, proc.stderr
    return path, ann, recs


def test_a_corpus_changed_since_the_scan_is_refused_naming_the_file(tmp_path, scanned):
    path, ann, recs = scanned
    write_jsonl(path, [recs[-1], *recs[:-1]])          # same line count, other order: new SHA-256
    out = tmp_path / "out"
    assert_refused(run_cli("filter", path, "--from-annotations", ann, "-o", out, "-q"), str(path), "changed")
    assert not out.exists()


def test_annotations_without_input_fingerprints_are_refused(tmp_path, scanned):
    path, ann, _ = scanned
    table = pq.read_table(ann)
    pq.write_table(table.replace_schema_metadata({}), ann)
    assert_refused(run_cli("filter", path, "--from-annotations", ann, "-o", tmp_path / "out", "-q"), str(ann),
                   "fingerprints")


def test_filter_output_onto_the_input_directory_is_refused(scanned):
    path, ann, _ = scanned
    before = tree(path.parent)
    assert_refused(run_cli("filter", path, "--from-annotations", ann, "-o", path.parent, "-q"), "input")
    assert tree(path.parent) == before


# ---- valid but odd --------------------------------------------------------------------------------

def test_an_untouched_corpus_with_a_new_mtime_and_another_path_spelling_filters(tmp_path, scanned):
    path, ann, _ = scanned
    os.utime(path, (1, 1))
    out = tmp_path / "out"
    spelled = os.path.relpath(path, tmp_path)
    proc = run_cli("filter", spelled, "--from-annotations", ann, "-o", out, "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert len((out / "c.jsonl").read_text().splitlines()) == 30       # the three copies removed
