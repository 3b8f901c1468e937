"""Hostile input on `scan --against STATE` (incremental dedup against an earlier snapshot's state).

Only what decides the duplicate keys must match (key scheme, seed, near-duplicate settings); the
earlier snapshot is another corpus by design, so another tool version or policy is fine.
"""

from __future__ import annotations

import pytest
from helpers import run_cli

from .refusals import assert_refused, corpus, rewrite_manifest, scan_json, tree


@pytest.fixture
def state(tmp_path):
    earlier = corpus(tmp_path / "earlier.jsonl", 40)
    st = tmp_path / "st"
    proc = run_cli("scan", earlier, "--partial", st, "-q")
    assert proc.returncode == 0, proc.stderr
    return st


@pytest.fixture
def now(tmp_path):
    return corpus(tmp_path / "now.jsonl", 30, start=20)     # records 20..39 were in the earlier snapshot


# ---- refused --------------------------------------------------------------------------------------

def test_report_onto_the_state_manifest_is_refused_and_the_state_kept(state, now):
    before = tree(state)
    assert_refused(run_cli("scan", now, "--against", state, "-f", "json", "-o", state / "manifest.json", "-q"),
                   "state directory", str(state))
    assert_refused(run_cli("scan", now, "--against", state, "--annotations", state / "a.parquet", "-q"),
                   "state directory")
    assert tree(state) == before


def test_a_truncated_state_file_is_named(state, now):
    target = state / "check-near_duplicates.npz"
    target.write_bytes(target.read_bytes()[:100])
    assert_refused(run_cli("scan", now, "--against", state, "-q"), str(target), "truncated")


def test_other_near_duplicate_settings_are_refused(tmp_path, state, now):
    policy = tmp_path / "p.yaml"
    policy.write_text("near_duplicates: {num_perm: 64}\nrules:\n  - {id: CA201, max: 1.0}\n")
    assert_refused(run_cli("scan", now, "--against", state, "-p", policy, "-q"), str(state), "near-duplicate")


def test_another_seed_or_a_shard_or_another_key_scheme_is_refused(tmp_path, state, now):
    assert_refused(run_cli("scan", now, "--against", state, "--seed", "3", "-q"), "--seed")
    shard = tmp_path / "half"
    assert run_cli("scan", now, "--shard", "0/2", "--partial", shard, "-q").returncode == 0
    assert_refused(run_cli("scan", now, "--against", shard, "-q"), "0/2", "complete state")
    rewrite_manifest(state, key_scheme=99)
    assert_refused(run_cli("scan", now, "--against", state, "-q"), str(state), "scheme")


def test_a_directory_that_is_not_a_state_is_refused(tmp_path, now):
    (tmp_path / "empty").mkdir()
    assert_refused(run_cli("scan", now, "--against", tmp_path / "empty", "-q"), "not a partial scan state")


# ---- valid but odd --------------------------------------------------------------------------------

def test_a_state_from_another_tool_version_and_policy_still_counts_exactly(tmp_path, state, now):
    rewrite_manifest(state, tool_version="0.0.1", policy_sha256="0" * 64)
    policy = tmp_path / "p.yaml"
    policy.write_text("rules:\n  - {id: CA201, max: 1.0}\n")
    proc, result = scan_json(now, "--against", state, "-p", policy)
    assert proc.returncode == 0, proc.stderr
    assert result["metrics"]["duplicates.against_exact_count"] == 20


def test_against_its_own_snapshot_every_record_was_seen(tmp_path, state):
    proc, result = scan_json(tmp_path / "earlier.jsonl", "--against", state, "--exit-zero")
    assert proc.returncode == 0, proc.stderr
    assert result["metrics"]["duplicates.against_exact_count"] == 40


def test_a_report_beside_the_state_is_fine(tmp_path, state, now):
    out = tmp_path / "report.json"
    proc = run_cli("scan", now, "--against", state, "-f", "json", "-o", out, "-q", "--exit-zero")
    assert proc.returncode == 0, proc.stderr
    assert out.exists()
