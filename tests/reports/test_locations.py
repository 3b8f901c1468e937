"""Record locations people can use: ``file:LINE`` (1-based physical line) for line formats,
``file row N`` (0-based) for columnar ones - the same text in every report format, and the line as
SARIF's ``region.startLine`` and the GitHub annotation's ``line=``."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import words

import collapse_audit
from collapse_audit.readers import InputFile, ReadOptions, read_file
from collapse_audit.readers.base import BadRecordSink
from collapse_audit.reports.formats import render_result
from collapse_audit.result.locations import record_line, record_location

POLICY = """version: 1
fields: {text: text, provenance: provenance}
rules:
  - {id: CA202, metric: duplicates.exact_fraction, max: 0.0}
  - {id: CA301, metric: provenance.missing_fraction, max: 0.0}
"""
SHOWN = ("table", "markdown", "html", "junit")      # the formats that print example records


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)          # short relative paths: the console table does not cut them
    monkeypatch.setenv("COLUMNS", "200")


def scan(tmp_path: Path, *paths: Path):
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    return collapse_audit.scan([p.name for p in paths], policy=str(policy), sample=0)


def tagged(i: int) -> dict:
    return {"text": words(i), "provenance": "human"}


def assert_everywhere(result, location: str, line: int | None) -> None:
    for fmt in SHOWN:
        out = render_result(result, fmt)
        assert location in out, fmt
    sarif = json.loads(render_result(result, "sarif"))
    regions = [loc["physicalLocation"].get("region") for run in sarif["runs"] for res in run["results"]
               for loc in res["locations"]]
    github = render_result(result, "github")
    if line is None:
        assert not any(regions) and ",line=" not in github
    else:
        assert {"startLine": line} in regions
        assert f",line={line}," in github


def test_a_duplicate_on_line_4_of_a_jsonl_file_is_shown_at_line_4(tmp_path: Path) -> None:
    src = tmp_path / "x.jsonl"
    recs = [tagged(1), tagged(2), tagged(3), tagged(4), tagged(5), tagged(4)]     # line 6 repeats line 4
    src.write_text("".join(json.dumps(r) + "\n" for r in recs))
    result = scan(tmp_path, src)
    assert result.to_dict()["details"]["exact_duplicates"]["largest"][0]["row"] == 3   # the JSON is unchanged
    assert_everywhere(result, f"{src.name}:4", 4)


def test_lines_after_a_blank_line_are_physical_lines(tmp_path: Path) -> None:
    src = tmp_path / "x.jsonl"
    recs = [tagged(1), tagged(2), {"text": words(3)}, tagged(4)]                  # line 4 untagged
    lines = [json.dumps(r) for r in recs]
    src.write_text(lines[0] + "\n\n" + "\n".join(lines[1:]) + "\n")                # blank line 2
    result = scan(tmp_path, src)
    assert_everywhere(result, f"{src.name}:4", 4)


def test_a_csv_record_after_a_multi_line_value_is_at_its_own_first_line(tmp_path: Path) -> None:
    src = tmp_path / "x.csv"
    body = ("text,provenance\n"
            f"{words(1)},human\n"
            f"\"{words(2)}\nspans\nthree lines\",human\n"                      # lines 3-5
            "\n"                                                               # blank line 6
            f"\"{words(3)}, quoted\",\n")                                      # line 7, untagged
    src.write_text(body)
    result = scan(tmp_path, src)
    example = result.to_dict()["details"]["provenance"]["missing_examples"][0]
    assert (example["row"], example["line"]) == (2, 7)
    assert_everywhere(result, f"{src.name}:7", 7)


def test_csv_reader_gives_every_row_its_start_line(tmp_path: Path) -> None:
    src = tmp_path / "y.tsv"
    src.write_text('id\ttext\n1\t"a\nb"\n\n2\tplain\n3\ttoo\tmany\n4\tb"c literal quote\n5\t"x"\n')
    sink = BadRecordSink(max_bad=10)
    batches = list(read_file(InputFile(str(src), "csv", None), 0, ReadOptions(text_field="text", fields=()),
                             None, None, sink, 0))
    assert [r for b in batches for r in b.rows] == [0, 1, 2, 3]          # the 3-field row is a bad record
    assert [n for b in batches for n in b.lines] == [2, 5, 7, 8]


def test_a_parquet_row_is_file_row_n_and_has_no_line(tmp_path: Path) -> None:
    src = tmp_path / "p.parquet"
    recs = [tagged(1), tagged(2), {"text": words(3), "provenance": None}, tagged(4)]
    pq.write_table(pa.Table.from_pylist(recs), src)
    result = scan(tmp_path, src)
    assert_everywhere(result, f"{src.name} row 2", None)


@pytest.mark.parametrize(("args", "shown"), [
    (("a.jsonl", 0, None, "jsonl"), "a.jsonl:1"),
    (("a.jsonl", 9, None, None), "a.jsonl row 9"),          # format unknown: never guess a line
    (("a.csv", 4, 9, "csv"), "a.csv:9"),
    (("a.csv", 4, None, "csv"), "a.csv row 4"),             # a CSV line nobody recorded is not row + 1
    (("a.json", 4, 12, "json"), "a.json row 4"),            # a JSON array is columnar
    (("a.parquet", 0, None, "parquet"), "a.parquet row 0"),
    ((None, 3, None, None), "row 3"),
    (("a.parquet", None, None, "parquet"), "a.parquet"),
])
def test_the_one_formatter(args: tuple, shown: str) -> None:
    assert record_location(*args) == shown


def test_record_line_is_what_sarif_and_annotations_use() -> None:
    assert record_line(3, None, "jsonl") == 4
    assert record_line(3, None, "parquet") is None
    assert record_line(3, 0, "csv") is None and record_line(3, True, "csv") is None


def csv_with_a_late_duplicate(tmp_path: Path) -> Path:
    """x.csv: a header, a three-line value, a blank line; line 9 repeats the record on line 2."""
    src = tmp_path / "x.csv"
    src.write_text("text,provenance\n"
                   f"{words(1)},human\n"                                    # line 2
                   f"\"{words(2)}\nspans\nthree lines\",human\n"           # lines 3-5
                   "\n"                                                    # blank line 6
                   f"{words(3)},human\n"                                   # line 7
                   f"{words(4)},human\n"                                   # line 8
                   f"{words(1)},human\n")                                  # line 9: a copy of line 2
    return src


@pytest.mark.parametrize("workers", [1, 2])
def test_a_csv_duplicate_is_shown_at_its_physical_line(tmp_path: Path, workers: int) -> None:
    """The duplicate checks keep no batch, yet name the CSV line of their groups' records (with two
    workers the CSV file is the second shard's, so its places are appended to the first's)."""
    first = tmp_path / "a.jsonl"
    first.write_text("".join(json.dumps(tagged(10 + i)) + "\n" for i in range(3)))
    src = csv_with_a_late_duplicate(tmp_path)
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    result = collapse_audit.scan([first.name, src.name], policy=str(policy), sample=0, workers=workers,
                                 batch_size=2)
    group = result.to_dict()["details"]["exact_duplicates"]["largest"][0]
    assert (group["row"], group["line"]) == (0, 2)
    assert_everywhere(result, f"{src.name}:2", 2)


def test_places_keep_lines_as_runs_across_batches_shards_and_saved_state() -> None:
    from collapse_audit.checks.state import Packer, unpack
    from collapse_audit.readers.base import RecordBatch
    from collapse_audit.readers.places import Places

    def batch(file_index: int, rows: list[int], lines: list[int] | None) -> RecordBatch:
        return RecordBatch(file=f"f{file_index}", file_index=file_index, start=0, rows=rows, lines=lines,
                           texts=["t"] * len(rows))

    first, later = Places(), Places()
    first.add(batch(0, [0, 1, 2, 3], [2, 3, 7, 8]))      # CSV: header, then a 4-line value before row 2
    first.add(batch(1, [0, 1], None))                    # Parquet: no lines
    later.add(batch(2, [0, 1, 2], [1, 2, 3]))            # JSON Lines: line = row + 1
    first.extend(later)
    assert sum(len(r) for r in first.runs) == 4          # runs, not a number per record
    files = {0: "a.csv", 1: "b.parquet", 2: "c.jsonl"}
    packer = Packer()
    saved = unpack(packer.pack(first), packer.arrays)
    for places in (first, saved):
        assert [places.line(i) for i in range(9)] == [2, 3, 7, 8, None, None, 1, 2, 3]
        assert places.locate(2, files) == {"file": "a.csv", "row": 2, "line": 7}
        assert places.locate(5, files) == {"file": "b.parquet", "row": 1}
        assert places.locate(8, files) == {"file": "c.jsonl", "row": 2}
        assert places.file_row(7) == (2, 1)
