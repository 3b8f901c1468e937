"""Hostile input on the sharded surface: `scan --shard i/N --partial DIR` and `collapse-audit merge`.

Every refusal is exit 2 with one line naming the file (or shard), no traceback and nothing written;
the valid-but-odd cases must give the one-scan result.
"""

from __future__ import annotations

import json

import pytest
from helpers import run_cli

from .refusals import assert_refused, corpus, rewrite_manifest, scan_json, sha, tree


@pytest.fixture
def data(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    corpus(d / "a.jsonl", 30)
    corpus(d / "b.jsonl", 30, start=100)
    return d


def partials(tmp_path, data, n, name="p", *extra):
    out = []
    for i in range(n):
        d = tmp_path / f"{name}{i}"
        proc = run_cli("scan", data, "--shard", f"{i}/{n}", "--partial", d, "-q", *extra)
        assert proc.returncode == 0, proc.stderr
        out.append(d)
    return out


# ---- refused --------------------------------------------------------------------------------------

def test_partial_into_the_input_directory_is_refused_and_nothing_is_written(data):
    before = tree(data)
    assert_refused(run_cli("scan", data, "--partial", data, "-q"), "is the input", str(data))
    assert tree(data) == before


def test_partial_into_a_directory_holding_the_input_is_refused(tmp_path, data):
    assert_refused(run_cli("scan", data / "a.jsonl", "--partial", tmp_path, "-q"), "contains the input")
    assert_refused(run_cli("scan", data, "--partial", data / "sub", "-q"), "inside the input directory")
    assert not (data / "sub").exists()


def test_partial_onto_an_existing_file_is_refused_before_the_scan(tmp_path, data):
    target = tmp_path / "state"
    target.write_text("keep me")
    assert_refused(run_cli("scan", data, "--partial", target, "-q"), str(target), "not a directory")
    assert target.read_text() == "keep me"


def test_partial_into_a_foreign_non_empty_directory_is_refused(tmp_path, data):
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("x")
    assert_refused(run_cli("scan", data, "--partial", other, "-q"), str(other), "not empty")
    assert tree(other) == {"notes.txt": b"x"}


@pytest.mark.parametrize("flags", [("-f", "json"), ("-o", "{tmp}/r.json"), ("--annotations", "{tmp}/a.parquet"),
                                   ("--exit-zero",), ("--write-accept", "{tmp}/acc.yaml")])
def test_partial_with_report_options_is_refused_not_ignored(tmp_path, data, flags):
    args = [f.format(tmp=tmp_path) for f in flags]
    assert_refused(run_cli("scan", data, "--partial", tmp_path / "st", "-q", *args), args[0], "merge")
    assert not (tmp_path / "st").exists()


def test_huge_shard_counts_are_clean_errors(tmp_path, data):
    assert_refused(run_cli("scan", data, "--shard", "0/100000000", "--partial", tmp_path / "st", "-q"),
                   "0/100000000", "65,536")
    [p0] = partials(tmp_path, data, 1)
    rewrite_manifest(p0, shard=[0, 200_000_000])
    assert_refused(run_cli("merge", p0, "-q"), str(p0 / "manifest.json"), "200000000")


def test_merge_output_onto_a_scanned_corpus_file_or_into_a_partial_is_refused(tmp_path, data):
    dirs = partials(tmp_path, data, 2)
    before, state = tree(data), tree(dirs[0])
    assert_refused(run_cli("merge", *dirs, "-f", "json", "-o", data / "a.jsonl", "-q"), "is the input file")
    assert_refused(run_cli("merge", *dirs, "-f", "json", "-o", dirs[0] / "manifest.json", "-q"), str(dirs[0]))
    assert_refused(run_cli("merge", *dirs, "--annotations", dirs[1] / "x.parquet", "-q"), "state directory")
    assert tree(data) == before and tree(dirs[0]) == state


@pytest.mark.parametrize("damage", ["truncate", "empty", "flip"])
def test_damaged_state_files_are_named(tmp_path, data, damage):
    dirs = partials(tmp_path, data, 2)
    target = dirs[1] / "check-exact_duplicates.npz"
    raw = target.read_bytes()
    target.write_bytes({"truncate": raw[: len(raw) // 2], "empty": b"",
                        "flip": raw[:-40] + bytes([raw[-40] ^ 0xFF]) + raw[-39:]}[damage])
    assert_refused(run_cli("merge", *dirs, "-q"), str(target), "truncated" if damage != "flip" else "SHA-256")


@pytest.mark.parametrize("content", ["", "{", "[]", '{"format": "collapse-audit-partial"}'])
def test_empty_or_truncated_manifests_are_named(tmp_path, data, content):
    dirs = partials(tmp_path, data, 2)
    (dirs[0] / "manifest.json").write_text(content)
    assert_refused(run_cli("merge", *dirs, "-q"), str(dirs[0] / "manifest.json"))


def test_a_partial_of_another_tool_version_is_refused(tmp_path, data):
    dirs = partials(tmp_path, data, 2)
    for d in dirs:
        rewrite_manifest(d, tool_version="0.0.1")
    assert_refused(run_cli("merge", *dirs, "-q"), str(dirs[0]), "0.0.1")


def test_shards_of_two_versions_of_the_same_file_are_refused(tmp_path):
    data = tmp_path / "one"
    data.mkdir()
    corpus(data / "c.jsonl", 3000)          # one file, cut into row ranges
    p0 = tmp_path / "s0"
    assert run_cli("scan", data, "--shard", "0/2", "--partial", p0, "-q").returncode == 0
    corpus(data / "c.jsonl", 3400)          # the file grows by 400 records before shard 1 is scanned
    p1 = tmp_path / "s1"
    assert run_cli("scan", data, "--shard", "1/2", "--partial", p1, "-q").returncode == 0
    assert_refused(run_cli("merge", p0, p1, "-q"), str(p1), "input listing")


def test_a_manifest_edited_without_its_digest_is_refused(tmp_path, data):
    dirs = partials(tmp_path, data, 2)
    m = json.loads((dirs[0] / "manifest.json").read_text())
    m["seed"] = 7
    (dirs[0] / "manifest.json").write_text(json.dumps(m))
    assert_refused(run_cli("merge", *dirs, "-q"), str(dirs[0] / "manifest.json"), "producer digest")


# ---- valid but odd: the one-scan result -----------------------------------------------------------

def _comparable(result):
    result = dict(result)
    result.pop("run")
    return result


def test_shards_in_any_order_into_empty_and_reused_directories_merge_to_the_one_scan(tmp_path, data):
    _, one = scan_json(data, "-w", "1")
    empty = tmp_path / "p0"
    empty.mkdir()                                          # an existing empty directory is fine
    dirs = partials(tmp_path, data, 3)
    partials(tmp_path, data, 3)                            # writing the same partials again replaces them
    merged = run_cli("merge", *reversed(dirs), "-f", "json", "-q")
    assert merged.returncode in (0, 1), merged.stderr
    assert _comparable(json.loads(merged.stdout)) == _comparable(one)


def test_more_shards_than_records_leaves_empty_shards_that_still_merge(tmp_path):
    data = tmp_path / "tiny"
    data.mkdir()
    corpus(data / "c.jsonl", 5)
    dirs = partials(tmp_path, data, 4)
    merged = run_cli("merge", *dirs, "-f", "json", "-q")
    assert merged.returncode in (0, 1), merged.stderr
    assert json.loads(merged.stdout)["records"]["total"] == 5


def test_merge_report_beside_the_inputs_is_written_and_inputs_untouched(tmp_path, data):
    dirs = partials(tmp_path, data, 2)
    before = {p: sha(data / p) for p in ("a.jsonl", "b.jsonl")}
    out = tmp_path / "report.md"
    proc = run_cli("merge", *dirs, "-f", "markdown", "-o", out, "-q")
    assert proc.returncode in (0, 1), proc.stderr
    assert out.read_text().strip() and {p: sha(data / p) for p in before} == before
