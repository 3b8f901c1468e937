import time

import numpy as np
import pytest

from collapse_audit.detectors import features as F
from collapse_audit.detectors import load_detector
from collapse_audit.detectors.base import Detector
from collapse_audit.errors import AuditError

TEXTS = [
    "Hey John, nice skates. Are they new?\nYeah, I just got them.",
    "Additionally, it is crucial to note that the comprehensive framework enhances overall efficiency.",
    "",
    "x",
    "emoji 😀 and \x00 nul and ünïcödé — dashes “quotes”",
    "\n\ndef f(x):\n    return x\n",
]


def test_interface(default_detector):
    d = default_detector
    assert isinstance(d, Detector)
    assert d.name == "default" and d.version.startswith("default-")
    assert 0.0 < d.threshold < 1.0
    for k in ("tpr", "fpr", "n_pos", "n_neg", "auroc", "dataset", "split"):
        assert k in d.validation
    assert d.validation["tpr"] > d.validation["fpr"]
    assert d.validation["n_pos"] > 1000 and d.validation["n_neg"] > 300


def test_scores_shape_range_order(default_detector):
    s = default_detector.score(TEXTS)
    assert s.dtype == np.float64 and s.shape == (len(TEXTS),)
    assert np.all((s >= 0) & (s <= 1))
    # order: scoring one at a time gives the same numbers as a batch
    single = np.array([default_detector.score([t])[0] for t in TEXTS])
    np.testing.assert_allclose(single, s, rtol=1e-9, atol=1e-12)
    rev = default_detector.score(TEXTS[::-1])[::-1]
    np.testing.assert_allclose(rev, s, rtol=1e-9, atol=1e-12)
    assert default_detector.score([]).shape == (0,)


def test_non_string_inputs_do_not_crash(default_detector):
    s = default_detector.score([None, 3, "text"])
    assert s.shape == (3,)


def test_chunking_is_invisible(default_detector, monkeypatch):
    from collapse_audit.detectors import default as D
    texts = TEXTS * 50
    a = default_detector.score(texts)
    for name, value in (("CHUNK", 7), ("CHUNK_DOCS", 7), ("CHUNK_CHARS", 50)):
        if hasattr(D, name):
            monkeypatch.setattr(D, name, value)
    b = default_detector.score(texts)
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_threshold_override_recomputes_rates():
    d = load_detector("default", {"threshold": 0.99})
    base = load_detector("default")
    assert d.threshold == 0.99
    assert d.validation["fpr"] <= base.validation["fpr"]
    assert d.validation["tpr"] <= base.validation["tpr"]
    assert "threshold" in d.validation["note"]


def test_sqrt_dot_matches_training_matrix():
    rng = np.random.default_rng(0)
    f = F.featurise(TEXTS, 12, 12)
    X = F.sqrt_matrix(f, 12, 12)
    wc, ww = rng.normal(size=1 << 12), rng.normal(size=1 << 12)
    ref = X @ np.concatenate([wc, ww])
    got = F.sqrt_dot(f.char_doc, f.char_bucket, f.char_count, wc, f.n, 12) + \
        F.sqrt_dot(f.word_doc, f.word_bucket, f.word_count, ww, f.n, 12)
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-12)


def test_dense_features_finite():
    f = F.featurise(TEXTS)
    assert f.dense.shape == (len(TEXTS), len(F.DENSE_NAMES))
    assert np.isfinite(f.dense).all()


def test_speed_floor(default_detector):
    """The hard floor is 2,000 docs/s on one core; on a shared CI box allow slack."""
    texts = [("This is a sentence of ordinary length, written by someone. " * 10)[: 600]] * 4000
    default_detector.score(texts[:100])
    t = time.perf_counter()
    default_detector.score(texts)
    rate = len(texts) / (time.perf_counter() - t)
    assert rate > 500, rate


def test_registry_errors():
    with pytest.raises(AuditError, match="Unknown detector"):
        load_detector("nope")
    with pytest.raises(AuditError):
        load_detector("hf:")
    with pytest.raises(AuditError, match="not a local model directory"):
        load_detector("hf:/definitely/not/here")
    with pytest.raises(AuditError, match="not a local model directory"):
        load_detector("lm:/definitely/not/here")


