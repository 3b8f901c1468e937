"""Every input a user gives can gate: --eval-set and --baseline switch on the rules that judge them.

Without this a half-contaminated eval set, or a corpus that drifted far from its baseline, leaves
the verdict green unless the user also knows to pass --extend-select; the policy can still switch
those rules off explicitly, and --ignore wins over everything.
"""

from __future__ import annotations

import json

import pytest
from helpers import run_cli, write_jsonl, zipf_texts

from collapse_audit.engine import ScanOptions, run_scan
from collapse_audit.errors import AuditError


def _policy(tmp_path, extra: str = "") -> str:
    path = tmp_path / "policy.yaml"
    path.write_text("version: 1\nrules:\n  - {id: CA201}\n" + extra, encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def half_contaminated(tmp_path_factory):
    """A 400-record training corpus that contains 10 of the 20 eval records verbatim."""
    tmp = tmp_path_factory.mktemp("gate")
    train = zipf_texts(400, 4000, 40, seed=11)
    evals = zipf_texts(20, 4000, 40, seed=12)
    for i in range(10):
        train[30 * i] = evals[2 * i]
    corpus = write_jsonl(tmp / "train.jsonl", [{"id": i, "text": t, "provenance": "human"}
                                               for i, t in enumerate(train)])
    qa = [{"question": " ".join(t.split()[:20]), "answer": " ".join(t.split()[20:])} for t in evals]
    return tmp, corpus, write_jsonl(tmp / "evals.jsonl", [{"text": t} for t in evals]), write_jsonl(
        tmp / "qa.jsonl", qa)


def _scan(corpus, policy, **kw):
    return run_scan(ScanOptions(paths=[str(corpus)], policy=policy, workers=1, progress=False, **kw))


def _status(result, rule_id):
    return next((r.status for r in result.rules if r.id == rule_id), None)


def test_eval_set_fails_the_verdict_with_no_extra_flag(half_contaminated, tmp_path):
    _, corpus, evals, _ = half_contaminated
    result = _scan(corpus, _policy(tmp_path), eval_sets=[str(evals)])
    assert result.metrics["contamination.eval_fraction"] == pytest.approx(0.5)
    assert _status(result, "CA501") == "fail" and result.verdict == "fail"
    assert result.policy["activated_by"] == {"--eval-set": ["CA501", "CA502"]}
    # without the eval set the same corpus and policy pass: the input is what gates
    clean = _scan(corpus, _policy(tmp_path))
    assert clean.verdict == "pass" and "activated_by" not in clean.policy


@pytest.mark.parametrize("extra", ["ignore: [CA5]\n", "  - {id: CA501, enabled: false}\n"])
def test_the_policy_can_switch_an_input_rule_off(half_contaminated, tmp_path, extra):
    _, corpus, evals, _ = half_contaminated
    result = _scan(corpus, _policy(tmp_path, extra), eval_sets=[str(evals)])
    assert _status(result, "CA501") is None
    assert result.verdict == "pass"
    # CA502 stays on (a warning) unless the policy names it too
    assert (_status(result, "CA502") is None) == extra.startswith("ignore")


def test_ignore_on_the_command_line_wins(half_contaminated, tmp_path):
    _, corpus, evals, _ = half_contaminated
    result = _scan(corpus, _policy(tmp_path), eval_sets=[str(evals)], ignore=["CA501"])
    assert _status(result, "CA501") is None and result.verdict == "pass"
    assert result.policy["activated_by"] == {"--eval-set": ["CA502"]}


def test_a_policy_ignore_typo_is_an_error(half_contaminated, tmp_path):
    _, corpus, evals, _ = half_contaminated
    with pytest.raises(AuditError, match="ignore: CA59"):
        _scan(corpus, _policy(tmp_path, "ignore: [CA59]\n"), eval_sets=[str(evals)])


def test_heavy_drift_from_the_baseline_fails_the_verdict(tmp_path):
    base = write_jsonl(tmp_path / "base.jsonl", [{"text": t} for t in zipf_texts(400, 4000, 40, seed=1)])
    prof = tmp_path / "baseline.json"
    r = run_cli("profile", base, "-o", prof, "--no-scores", "-w", "1", "-q")
    assert r.returncode == 0, r.stderr
    # same generator shape, a different vocabulary: every token distribution figure moves far
    drifted = [t.replace("t", "u") for t in zipf_texts(400, 4000, 40, seed=2)]
    corpus = write_jsonl(tmp_path / "now.jsonl", [{"text": t, "provenance": "human"} for t in drifted])
    result = _scan(corpus, _policy(tmp_path), baseline=str(prof))
    assert result.metrics["drift.token_js"] > 0.3
    assert _status(result, "CA410") == "fail" and result.verdict == "fail"
    (codes,) = result.policy["activated_by"].values()
    assert "CA410" in codes and "CA413" not in codes  # no score histogram in this baseline: no PSI rule


def test_eval_text_field_joins_question_and_answer(half_contaminated, tmp_path):
    _, corpus, _, qa = half_contaminated
    policy = _policy(tmp_path)
    missing = run_cli("scan", corpus, "--eval-set", qa, "-p", policy, "-w", "1", "-q")
    assert missing.returncode == 2 and "qa.jsonl" in missing.stderr and "Traceback" not in missing.stderr
    r = run_cli("scan", corpus, "--eval-set", qa, "--eval-text-field", "question+answer", "-p", policy,
                "-w", "1", "-q", "-f", "json")
    assert r.returncode == 1, r.stderr
    out = json.loads(r.stdout)
    assert out["metrics"]["contamination.eval_count"] == 10
    assert out["policy"]["activated_by"]["--eval-set"] == ["CA501", "CA502"]
