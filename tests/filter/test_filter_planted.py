"""Known-answer runs: filter planted corpora with per-record truth, then check the output and re-scan it."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
from helpers import run_cli

from .conftest import raw_lines, read_records

CAP = 0.30


def manifest(out: Path) -> dict:
    return json.loads((out / ".manifest" / "manifest.json").read_text())


def check_common(src: Path, out: Path) -> tuple[list[dict], list[dict], dict]:
    """Invariants every filter run must keep; returns (input records, kept records, manifest)."""
    m = manifest(out)
    before, after = read_records(src), read_records(out)
    # kept + removed + tolerated-bad = input, and the manifest lists every removed record
    assert m["records"]["kept"] == len(after)
    assert m["records"]["kept"] + m["records"]["removed"] + m["records"]["tolerated_bad"] == len(before)
    removed = pq.read_table(out / ".manifest" / "removed.parquet")
    assert removed.num_rows == m["records"]["removed"]
    removed_ids = set(removed.column("id").to_pylist())
    kept_ids = [r["id"] for r in after]
    assert len(set(kept_ids)) == len(kept_ids) and not removed_ids & set(kept_ids)
    assert removed_ids | set(kept_ids) == {r["id"] for r in before}
    # every kept record is an unchanged input record
    by_id = {r["id"]: r for r in before}
    assert all(r == by_id[r["id"]] for r in after)
    for f in src.iterdir():
        if ".jsonl" in f.name:   # byte-identical lines, compressed like the input
            assert set(raw_lines(out / f.name)) <= set(raw_lines(f))
            assert (out / f.name).read_bytes()[:2] == f.read_bytes()[:2]
        else:                    # same Arrow schema, metadata included
            assert pq.read_schema(out / f.name).equals(pq.read_schema(f), check_metadata=True)
    return before, after, m


def rescan(out: Path) -> dict:
    r = run_cli("scan", str(out), "--format", "json", "-q", "-w", "1")
    assert r.returncode in (0, 1), r.stderr
    return {rule["id"]: rule for rule in json.loads(r.stdout)["rules"]}


def truth_share(records: list[dict]) -> float:
    return sum(r["truth"] == "synthetic" for r in records) / len(records)


def clean_human_kept(before: list[dict], after: list[dict]) -> float:
    clean = {r["id"] for r in before if r["truth"] == "human" and "cluster" not in r}
    return len(clean & {r["id"] for r in after}) / len(clean)


def test_mixed_corpus_passes_after_filter(mixed_corpus: Path, tmp_path: Path, calibrated_policy: Path):
    src = mixed_corpus
    assert truth_share(read_records(src)) > CAP          # the planted corpus really is over the cap
    out = tmp_path / "out"
    r = run_cli("filter", str(src), "-o", str(out), "-q", "-w", "1", "-p", str(calibrated_policy))
    assert r.returncode == 0, r.stderr
    before, after, m = check_common(src, out)
    rules = rescan(out)
    assert rules["CA201"]["status"] == "pass" and rules["CA301"]["status"] == "pass"
    assert not any(r["truth"] == "untagged" for r in after)
    clusters = Counter(r["cluster"] for r in after if "cluster" in r)
    assert set(clusters.values()) == {1} and len(clusters) == 23          # one representative per planted pair
    assert truth_share(after) <= CAP
    assert clean_human_kept(before, after) >= 0.90
    cap = m["synthetic_cap"]
    exp = cap["expected_share_output"]
    assert exp["ci_low"] <= exp["estimate"] <= exp["ci_high"] <= CAP
    assert cap["removed_by_score"] == 0 and 0 < cap["declared_synthetic_kept"] < cap["declared_synthetic"]
    assert set(m["by_source"]) == {"web", "vendor"} and all(s["kept"] for s in m["by_source"].values())


def test_score_cap_on_undeclared_synthetic(undeclared_corpus: Path, tmp_path: Path, calibrated_policy: Path):
    src = undeclared_corpus
    out = tmp_path / "out"
    r = run_cli("filter", str(src), "-o", str(out), "-q", "-w", "1", "-p", str(calibrated_policy))
    assert r.returncode == 0, r.stderr
    before, after, m = check_common(src, out)
    cap = m["synthetic_cap"]
    assert cap["removed_by_score"] > 0
    assert truth_share(after) <= CAP
    assert clean_human_kept(before, after) >= 0.90
    exp = cap["expected_share_output"]
    assert exp["ci_high"] <= CAP
    assert exp["ci_low"] <= truth_share(after) <= exp["ci_high"]       # the stated interval covers the truth
    # stratified: both sources give up records, in proportion, and both remain
    per = m["by_source"]
    assert all(s["removed_by_reason"].get("CA101", 0) > 0 and s["kept"] > 0 for s in per.values())
    removed = pq.read_table(out / ".manifest" / "removed.parquet").to_pylist()
    assert {x["basis"] for x in removed} == {"detector score"}
    assert min(x["synthetic_score"] for x in removed) >= 0.8   # only records the detector flags


def test_score_cap_refused_when_estimate_not_validated(undeclared_corpus: Path, tmp_path: Path):
    ann = tmp_path / "ann.parquet"
    r = run_cli("scan", str(undeclared_corpus), "--annotations", str(ann), "--sample", "0", "-q", "-w", "1",
                "--format", "summary")
    assert r.returncode in (0, 1), r.stderr
    out = tmp_path / "out"
    # no scan result: nothing says the estimate applies to this corpus, so capping by score is refused
    r = run_cli("filter", str(undeclared_corpus), "-o", str(out), "--from-annotations", str(ann), "-q")
    assert r.returncode == 2
    assert "Refusing to cap synthetic records by detector score (CA101)" in r.stderr
    assert "Traceback" not in r.stderr and not out.exists()
    # a result whose applicability block says unvalidated is refused the same way
    res = tmp_path / "result.json"
    r = run_cli("scan", str(undeclared_corpus), "--sample", "0", "-q", "-w", "1", "--format", "json", "-o", str(res))
    data = json.loads(res.read_text())
    data["detector"]["applicability"] = {"state": "unvalidated", "reason": "outside the validated domain",
                                         "tests": {}, "calibration": None}
    res.write_text(json.dumps(data))
    r = run_cli("filter", str(undeclared_corpus), "-o", str(out), "--from-annotations", str(ann),
                "--scan-result", str(res), "-q")
    assert r.returncode == 2 and "outside the validated domain" in r.stderr
    # --ignore CA101 filters everything else
    r = run_cli("filter", str(undeclared_corpus), "-o", str(out), "--from-annotations", str(ann),
                "--ignore", "CA101", "-q")
    assert r.returncode == 0, r.stderr
    assert manifest(out)["records"]["removed"] == 0


def test_from_annotations_gives_the_same_output(mixed_corpus: Path, tmp_path: Path):
    ann, res = tmp_path / "ann.parquet", tmp_path / "res.json"
    r = run_cli("scan", str(mixed_corpus), "--annotations", str(ann), "--sample", "0", "-q", "-w", "1",
                "--format", "json", "-o", str(res))
    assert r.returncode == 1, r.stderr
    a, b = tmp_path / "a", tmp_path / "b"
    assert run_cli("filter", str(mixed_corpus), "-o", str(a), "-q", "-w", "1").returncode == 0
    r = run_cli("filter", str(mixed_corpus), "-o", str(b), "--from-annotations", str(ann), "--scan-result", str(res),
                "-q")
    assert r.returncode == 0, r.stderr
    for name in ("web.jsonl.gz", "vendor.parquet"):
        assert (a / name).read_bytes() == (b / name).read_bytes()


def test_from_sampled_annotations_scores_every_record(undeclared_corpus: Path, tmp_path: Path,
                                                     calibrated_policy: Path):
    """A scan that scored a sample leaves most scores empty; the filter scores the rest itself."""
    ann, res = tmp_path / "ann.parquet", tmp_path / "res.json"
    # a sample the applicability test can vouch for (its minimum), yet not every record
    r = run_cli("scan", str(undeclared_corpus), "--annotations", str(ann), "--sample", "340", "-q", "-w", "1",
                "--format", "json", "-o", str(res), "-p", str(calibrated_policy))
    assert r.returncode in (0, 1), r.stderr
    assert pq.read_table(ann).column("synthetic_score").null_count == 10
    out = tmp_path / "out"
    r = run_cli("filter", str(undeclared_corpus), "-o", str(out), "--from-annotations", str(ann),
                "--scan-result", str(res), "-q", "-p", str(calibrated_policy))
    assert r.returncode == 0, r.stderr
    before, after, m = check_common(undeclared_corpus, out)
    removed = pq.read_table(out / ".manifest" / "removed.parquet")
    assert removed.column("synthetic_score").null_count == 0
    assert m["synthetic_cap"]["removed_by_score"] > 0 and truth_share(after) <= CAP
    assert clean_human_kept(before, after) >= 0.90
