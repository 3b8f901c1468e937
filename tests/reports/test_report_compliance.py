"""The HTML report for a compliance reader: plain sentences, one settle box, labels, witnesses.

(The layout at two widths is checked in a real browser: test_report_browser.py.)
"""

from __future__ import annotations

import copy

import pytest

from collapse_audit.policy.evaluate import SETTLE
from collapse_audit.reports import html
from collapse_audit.reports.html_detector import applicability_sentence, settle_advice, witnesses_panels
from collapse_audit.reports.lookups import metric_label
from collapse_audit.reports.view import as_result


def _with_app(result: dict, state: str, failed: tuple[str, ...] = (), reason: str = "") -> dict:
    r = copy.deepcopy(result)
    tests = {name: {"passed": name not in failed} for name in ("score_fit", "feature_shift", "language")}
    r["detector"]["applicability"] = {"state": state, "reason": reason, "tests": tests, "calibration": None}
    return r


@pytest.mark.parametrize("state,failed,reason,expect", [
    ("validated", (), "", "is validated on this corpus"),
    ("calibrated", (), "", "is calibrated"),
    ("unvalidated", ("score_fit",), "its score histogram fits no mixture", "do not look like any mix"),
    ("unvalidated", ("language",), "", "not English prose"),
    ("unvalidated", (), "only 246 records: too few to test", "only 246 of its scored records are prose"),
])
def test_applicability_is_one_plain_sentence(result, state, failed, reason, expect):
    sentence = applicability_sentence(as_result(_with_app(result, state, failed, reason)))
    assert sentence is not None and expect in sentence
    assert sentence.count(". ") == 0 and sentence.endswith(".")      # one sentence
    assert "kl_excess" not in sentence and "ambiguous_excess" not in sentence


def test_the_settling_advice_appears_once(result):
    r = copy.deepcopy(result)
    for rule in r["rules"][:2]:
        rule["status"] = "inconclusive"
        rule["message"] = f"{rule['metric']} = 1: inconclusive: not validated; {SETTLE}"
    page = html.render(r)
    assert page.count('class="settle"') == 1
    assert page.count(html.esc(SETTLE[1:])) == 1        # only in the box ("To settle it, ...")
    assert settle_advice("x; calibrate on labelled records or bring a stronger detector to settle it") == ("x", True)


def test_metric_columns_carry_human_labels():
    assert metric_label("provenance.missing_fraction") == "Share of records without a provenance tag"
    assert metric_label("diversity.token_entropy") == "Unigram token entropy in bits"
    assert metric_label("Records") is None and metric_label("not.a.metric") is None


def test_flagged_and_threshold_are_defined_once(result):
    page = html.render(result)
    assert page.count("Records flagged:") == 1 and page.count("At or above the threshold:") == 1
    assert "(flagged as synthetic)" not in page


@pytest.mark.parametrize("lows,highs,agree", [((0.2, 0.25), (0.4, 0.5), True), ((0.2, 0.6), (0.3, 0.8), False)])
def test_one_panel_per_witness_and_whether_they_agree(result, lows, highs, agree):
    r = copy.deepcopy(result)
    r["detector"]["witnesses"] = {"count": 2, "agree": agree, "families": {"human": 0.7, "chat": 0.2, "base": 0.1},
                                  "list": [{"name": f"w{i}", "estimate": (lo + hi) / 2, "ci_low": lo, "ci_high": hi,
                                            "scored": 100}
                                           for i, (lo, hi) in enumerate(zip(lows, highs, strict=True))]}
    block = witnesses_panels(as_result(r))
    assert block.count('class="witness"') == 2
    assert ("The witnesses agree" in block) == agree and ("disagree" in block) == (not agree)
    assert "Joint fit by family: human 70" in block
    assert 'class="witness"' in html.render(r)


def test_one_witness_says_it_cannot_see_its_blind_spots(result):
    r = copy.deepcopy(result)
    r["detector"]["witnesses"] = {"count": 1, "agree": None, "list": [
        {"name": "default", "estimate": 0.3, "ci_low": 0.2, "ci_high": 1.0, "scored": 300}]}
    block = witnesses_panels(as_result(r))
    assert block.count('class="witness"') == 1 and "One witness only" in block


def test_no_witness_block_without_witnesses(result):
    assert witnesses_panels(as_result(result)) == ""
