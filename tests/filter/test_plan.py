"""The decision step on hand-made per-record arrays: no files, known answers."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from collapse_audit.checks.provenance_tags import HUMAN, MISSING, SYNTHETIC
from collapse_audit.errors import AuditError
from collapse_audit.filter.plan import build_plan, estimate_validated
from collapse_audit.filter.records import RecordTable
from collapse_audit.filter.synthetic_cap import allocate
from collapse_audit.policy import RuleSpec

VALID = {"tpr": 0.9, "fpr": 0.05, "n_pos": 2000, "n_neg": 2000}


def table(tag, score, source, exact=None, dup=None, issues=None) -> RecordTable:
    n = len(tag)
    return RecordTable(
        files=["f.jsonl"], file_idx=np.zeros(n, np.int32), row=np.arange(n, dtype=np.int64),
        ids=pa.array([f"r{i}" for i in range(n)]),
        exact_group=np.asarray(exact if exact is not None else [-1] * n, dtype=np.int64),
        duplicate_of=np.asarray(dup if dup is not None else [-1] * n, dtype=np.int64),
        score=np.asarray(score, dtype=np.float64), tag=np.asarray(tag, dtype=np.uint8),
        issues=pa.array(issues if issues is not None else [[] for _ in range(n)], type=pa.list_(pa.string())),
        source=np.asarray(source, dtype=np.int32), source_names=["a", "b", "c"][: max(source) + 1],
    )


def rule(rid, metric, limit, where=None):
    return RuleSpec(rid, rid.lower(), metric, "max", limit, "error", where)


def plan_for(records, rules, validated=(True, "ok"), ignore=()):
    return build_plan(records, rules, ignore=set(ignore), detector_validation=VALID,
                      estimate_validated=validated, threshold=0.5, seed=0)


def test_estimate_validated_reads_the_applicability_state_then_the_metric():
    assert estimate_validated({"detector": {"applicability": {"state": "validated", "reason": "r"}}})[0]
    assert estimate_validated({"detector": {"applicability": {"state": "calibrated", "reason": "r"}}})[0]
    assert estimate_validated({"detector": {"applicability": {"state": "unvalidated", "reason": "why"}}}) \
        == (False, "why")
    assert estimate_validated({"detector": {}, "metrics": {}})[0]                        # engine without the block
    assert not estimate_validated({"detector": {}, "metrics": {"synthetic.estimate_validated": 0.0}})[0]
    assert estimate_validated({"detector": {}, "metrics": {"synthetic.estimate_validated": 1.0}})[0]
    assert not estimate_validated(None)[0]


def test_allocate_is_proportional_within_limits():
    assert allocate(10, np.array([3, 1]), np.array([100, 100])).tolist() == [8, 2]
    assert allocate(10, np.array([3, 1]), np.array([4, 100])).tolist() == [4, 6]
    assert allocate(50, np.array([1, 1]), np.array([3, 4])).tolist() == [3, 4]
    assert allocate(0, np.array([1, 1]), np.array([3, 4])).tolist() == [0, 0]


def test_duplicates_keep_the_scans_representative_and_respect_rule_order():
    # 0 and 2 exact copies, 3 a near copy of 1; 1 is also untagged (CA301)
    rec = table([HUMAN, MISSING, HUMAN, HUMAN], [np.nan] * 4, [0] * 4, exact=[0, -1, 0, -1],
                dup=[-1, -1, 0, 1], issues=[[], ["CA301"], ["CA201"], ["CA201"]])
    rules = [rule("CA201", "duplicates.near_fraction", 0.05), rule("CA301", "provenance.missing_fraction", 0)]
    p = plan_for(rec, rules)
    assert p.kept.tolist() == [True, False, False, False]
    assert [p.reasons[r - 1] for r in p.reason[1:]] == ["CA301", "CA201", "CA201"]
    exact_only = plan_for(rec, [rule("CA202", "duplicates.exact_fraction", 0.0)])
    assert exact_only.kept.tolist() == [True, True, False, True]
    ignored = plan_for(rec, [rule("CA201", "duplicates.near_fraction", 0.05)], ignore={"CA201"})
    assert ignored.kept.all() and ignored.ignored[0]["id"] == "CA201"


def test_declared_cap_is_stratified_and_no_source_disappears():
    # source a: 80 human; source b: 10 declared synthetic, nothing else; source c: 30 declared synthetic
    tag = [HUMAN] * 80 + [SYNTHETIC] * 40
    src = [0] * 80 + [1] * 10 + [2] * 30
    rec = table(tag, [0.0] * 120, src)
    p = plan_for(rec, [rule("CA101", "synthetic.estimated_fraction", 0.10)])
    kept_synth = p.kept & (rec.tag == SYNTHETIC)
    assert 0 < kept_synth[80:90].sum() and 0 < kept_synth[90:].sum()      # both sources survive
    assert kept_synth[90:].sum() >= kept_synth[80:90].sum()                # in proportion to their size
    assert p.cap.expected["ci_high"] <= 0.10 + 1e-9
    assert p.cap.removed_scored.sum() == 0


def test_score_cap_removes_flagged_records_highest_first_and_refuses_unvalidated():
    rng = np.random.default_rng(0)
    n = 400
    synth = rng.random(n) < 0.4
    score = np.where(synth, rng.uniform(0.55, 1.0, n), rng.uniform(0.0, 0.6, n))
    src = (np.arange(n) % 2).tolist()
    rec = table([HUMAN] * n, score, src)
    p = plan_for(rec, [rule("CA101", "synthetic.estimated_fraction", 0.2)])
    gone = p.cap.removed_scored
    assert gone.sum() > 0 and (score[gone] >= 0.5).all()
    for s in (0, 1):   # within a source, every removed record outscores every kept flagged one
        mine = np.asarray(src) == s
        kept_flagged = mine & ~gone & (score >= 0.5)
        if kept_flagged.any() and (gone & mine).any():
            assert score[gone & mine].min() >= score[kept_flagged].max()
    assert p.cap.expected["ci_high"] <= 0.2
    with pytest.raises(AuditError, match="Refusing to cap"):
        plan_for(rec, [rule("CA101", "synthetic.estimated_fraction", 0.2)], validated=(False, "off-domain"))


def test_what_the_filter_does_follows_the_metrics_declaration():
    """Personal-data rules flag records, so the filter removes them; a rule describing the corpus as a
    whole (entropy), a min rule and a per-source duplicate rule are left, each saying why."""
    recs = table([HUMAN] * 5, [0.1] * 5, [0] * 5, exact=[0, -1, 0, -1, -1],
                 issues=[[], ["CA601"], [], ["CA601", "CA603"], []])
    rules = [rule("CA601", "pii.email_share", 0.0), rule("CA603", "pii.ip_share", 0.0),
             rule("CA401", "diversity.token_entropy", 7.5), rule("CA202", "duplicates.exact_fraction", 0.0,
                                                                  where={"source": "a"}),
             RuleSpec("mine", "mine", "pii.any_count", "min", 1, "error")]
    plan = plan_for(recs, rules)
    assert plan.kept.tolist() == [True, False, True, False, True]
    assert [a["id"] for a in plan.acted_on] == ["CA601", "CA603"]
    assert [a["removed"] for a in plan.acted_on] == [2, 0]      # record 3 went with the first rule
    assert sorted(i["id"] for i in plan.ignored) == ["CA202", "CA401", "mine"]
