"""Each registered format reads the same records: CSV/TSV, JSON arrays, Arrow IPC, saved HF datasets."""

from __future__ import annotations

import bz2
import csv
import gzip
import json
import lzma

import pyarrow as pa
import pytest
from pyarrow import feather

from collapse_audit.errors import AuditError
from collapse_audit.readers import count_slots, discover, registered_readers

from .conftest import jsonl_bytes

RECORDS = [{"id": f"r{i}", "text": f"text number {i}", "meta": {"source": f"s{i % 3}"}} for i in range(10)]
TEXTS = [r["text"] for r in RECORDS]


def test_every_registered_reader_declares_itself():
    names = [r.name for r in registered_readers()]
    assert {"jsonl", "parquet", "csv", "json", "arrow", "hf_dataset"} <= set(names)
    assert len(names) == len(set(names))
    assert all(r.suffixes or r.marker_files for r in registered_readers())


@pytest.mark.parametrize("name, pack", [
    ("a.jsonl.bz2", bz2.compress), ("a.jsonl.xz", lzma.compress), ("a.ndjson", lambda b: b),
])
def test_stdlib_compressions(tmp_path, read, name, pack):
    (tmp_path / name).write_bytes(pack(jsonl_bytes(RECORDS)))
    r = read([tmp_path / name], fields=("meta.source",))
    assert r.texts == TEXTS and r.values("meta.source")[:3] == ["s0", "s1", "s2"]


def write_csv(path, rows, delimiter=","):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter=delimiter)
        w.writerow(["id", "text", "source"])
        w.writerows(rows)


def test_csv_reads_strings_with_quoted_newlines_and_keeps_ids_textual(tmp_path, read):
    rows = [[f"{i:03d}", f"line one {i}\nline two", "web"] for i in range(6)] + [["abc", "last", "web"]]
    write_csv(tmp_path / "a.csv", rows)
    r = read([tmp_path / "a.csv"], fields=("id", "source"))
    assert r.texts == [row[1] for row in rows]
    assert r.values("id") == [row[0] for row in rows]  # "007" stays "007"; "abc" does not break typing
    assert r.rows == list(range(7))
    assert count_slots(r.discovery.files[0]) >= 7


def test_tsv_and_gzipped_csv(tmp_path, read):
    write_csv(tmp_path / "a.tsv", [["1", "tab separated", "x"]], delimiter="\t")
    raw = tmp_path / "b.csv"
    write_csv(raw, [["2", "gzipped", "y"]])
    (tmp_path / "b.csv.gz").write_bytes(gzip.compress(raw.read_bytes()))
    raw.unlink()
    assert read([tmp_path]).texts == ["tab separated", "gzipped"]


def test_csv_bad_rows_are_bad_records(tmp_path, read):
    path = tmp_path / "a.csv"
    path.write_bytes(b"id,text\n1,good\n2,too,many\n3,caf\xe9\n4,fine\n")
    r = read([path], max_bad=5)
    assert r.texts == ["good", "fine"]
    assert r.sink.count == 2
    assert any("expected 2 fields, found 3" in b for b in r.bad)
    assert any("not valid UTF-8" in b and "row 1" in b for b in r.bad)


def test_csv_without_text_column_names_columns(tmp_path, read):
    write_csv(tmp_path / "a.csv", [["1", "x", "y"]])
    with pytest.raises(AuditError, match="no column 'body'.*columns found: id, text, source"):
        read([tmp_path / "a.csv"], text_field="body")


def test_json_array_streams_elements_with_locations(tmp_path, read):
    path = tmp_path / "a.json"
    items = [*RECORDS[:3], {"id": "bad", "text": 5}, RECORDS[3]]
    path.write_text(json.dumps(items, indent=2))
    r = read([path], fields=("meta.source",), max_bad=1)
    assert r.texts == TEXTS[:4]
    assert r.rows == [0, 1, 2, 4]
    assert r.bad[0].startswith(f"{path}, element 3 (line ")
    assert count_slots(r.discovery.files[0]) == 5


def test_json_lines_named_json_is_read_as_jsonl(tmp_path, read):
    (tmp_path / "a.json").write_bytes(jsonl_bytes(RECORDS))
    r = read([tmp_path / "a.json"])
    assert r.texts == TEXTS and r.discovery.files[0].format == "jsonl"


def test_json_object_is_metadata_skipped_in_directory_and_error_when_named(tmp_path, read):
    (tmp_path / "data.jsonl").write_bytes(jsonl_bytes(RECORDS))
    (tmp_path / "config.json").write_text(json.dumps({"a": 1, "b": [1, 2]}, indent=2))
    r = read([tmp_path])
    assert r.texts == TEXTS
    assert "not an array of records" in r.skipped()["config.json"]
    with pytest.raises(AuditError, match="config.json is not a supported input"):
        discover([str(tmp_path / "config.json")])


@pytest.mark.parametrize("data, message", [
    ('[{"text": "a"}, {"text": "b"}', "truncated"),
    ('[{"text": "a"} {"text": "b"}]', "expected ',' or ']'"),
    ('[{"text": "a"}, {"text": "b]', "element 1"),
])
def test_broken_json_array_is_bad_input(tmp_path, read, data, message):
    path = tmp_path / "a.json"
    path.write_text(data)
    with pytest.raises(AuditError, match=message):
        read([path])