def test_l2r_heldout_auroc(l2r, default_detector):
    from collapse_audit.detectors.evaluate import auroc
    idx = np.flatnonzero(l2r.split == "test")
    s = default_detector.score([l2r.texts[i] for i in idx])
    assert auroc(l2r.y[idx], s) > 0.93


def test_training_is_deterministic(l2r):
    pytest.importorskip("sklearn")
    from collapse_audit.detectors import train as T
    texts, y = l2r.texts[:400:2] + l2r.texts[-400::2], np.concatenate([l2r.y[:400:2], l2r.y[-400::2]])
    a = T.fit_default(texts, y)
    b = T.fit_default(texts, y)
    np.testing.assert_array_equal(a["w_char"], b["w_char"])
    np.testing.assert_array_equal(a["w_dense"], b["w_dense"])


def test_shipped_files_small_and_documented():
    from pathlib import Path

    import collapse_audit.detectors as pkg
    models = Path(pkg.__file__).parent / "models"
    total = sum(p.stat().st_size for p in models.iterdir() if p.is_file())
    assert total < 5 * 2**20
    card = (models / "MODEL_CARD.md").read_text()
    for word in ("L2R", "split", "AUROC", "default-2.0.0", "leave-one-domain-out", "M4"):
        assert word in card
    assert "../" not in card and "/work" not in card  # no build-machine paths


PARAGRAPH = (
    "The committee met on Tuesday to review the proposal. After a long discussion, members agreed that "
    "the budget should be revised before the next meeting, and that the schedule for the new building "
    "would depend on the outcome of the public consultation, which closes in 2024."
)


def _wrap(text, width=80):
    out, line = [], ""
    for w in text.split():
        if line and len(line) + 1 + len(w) > width:
            out.append(line)
            line = w
        else:
            line = (line + " " + w) if line else w
    return "\n".join(out + [line])


def test_formatting_does_not_move_the_score(default_detector):
    """Hard line wraps, indentation, an assistant preamble, a leading label or a code fence are
    formatting around the text, not its style: the score must not move."""
    base = default_detector.score([PARAGRAPH])[0]
    variants = [
        _wrap(PARAGRAPH),                                      # hard-wrapped at 80 columns
        "\n\n  " + PARAGRAPH.replace(". ", ".\n\n") + "\n",   # blank lines, indentation
        "Sure, here is the rewritten text:\n\n" + PARAGRAPH,  # assistant preamble
        "Here's a revised version:\n" + PARAGRAPH,
        "Abstract: " + PARAGRAPH,
        "```\n" + PARAGRAPH + "\n```",
    ]
    got = default_detector.score(variants)
    np.testing.assert_allclose(got, base, atol=1e-9)
    # digits are normalised too: a different year is not a different style
    assert abs(default_detector.score([PARAGRAPH.replace("2024", "1987")])[0] - base) < 1e-9


def test_normalisation_keeps_the_words():
    e = F.encode(["  Sure, here is it:\n\nHello   world 123\n", "", "a\tb  ", "\n\n"], normalise=True)
    text = "".join(map(chr, e.codes))
    assert text.split("\x00") == ["Hello world 000", "", "a b", ""]
    assert e.lengths.tolist() == [15, 0, 3, 0]
    assert "Sure" not in text


def test_shipped_fold_error_rates():
    """The leave-one-domain/generator-out error rates at the shipped threshold ship with the model."""
    from collapse_audit.detectors.default import load_model

    meta = load_model()["meta"]
    folds = meta["folds"]
    kinds = [f["fold"].split(":")[0] for f in folds]
    assert kinds.count("lodo") == 20 and kinds.count("logo") == 4
    assert "lodo:TravelTourism" not in {f["fold"] for f in folds}  # merged into TechnicalWriting
    for f in folds:
        assert set(f) == {"fold", "tpr", "fpr", "auroc", "n_pos", "n_neg"}
        assert 0 <= f["fpr"] <= 1 and 0 <= f["tpr"] <= 1 and 0.5 < f["auroc"] <= 1
        assert f["n_pos"] > 100 and f["n_neg"] > 30  # folds run on a fixed 30% subset
