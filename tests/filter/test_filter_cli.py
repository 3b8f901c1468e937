"""The filter command's contract on small corpora: formats, sharding, safety of OUT, dry run, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import run_cli, words

from .conftest import raw_lines

POLICY = """version: 1
fields: {text: text, id: id, provenance: provenance, source: source}
rules:
  - {id: CA201, metric: duplicates.near_fraction, max: 0.0}
  - {id: CA301, metric: provenance.missing_fraction, max: 0.0}
"""


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    p = tmp_path / "policy.yaml"
    p.write_text(POLICY)
    return p


def small_records(n: int = 24) -> list[dict]:
    """n distinct tagged records, then 3 untagged ones and 2 exact copies of records 0 and 1."""
    recs = [{"id": f"r{i}", "text": words(i), "provenance": "human", "source": "a" if i % 2 else "b"}
            for i in range(n)]
    recs += [{"id": f"x{i}", "text": words(500 + i), "source": "a"} for i in range(3)]
    recs += [{"id": f"c{i}", "text": words(i), "provenance": "human", "source": "b"} for i in range(2)]
    return recs


def write_lines(path: Path, recs: list[dict], compress: str | None = None) -> Path:
    data = "".join(json.dumps(r) + "\n" for r in recs).encode()
    if compress == "zst":
        import zstandard

        data = zstandard.ZstdCompressor().compress(data)
    path.write_bytes(data)
    return path


def filt(*args) -> object:
    return run_cli("filter", *map(str, args), "-q", "-w", "1")


def test_jsonl_kept_lines_are_byte_identical_and_manifest_lists_the_rest(tmp_path, policy):
    src = tmp_path / "in"
    src.mkdir()
    recs = small_records()
    lines = [json.dumps(r, indent=None, separators=(", ", ":")) for r in recs]   # unusual spacing survives
    (src / "d.jsonl").write_text("\n".join(lines[:10]) + "\n\n" + "\n".join(lines[10:]))   # blank line, no final \n
    out = tmp_path / "out"
    r = filt(src, "-o", out, "-p", policy)
    assert r.returncode == 0, r.stderr
    kept = (out / "d.jsonl").read_bytes().splitlines()
    assert kept == [ln.encode() for ln in lines[:24]]          # untagged and copies gone, order kept
    removed = pq.read_table(out / ".manifest" / "removed.parquet").to_pylist()
    assert sorted((x["id"], x["reason"]) for x in removed) == [
        ("c0", "CA201"), ("c1", "CA201"), ("x0", "CA301"), ("x1", "CA301"), ("x2", "CA301")]
    assert [x["row"] for x in removed if x["id"] == "x0"] == [25]    # line index, counting the blank line
    m = json.loads((out / ".manifest" / "manifest.json").read_text())
    assert m["records"] == {"input": 29, "audited": 29, "kept": 24, "removed": 5, "tolerated_bad": 0,
                            "tolerated_bad_examples": []}
    assert m["removed_by_reason"] == {"CA201": 2, "CA301": 3}
    assert m["by_source"]["a"]["removed_by_reason"] == {"CA301": 3}
    assert len(m["policy"]["sha256"]) == 64 and m["tool"]["name"] == "collapse-audit"
    rescan = run_cli("scan", str(out), "-p", str(policy), "-q", "-w", "1", "--format", "summary")
    assert rescan.returncode == 0, rescan.stdout + rescan.stderr


def test_dry_run_writes_nothing(tmp_path, policy):
    src = write_lines(tmp_path / "d.jsonl", small_records())
    out = tmp_path / "out"
    r = filt(src, "-o", out, "-p", policy, "--dry-run")
    assert r.returncode == 0, r.stderr
    assert not out.exists()
    assert "Dry run: nothing written" in r.stdout and "5 would be removed" in r.stdout
    assert "CA301" in r.stdout and "x0" in r.stdout
    assert filt(src, "-p", policy, "--dry-run").returncode == 0     # no -o needed for a dry run


@pytest.mark.parametrize("where", ["input", "inside", "contains", "not-empty"])
def test_refuses_unsafe_output_directories(tmp_path, policy, where):
    src = tmp_path / "in"
    src.mkdir()
    data = write_lines(src / "d.jsonl", small_records())
    before = data.read_bytes()
    out = {"input": data, "inside": src / "out", "contains": tmp_path, "not-empty": tmp_path / "full"}[where]
    if where == "not-empty":
        out.mkdir()
        (out / "old.txt").write_text("x")
    r = filt(src, "-o", out, "-p", policy)
    assert r.returncode == 2
    assert r.stderr.startswith("collapse-audit: error: ") and "Traceback" not in r.stderr
    assert data.read_bytes() == before and not (src / "out").exists()


def test_usage_errors_exit_2(tmp_path, policy):
    src = write_lines(tmp_path / "d.jsonl", small_records())
    r = filt(src, "-p", policy)
    assert r.returncode == 2 and "No output directory" in r.stderr
    r = filt(tmp_path / "missing.jsonl", "-o", tmp_path / "o", "-p", policy)
    assert r.returncode == 2 and "not found" in r.stderr


def test_sharding_and_zstd_output(tmp_path, policy):
    src = write_lines(tmp_path / "d.jsonl.zst", small_records(), compress="zst")
    out = tmp_path / "out"
    r = filt(src, "-o", out, "-p", policy, "--max-records-per-file", 10)
    assert r.returncode == 0, r.stderr
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert names == [f"d-0000{i}-of-00003.jsonl.zst" for i in range(3)]
    shards = [raw_lines(out / n) for n in names]
    assert [len(s) for s in shards] == [10, 10, 4]
    assert all((out / n).read_bytes()[:4] == b"\x28\xb5\x2f\xfd" for n in names)   # zstd frames
    assert [line for s in shards for line in s] == raw_lines(src)[:24]


def test_parquet_keeps_schema_and_honours_row_group_size(tmp_path, policy):
    recs = small_records()
    schema = pa.schema([("id", pa.string()), ("text", pa.large_string()), ("provenance", pa.string()),
                        ("source", pa.dictionary(pa.int32(), pa.string())), ("score", pa.float32())],
                       metadata={"made-by": "test"})
    for r in recs:
        r["score"] = 0.5
    src = tmp_path / "d.parquet"
    pq.write_table(pa.Table.from_pylist(recs, schema=schema), src, compression="zstd")
    out = tmp_path / "out"
    r = filt(src, "-o", out, "-p", policy, "--row-group-size", 5)
    assert r.returncode == 0, r.stderr
    got = pq.ParquetFile(out / "d.parquet")
    assert got.schema_arrow.equals(pq.read_schema(src), check_metadata=True)
    assert got.metadata.num_rows == 24
    assert max(got.metadata.row_group(i).num_rows for i in range(got.metadata.num_row_groups)) <= 5
    assert got.metadata.row_group(0).column(0).compression == "ZSTD"
    assert got.read().to_pylist() == pq.read_table(src).slice(0, 24).to_pylist()


def test_quarantine_receives_the_removed_records(tmp_path, policy):
    src = write_lines(tmp_path / "d.jsonl", small_records())
    out, quar = tmp_path / "out", tmp_path / "quarantine"
    r = filt(src, "-o", out, "-p", policy, "--quarantine", quar)
    assert r.returncode == 0, r.stderr
    assert sorted(raw_lines(out / "d.jsonl") + raw_lines(quar / "d.jsonl")) == sorted(raw_lines(src))
    assert len(raw_lines(quar / "d.jsonl")) == 5
    r = filt(src, "-o", tmp_path / "o2", "-p", policy, "--quarantine", tmp_path / "o2" / "q")
    assert r.returncode == 2


def test_tolerated_bad_records_are_counted_not_copied(tmp_path, policy):
    src = tmp_path / "d.jsonl"
    lines = [json.dumps(r) for r in small_records()]
    lines.insert(3, "{not json")
    src.write_text("\n".join(lines) + "\n")
    assert filt(src, "-o", tmp_path / "o1", "-p", policy).returncode == 2
    assert not (tmp_path / "o1").exists()
    out = tmp_path / "out"
    r = filt(src, "-o", out, "-p", policy, "--max-bad-records", 1)
    assert r.returncode == 0, r.stderr
    m = json.loads((out / ".manifest" / "manifest.json").read_text())
    assert m["records"]["tolerated_bad"] == 1 and m["records"]["input"] == 30
    assert m["records"]["kept"] + m["records"]["removed"] + m["records"]["tolerated_bad"] == 30
    assert b"{not json\n" not in raw_lines(out / "d.jsonl")


def test_annotations_from_another_corpus_are_refused(tmp_path, policy):
    a = write_lines(tmp_path / "a.jsonl", small_records())
    b = write_lines(tmp_path / "b.jsonl", small_records(30))
    ann = tmp_path / "ann.parquet"
    run_cli("scan", str(a), "-p", str(policy), "--annotations", str(ann), "-q", "-w", "1", "--format", "summary")
    r = filt(b, "-o", tmp_path / "out", "-p", policy, "--from-annotations", ann)
    assert r.returncode == 2 and "annotations" in r.stderr and "Traceback" not in r.stderr
    r = filt(b, "-o", tmp_path / "out", "-p", policy, "--from-annotations", tmp_path / "nope.parquet")
    assert r.returncode == 2 and "not found" in r.stderr


def test_interrupted_run_leaves_no_complete_looking_output(tmp_path, policy, monkeypatch):
    from collapse_audit.filter import FilterOptions, run_filter, writers

    first = write_lines(tmp_path / "a.jsonl", small_records())
    second = write_lines(tmp_path / "b.jsonl", small_records(30)[5:])
    real = writers.write_input
    calls = []

    def dying(info, *args, **kwargs):
        calls.append(info.path)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(info, *args, **kwargs)

    monkeypatch.setattr(writers, "write_input", dying)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_filter(FilterOptions(paths=[str(first), str(second)], out=str(out), policy=str(policy), progress=False))
    assert len(calls) == 2 and not out.exists()


def test_contaminated_training_records_are_removed(tmp_path, policy):
    recs = small_records()[:24]
    evals = [{"id": f"q{i}", "text": words(i, 60)} for i in (900, 901)]
    recs[5]["text"] = "Question: " + evals[0]["text"] + " Answer follows."     # leaks an eval item
    recs[9]["text"] = evals[1]["text"]
    src = write_lines(tmp_path / "d.jsonl", recs)
    ev = write_lines(tmp_path / "eval.jsonl", evals)
    pol = tmp_path / "contam.yaml"
    pol.write_text(POLICY + "  - {id: CA501, metric: contamination.eval_fraction, max: 0.0}\n")
    out = tmp_path / "out"
    r = filt(src, "-o", out, "-p", pol, "--eval-set", ev)
    assert r.returncode == 0, r.stderr
    removed = pq.read_table(out / ".manifest" / "removed.parquet").to_pylist()
    assert sorted((x["id"], x["reason"]) for x in removed) == [("r5", "CA501"), ("r9", "CA501")]
    rescan = run_cli("scan", str(out), "-p", str(pol), "--eval-set", str(ev), "-q", "-w", "1", "--format", "json")
    assert {x["id"]: x["status"] for x in json.loads(rescan.stdout)["rules"]}["CA501"] == "pass"
    # without the eval set the policy's CA501 cannot be evaluated: a clear error, not a silent pass
    r = filt(src, "-o", tmp_path / "o2", "-p", pol)
    assert r.returncode == 2 and "--eval-set" in r.stderr