def test_arrow_ipc_file_and_stream(tmp_path, read):
    table = pa.Table.from_pylist(RECORDS)
    feather.write_feather(table, tmp_path / "a.feather")
    with pa.OSFile(str(tmp_path / "b.arrow"), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as w:
        for batch in table.to_batches(max_chunksize=3):
            w.write_batch(batch)
    r = read([tmp_path / "a.feather", tmp_path / "b.arrow"], fields=("meta.source",), batch_size=4)
    assert r.texts == TEXTS + TEXTS
    assert r.rows == list(range(10)) * 2
    assert [count_slots(f) for f in r.discovery.files] == [10, 10]
    assert max(len(b) for b in r.batches) <= 4


def save_to_disk(folder, records, shards=2):
    """The on-disk layout of ``datasets.Dataset.save_to_disk`` (state.json, dataset_info.json, shards)."""
    folder.mkdir(parents=True)
    table = pa.Table.from_pylist(records)
    per = -(-len(records) // shards)
    names = []
    for i in range(shards):
        name = f"data-{i:05d}-of-{shards:05d}.arrow"
        with pa.OSFile(str(folder / name), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as w:
            w.write_table(table.slice(i * per, per))
        names.append({"filename": name})
    (folder / "state.json").write_text(json.dumps({"_data_files": names, "_fingerprint": "x", "_split": None}))
    (folder / "dataset_info.json").write_text(json.dumps({"features": {}}, indent=2))


def test_hf_save_to_disk_folder_is_one_dataset(tmp_path, read):
    save_to_disk(tmp_path / "ds", RECORDS)
    (tmp_path / "ds" / "cache-abc.arrow").write_bytes(b"not listed")
    r = read([tmp_path / "ds"], fields=("meta.source",))
    assert r.texts == TEXTS
    assert [f.format for f in r.discovery.files] == ["hf_dataset", "hf_dataset"]
    skipped = r.skipped()
    assert skipped["state.json"] == skipped["dataset_info.json"] == "metadata file of a saved dataset"
    assert "not part of the saved dataset" in skipped["cache-abc.arrow"]


def test_hf_dataset_dict_needs_a_split_when_it_has_several(tmp_path, read):
    root = tmp_path / "dd"
    save_to_disk(root / "train", RECORDS[:6], shards=1)
    save_to_disk(root / "test", RECORDS[6:], shards=1)
    (root / "dataset_dict.json").write_text(json.dumps({"splits": ["train", "test"]}))
    with pytest.raises(AuditError, match="splits train, test: choose one with --split"):
        read([root])
    assert read([root], split="test").texts == TEXTS[6:]
    assert read([root], split="train").texts == TEXTS[:6]
    with pytest.raises(AuditError, match="no split 'dev'"):
        read([root], split="dev")


def test_cli_scans_a_csv_and_a_saved_dataset_split(tmp_path):
    from helpers import run_cli, words

    records = [{"id": i, "text": words(i), "provenance": "human", "source": "web"} for i in range(12)]
    write_csv(tmp_path / "a.csv", [[r["id"], r["text"], r["source"]] for r in records])
    root = tmp_path / "dd"
    save_to_disk(root / "train", records[:8], shards=2)
    save_to_disk(root / "test", records[8:], shards=1)
    (root / "dataset_dict.json").write_text(json.dumps({"splits": ["train", "test"]}))
    proc = run_cli("scan", tmp_path / "a.csv", "-q", "-f", "json")
    assert proc.returncode in (0, 1), proc.stderr
    assert json.loads(proc.stdout)["records"]["total"] == 12
    proc = run_cli("scan", root, "-q")
    assert proc.returncode == 2 and "choose one with --split" in proc.stderr
    proc = run_cli("scan", root, "--split", "train", "-q", "-f", "json")
    assert proc.returncode in (0, 1), proc.stderr
    result = json.loads(proc.stdout)
    assert result["records"]["total"] == 8
    assert [i["format"] for i in result["inputs"]] == ["hf_dataset", "hf_dataset"]
    assert {s["reason"] for s in result["skipped_inputs"]} == {
        "metadata file of a saved dataset", "split not selected (--split train)"}


def test_json_array_reads_multibyte_text_across_chunk_boundaries(tmp_path, read, monkeypatch):
    from collapse_audit.readers import json_array

    monkeypatch.setattr(json_array, "STEP", 7)  # every element and character straddles chunks
    items = [{"text": f"café {i} 😀 naïve – ok", "n": [i, {"k": "v"}]} for i in range(20)]
    path = tmp_path / "a.json"
    path.write_text("\n" + json.dumps(items, ensure_ascii=False, indent=1) + "\n  ", encoding="utf-8")
    r = read([path], fields=("n.1.k",))
    assert r.texts == [it["text"] for it in items]
    assert r.values("n.1.k") == ["v"] * 20
    assert r.batches[0].lines[:2] == [3, 12]
