"""Hostile input in the files a scan trusts besides the policy: accepted findings and calibrations.

Both go through the one hardened configuration reader (bounded, strict YAML: no alias bomb, no
duplicate key); accepted findings are bound to each record's content, so a new record cannot hide
behind an accepted id or row.
"""

from __future__ import annotations

import json

import pytest
import yaml
from helpers import run_cli, words, write_jsonl

from .refusals import assert_refused, scan_json

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))


@pytest.fixture
def dups(tmp_path):
    """Two exact-duplicate findings: one record with an id, one without (accepted by file+row)."""
    recs = [{"id": f"r{i}", "text": words(i, 50), "provenance": "human"} for i in range(20)]
    recs.append({"id": "copy", "text": recs[3]["text"], "provenance": "human"})
    recs.append({"text": recs[4]["text"], "provenance": "human"})
    path = write_jsonl(tmp_path / "c.jsonl", recs)
    policy = tmp_path / "p.yaml"
    policy.write_text("rules:\n  - {id: CA202, max: 0.0}\n")
    accepted = tmp_path / "acc.yaml"
    assert run_cli("scan", path, "-p", policy, "--write-accept", accepted, "-q", "-f", "json").returncode == 1
    return path, policy, accepted, recs


def rescan(dups, recs):
    path, policy, accepted, _ = dups
    write_jsonl(path, recs)
    proc, result = scan_json(path, "-p", policy, "--accept", accepted)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, next(r for r in result["rules"] if r["id"] == "CA202")


# ---- refused --------------------------------------------------------------------------------------

def test_an_accept_alias_bomb_is_refused_naming_the_line(dups):
    path, policy, accepted, _ = dups
    accepted.write_text(BOMB)
    assert len(BOMB) < 1100
    assert_refused(run_cli("scan", path, "-p", policy, "--accept", accepted, "-q"), f"{accepted}:", "alias bomb")


@pytest.mark.parametrize("text, fragment", [
    ("version: 2\naccepted: {}\naccepted: {}\n", "duplicate key 'accepted'"),
    ("version: 1\naccepted: {CA202: {ids: [copy]}}\n", "version 1"),
    ("version: 2\naccepted: {CA202: [{id: copy}]}\n", "fingerprint"),
    ("", "empty"),
])
def test_malformed_accept_files_are_named(dups, text, fragment):
    path, policy, accepted, _ = dups
    accepted.write_text(text)
    assert_refused(run_cli("scan", path, "-p", policy, "--accept", accepted, "-q"), str(accepted), fragment)


def _calibration(tmp_path, **changes):
    doc = {"format": "collapse-audit-calibration/1", "kind": "labelled", "detector": {"name": "default"},
           "threshold": 0.5, "edges": [0.5], "human_counts": [30.0, 2.0], "synthetic_counts": [3.0, 27.0]}
    doc.update(changes)
    path = tmp_path / "cal.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.mark.parametrize("changes, fragment", [
    ({"human_counts": [float("nan"), 2.0]}, "nan in human_counts"),
    ({"synthetic_counts": [3.0, -27.0]}, "-27.0 in synthetic_counts"),
    ({"edges": [float("inf")]}, "inf in edges"),
])
def test_calibration_with_nan_or_negative_counts_is_refused_naming_the_file(tmp_path, changes, fragment):
    data = write_jsonl(tmp_path / "c.jsonl", [{"text": words(i), "provenance": "human"} for i in range(10)])
    cal = _calibration(tmp_path, **changes)
    assert_refused(run_cli("scan", data, "--calibration", cal, "-q"), str(cal), fragment)


def test_a_calibration_alias_bomb_is_refused(tmp_path):
    data = write_jsonl(tmp_path / "c.jsonl", [{"text": words(i), "provenance": "human"} for i in range(10)])
    cal = tmp_path / "cal.yaml"
    cal.write_text(BOMB)
    assert_refused(run_cli("scan", data, "--calibration", cal, "-q"), f"{cal}:", "alias bomb")


# ---- valid but odd: accepted findings follow the content ------------------------------------------

def test_a_new_record_reusing_an_accepted_id_is_not_suppressed(dups):
    recs = list(dups[3])
    recs[20] = {"id": "copy", "text": recs[5]["text"], "provenance": "human"}     # same id, other duplicate
    code, rule = rescan(dups, recs)
    assert code == 1 and rule["status"] == "fail" and rule["records_flagged"] == 1


def test_a_new_record_shifted_into_an_accepted_row_is_not_suppressed(dups):
    recs = list(dups[3])
    recs[21] = {"text": recs[6]["text"], "provenance": "human"}                  # row 21, other content
    code, rule = rescan(dups, recs)
    assert code == 1 and rule["records_flagged"] == 1


def test_accepted_records_stay_accepted_when_moved_by_id_or_reformatted(dups):
    recs = list(dups[3])
    copy = recs.pop(20)
    recs.insert(10, copy)                                    # id-bound: another row (still after its original)
    nid = recs.pop(21)
    recs.insert(21, {**nid, "text": "  " + nid["text"].replace(" ", "   ") + "\n"})   # whitespace only
    code, rule = rescan(dups, recs)
    assert code == 0 and rule["status"] == "pass" and rule["suppressed"] == 2


def test_a_json_accept_file_works_like_yaml(tmp_path, dups):
    path, policy, _, _ = dups
    acc = tmp_path / "acc.json"
    assert run_cli("scan", path, "-p", policy, "--write-accept", acc, "-q", "-f", "json").returncode == 1
    assert all(len(e["fingerprint"]) == 32 for e in json.loads(acc.read_text())["accepted"]["CA202"])
    proc, _ = scan_json(path, "-p", policy, "--accept", acc)
    assert proc.returncode == 0, proc.stderr


def test_a_calibration_with_empty_bins_loads(tmp_path):
    from collapse_audit.detectors.calibration import from_rates, load, save
    from collapse_audit.detectors.registry import load_detector

    det = load_detector("default")
    path = str(tmp_path / "cal.yaml")
    save(from_rates(det, tpr=1.0, fpr=0.0, n_pos=50, n_neg=50), path)   # zero counts are counts
    cal = load(path, det)
    assert cal.neg == [50.0, 0.0] and cal.pos == [0.0, 50.0]
