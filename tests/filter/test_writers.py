"""Writers beside readers: every format ``filter`` reads, it writes back in that format, schema and
compression - and the output scans again to exactly the records that were kept."""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
import lzma
from pathlib import Path

import pyarrow as pa
import pyarrow.feather as feather
import pytest
from pyarrow import ipc

import collapse_audit
from collapse_audit.errors import AuditError
from collapse_audit.filter import FilterOptions, run_filter
from collapse_audit.filter.writers.arrow import body_compression
from collapse_audit.filter.writers.base import split_name

from .test_filter_cli import POLICY, small_records

KEPT = [f"r{i}" for i in range(24)]        # small_records(): 3 untagged and 2 copies are removed
MAGIC = {"gz": b"\x1f\x8b", "zst": b"\x28\xb5\x2f\xfd", "bz2": b"BZh", "xz": b"\xfd7zXZ\x00"}
OPEN = {None: lambda b: b, "gz": gzip.decompress, "bz2": bz2.decompress, "xz": lzma.decompress,
        "zst": lambda b: __import__("zstandard").ZstdDecompressor().decompressobj().decompress(b)}
COMPRESS = {None: lambda b: b, "gz": lambda b: gzip.compress(b, mtime=0), "bz2": bz2.compress, "xz": lzma.compress,
            "zst": lambda b: __import__("zstandard").ZstdCompressor().compress(b)}


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    p = tmp_path / "policy.yaml"
    p.write_text(POLICY)
    return p


def filter_to(src: Path, policy: Path, out: Path, **kw) -> None:
    run_filter(FilterOptions(paths=[str(src)], out=str(out), policy=str(policy), progress=False, **kw))


def rescan_ids(path: Path, policy: Path) -> list[str]:
    """The ids of the records a fresh scan of ``path`` reads, in order (from its annotations)."""
    import pyarrow.parquet as pq

    ann = path.parent / f"{path.name}.ann.parquet"
    result = collapse_audit.scan([str(path)], policy=str(policy), annotations=str(ann))
    assert result.to_dict()["records"]["skipped"] == 0
    return pq.read_table(ann, columns=["id"]).column("id").to_pylist()


def csv_bytes(recs: list[dict], delimiter: str = ",") -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["id", "text", "provenance", "source"], delimiter=delimiter,
                       lineterminator="\n")
    w.writeheader()
    for r in recs:
        w.writerow({k: r.get(k, "") for k in ("id", "text", "provenance", "source")})
    return buf.getvalue().encode()


@pytest.mark.parametrize("comp", ["bz2", "xz", "gz", "zst"])
def test_jsonl_keeps_its_compression(tmp_path: Path, policy: Path, comp: str) -> None:
    data = "".join(json.dumps(r) + "\n" for r in small_records()).encode()
    src = tmp_path / f"d.jsonl.{comp}"
    src.write_bytes(COMPRESS[comp](data))
    filter_to(src, policy, tmp_path / "out")
    out = tmp_path / "out" / src.name
    assert out.read_bytes().startswith(MAGIC[comp])
    assert OPEN[comp](out.read_bytes()).splitlines() == data.splitlines()[:24]
    assert rescan_ids(out, policy) == KEPT


@pytest.mark.parametrize(("name", "delimiter", "comp"), [("d.csv", ",", None), ("d.tsv.gz", "\t", "gz"),
                                                        ("d.csv.xz", ",", "xz")])
def test_csv_and_tsv_records_are_copied_under_the_header(tmp_path: Path, policy: Path, name: str, delimiter: str,
                                                         comp: str | None) -> None:
    recs = small_records()
    recs[2]["text"] = recs[2]["text"].replace(" ", "\n", 2) + ' with "quotes", and a comma'  # spans 3 lines
    data = csv_bytes(recs, delimiter)
    head, first, rest = data.split(b"\n", 2)
    data = head + b"\n" + first + b"\n\n" + rest             # a blank line is no record
    src = tmp_path / name
    src.write_bytes(COMPRESS[comp](data))
    filter_to(src, policy, tmp_path / "out")
    out = tmp_path / "out" / name
    if comp:
        assert out.read_bytes().startswith(MAGIC[comp])
    written = OPEN[comp](out.read_bytes())
    expected = csv_bytes(recs[:24], delimiter)
    assert written == expected                                # header and every record, byte for byte
    assert rescan_ids(out, policy) == KEPT


