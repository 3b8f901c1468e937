"""The applicability test: in-domain samples stay validated, shifted ones are caught, each for its reason."""

import numpy as np
import pytest

from collapse_audit.detectors import applicability as A
from collapse_audit.detectors.quantify import ScoreReference

ENGLISH = ("The committee met on Tuesday and agreed that the new bridge should be finished before the "
           "winter, because the old one is no longer safe for the heavy trucks that use it every day.")
GERMAN = ("Der Ausschuss traf sich am Dienstag und beschloss, dass die neue Brücke vor dem Winter fertig "
          "sein soll, weil die alte für schwere Lastwagen nicht mehr sicher genug erscheint.")
CODE = "def add(a, b):\n    return a + b\n\nclass Box:\n    def __init__(self):\n        self.items = []\n"


def test_language_and_code_known_answers():
    assert not A.is_non_english(ENGLISH) and not A.is_code(ENGLISH)
    assert A.is_non_english(GERMAN)
    assert A.is_code(CODE) and not A.is_non_english(ENGLISH + "\n" + ENGLISH)
    assert not A.is_non_english("too short to tell")


@pytest.fixture(scope="module")
def ref():
    rng = np.random.default_rng(0)
    s = np.concatenate([rng.beta(6, 2, 2400), rng.beta(2, 6, 600)])
    y = np.r_[np.ones(2400), np.zeros(600)].astype(bool)
    X = rng.normal(size=(5000, 20))
    mu, prec, cut = A.feature_reference(X)
    return A.Reference(ScoreReference.from_scores(s, y, 0.5), mu, prec, cut, 0.01,
                       {"version": "test-1"})


def _probe(ref, n, texts=None, shift=0.0, seed=1):
    rng = np.random.default_rng(seed)
    p = A.Probe(ref)
    p.update(texts or [ENGLISH] * n, rng.normal(size=(n, 20)) + shift)
    return p


def _mix(rng, n, share):
    k = int(n * share)
    return np.concatenate([rng.beta(6, 2, k), rng.beta(2, 6, n - k)])


@pytest.mark.parametrize("share", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("n", [A.MIN_RECORDS, 5000])
def test_in_domain_samples_stay_validated(ref, share, n):
    a = A.assess(_probe(ref, n), _mix(np.random.default_rng(n), n, share), ref)
    assert a["state"] == "validated", a["reason"]
    assert all(t["passed"] for t in a["tests"].values())


def test_scores_piled_where_neither_class_lies_fail_the_fit(ref):
    s = np.random.default_rng(3).beta(30, 30, 2000)        # all near the threshold
    a = A.assess(_probe(ref, 2000), s, ref)
    assert a["state"] == "unvalidated"
    assert not a["tests"]["score_fit"]["passed"] and "neither validated class" in a["reason"]


def test_humans_scored_more_human_than_validated_fail_the_fit(ref):
    """Human text scored far more confidently human than validated (the L2R LegalDocument pattern,
    where the detector also half misses the synthetic text) is flagged by its own statistic."""
    s = np.random.default_rng(7).beta(1, 60, 1000)
    a = A.assess(_probe(ref, 1000), s, ref)
    fit = a["tests"]["score_fit"]
    assert a["state"] == "unvalidated" and fit["confident_human_excess"] > A.CONFIDENT_EXCESS_MAX
    assert "confidently human" in a["reason"]


def test_shifted_features_fail_the_feature_test(ref):
    a = A.assess(_probe(ref, 1000, shift=1.5), _mix(np.random.default_rng(4), 1000, 0.3), ref)
    assert a["state"] == "unvalidated"
    assert not a["tests"]["feature_shift"]["passed"] and a["tests"]["score_fit"]["passed"]


def test_foreign_language_and_code_are_outside(ref):
    for texts in ([GERMAN] * 400, [CODE] * 400):
        a = A.assess(_probe(ref, 400, texts=texts), _mix(np.random.default_rng(5), 400, 0.3), ref)
        assert a["state"] == "unvalidated" and not a["tests"]["language"]["passed"]


def test_too_few_records_or_no_reference_is_unvalidated(ref):
    assert A.assess(_probe(ref, 5), _mix(np.random.default_rng(6), 5, 0.5), ref)["state"] == "unvalidated"
    assert A.assess(A.Probe(None), [0.5] * 100, None)["state"] == "unvalidated"


def test_probes_merge_like_one_stream(ref):
    a, b = _probe(ref, 100, seed=1), _probe(ref, 50, texts=[GERMAN] * 50, seed=2)
    a.merge(b)
    assert (a.n, a.n_non_english) == (150, 50)


def test_probe_from_record_flags_counts_like_update():
    """The scan keeps per-record flags (so any subset, e.g. one source, gets its own probe)."""
    ref = A.load_reference("default")
    texts = [ENGLISH] * 7 + [GERMAN] * 3 + [CODE] * 2
    streamed = A.Probe(ref)
    streamed.update(texts)
    outlier, code, non_en = A.record_flags(texts, ref)
    kept = A.Probe.from_flags(ref, outlier, code, non_en)
    names = ("n", "n_outlier", "n_foreign", "n_code", "n_non_english")
    assert [getattr(kept, k) for k in names] == [getattr(streamed, k) for k in names]
    assert (kept.n_code, kept.n_non_english) == (2, 3)


def test_shipped_reference_matches_the_default_detector(default_detector):
    ref = A.load_reference("default")
    assert ref is not None, "models/default_reference.npz is missing"
    A.check_reference_matches(ref, default_detector)
    assert ref.meta["weights_sha256"] == A.weights_sha256(A.shipped_path("default.npz"))
    assert ref.score.folds and all({"tpr", "fpr"} <= set(f) for f in ref.score.folds)


def test_l2r_held_out_test_split_stays_validated(l2r_test, default_detector):
    ref = A.load_reference("default")
    idx = np.flatnonzero(l2r_test.split == "test")[::2]
    texts = [l2r_test.texts[i] for i in idx]
    p = A.Probe(ref)
    p.update(texts)
    a = A.assess(p, default_detector.score(texts), ref)
    assert a["state"] == "validated", a["reason"]


def test_stale_reference_is_an_error_naming_it(default_detector):
    from collapse_audit.errors import AuditError

    ref = A.load_reference("default")
    ref.meta = {**ref.meta, "weights_sha256": "0" * 64}
    with pytest.raises(AuditError, match="default_reference.npz"):
        A.check_reference_matches(ref, default_detector)


def test_a_corpus_too_small_to_test_is_unvalidated_and_says_why(ref):
    n = A.MIN_RECORDS - 1
    a = A.assess(_probe(ref, n), _mix(np.random.default_rng(3), n, 0.3), ref)
    assert a["state"] == "unvalidated" and "too few" in a["reason"] and "calibrate" in a["reason"]