def test_csv_shards_each_start_with_the_header(tmp_path: Path, policy: Path) -> None:
    src = tmp_path / "d.csv"
    src.write_bytes(csv_bytes(small_records()))
    filter_to(src, policy, tmp_path / "out", max_records_per_file=10)
    names = sorted(p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith("."))
    assert names == [f"d-0000{i}-of-00003.csv" for i in range(3)]
    ids = []
    for n in names:
        assert (tmp_path / "out" / n).read_bytes().startswith(b"id,text,provenance,source\n")
        ids += rescan_ids(tmp_path / "out" / n, policy)
    assert ids == KEPT


@pytest.mark.parametrize("comp", [None, "zst"])
def test_json_array_elements_are_copied_as_stored(tmp_path: Path, policy: Path, comp: str | None) -> None:
    recs = small_records()
    data = json.dumps(recs, indent=2).encode()               # pretty-printed: elements span lines
    src = tmp_path / ("d.json" + (f".{comp}" if comp else ""))
    src.write_bytes(COMPRESS[comp](data))
    filter_to(src, policy, tmp_path / "out")
    out = tmp_path / "out" / src.name
    text = OPEN[comp](out.read_bytes()).decode()
    assert json.loads(text) == recs[:24]
    assert json.dumps(recs[5], indent=2).replace("\n", "\n  ") in text   # the element's own layout
    assert rescan_ids(out, policy) == KEPT


@pytest.mark.parametrize(("kind", "codec"), [("file", "lz4"), ("file", "zstd"), ("file", None), ("stream", None),
                                             ("stream", "zstd")])
def test_arrow_ipc_keeps_format_schema_and_compression(tmp_path: Path, policy: Path, kind: str,
                                                       codec: str | None) -> None:
    schema = pa.schema([("id", pa.string()), ("text", pa.large_string()), ("provenance", pa.string()),
                        ("source", pa.dictionary(pa.int32(), pa.string()))], metadata={"made-by": "test"})
    table = pa.Table.from_pylist(small_records(), schema=schema)
    src = tmp_path / ("d.feather" if kind == "file" else "d.arrow")
    options = ipc.IpcWriteOptions(compression=codec)
    with (ipc.new_file if kind == "file" else ipc.new_stream)(str(src), schema, options=options) as w:
        w.write_table(table, max_chunksize=7)
    assert body_compression(str(src)) == codec
    filter_to(src, policy, tmp_path / "out")
    out = tmp_path / "out" / src.name
    assert body_compression(str(out)) == codec
    reader = ipc.open_file(str(out)) if kind == "file" else ipc.open_stream(str(out))
    got = reader.read_all()
    assert got.schema.equals(schema, check_metadata=True)
    assert got.to_pylist() == table.slice(0, 24).to_pylist()
    assert max(b.num_rows for b in got.to_batches()) <= 7    # the input's batch size
    assert rescan_ids(out, policy) == KEPT


def test_feather_written_by_pyarrow_default_round_trips(tmp_path: Path, policy: Path) -> None:
    src = tmp_path / "d.feather"
    feather.write_feather(pa.Table.from_pylist(small_records()), str(src))     # lz4 by default
    filter_to(src, policy, tmp_path / "out")
    assert body_compression(str(tmp_path / "out" / "d.feather")) == body_compression(str(src))
    assert rescan_ids(tmp_path / "out" / "d.feather", policy) == KEPT


def test_a_saved_hf_dataset_is_refused_before_scanning(tmp_path: Path, policy: Path, monkeypatch) -> None:
    folder = tmp_path / "ds"
    folder.mkdir()
    with ipc.new_stream(str(folder / "data-00000-of-00001.arrow"), pa.schema([("text", pa.string())])) as w:
        w.write_table(pa.table({"text": ["a b c"]}))
    (folder / "state.json").write_text(json.dumps({"_data_files": [{"filename": "data-00000-of-00001.arrow"}]}))
    import collapse_audit.filter as F

    monkeypatch.setattr(F, "_scan", lambda *a, **k: pytest.fail("scanned before refusing"))
    with pytest.raises(AuditError, match=r"cannot write .*data-00000-of-00001.arrow back .*to_parquet"):
        filter_to(folder, policy, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("name", "stem", "suffix"), [
    ("a.jsonl.bz2", "a", ".jsonl.bz2"), ("b.tsv.xz", "b", ".tsv.xz"), ("c.feather", "c", ".feather"),
    ("d.json.zst", "d", ".json.zst"), ("e.parquet", "e", ".parquet"), ("f.unknown", "f.unknown", ""),
    ("g.txt.gz", "g.txt", ".gz"),
])
def test_shard_names_keep_format_and_compression_suffixes(name: str, stem: str, suffix: str) -> None:
    assert split_name(name) == (stem, suffix)
