"""Contamination: planted eval records are found and listed with their training-side location."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import make_batches, make_check, run_check, zipf_texts

from collapse_audit.checks.contamination import Contamination, ContaminationOptions
from collapse_audit.config import ScanConfig
from collapse_audit.signals.eval_index import build_eval_index
from collapse_audit.signals.resources import load_resources


def _scan(train_texts, eval_sets, batch_size=256, **options):
    """eval_sets: {path: [texts]}; returns (check, result)."""
    index = build_eval_index(((p, make_batches(t, 100, file=p)) for p, t in eval_sets.items()), ngram=13)
    check = make_check(Contamination, options, resources={"eval_index": index})
    return check, run_check(check, make_batches(train_texts, batch_size, file="train.jsonl"))


def _corpus(seed=0):
    texts = zipf_texts(3000, vocab=50_000, length=80, seed=seed, a=1.05)
    evals = zipf_texts(300, vocab=50_000, length=60, seed=seed + 100, a=1.05)
    return texts, evals


def test_planted_eval_records_are_found_with_training_location():
    train, evals = _corpus()
    planted = {17: 250, 42: 1999, 99: 2999, 123: 0}          # eval record -> training row replaced
    for e, t in planted.items():
        train[t] = "Some preamble words here. " + evals[e] + " and a trailing sentence."
    _, res = _scan(train, {"evals/mmlu.jsonl": evals})
    m = res.metrics
    assert m["contamination.eval_count"] == 4
    assert m["contamination.eval_fraction"] == pytest.approx(4 / 300)
    listed = {d["eval_row"]: d for d in res.details["contaminated"]}
    assert set(listed) == set(planted)
    for e, t in planted.items():
        d = listed[e]
        assert d["eval_file"] == "evals/mmlu.jsonl" and d["eval_line"] == e + 1
        assert d["train_file"] == "train.jsonl" and d["train_row"] == t and d["train_index"] == t
        assert d["overlap"] == 1.0
    flags = res.flags["contamination.eval_fraction"]
    assert len(flags) == len(train) and set(np.nonzero(flags)[0]) == set(planted.values())


def test_first_overlapping_training_record_is_reported():
    train, evals = _corpus(1)
    train[500] = evals[3]
    train[100] = evals[3]          # earlier copy in a different batch
    _, res = _scan(train, {"e.jsonl": evals}, batch_size=64)
    (d,) = res.details["contaminated"]
    assert d["train_row"] == 100
    assert res.metrics["contamination.train_count"] == 2


def test_partial_overlap_respects_threshold():
    train, evals = _corpus(2)
    words = evals[7].split()
    train[10] = " ".join(words[:20])            # 8 of its 48 13-grams: overlap 1/6
    _, low = _scan(train, {"e.jsonl": evals})
    assert low.metrics["contamination.eval_count"] == 0
    assert low.metrics["contamination.max_overlap"] == pytest.approx(8 / 48)
    _, strict = _scan(train, {"e.jsonl": evals}, threshold=0.1)
    assert strict.metrics["contamination.eval_count"] == 1


def test_clean_corpus_and_short_records():
    train, evals = _corpus(3)
    evals = evals + ["What is the capital of France?"]        # shorter than 13 tokens
    _, res = _scan(train, {"e.jsonl": evals})
    assert res.metrics["contamination.eval_count"] == 0
    train[5] = "what is the capital of france"              # same tokens after normalisation
    _, res = _scan(train, {"e.jsonl": evals})
    assert res.metrics["contamination.eval_count"] == 1
    assert res.details["contaminated"][0]["eval_row"] == len(evals) - 1


def test_several_eval_sets_reported_separately():
    train, evals = _corpus(4)
    a, b = evals[:150], evals[150:]
    train[7] = b[9]
    _, res = _scan(train, {"a.jsonl": a, "b.jsonl": b})
    per = {s["path"]: s for s in res.details["eval_sets"]}
    assert per["a.jsonl"]["contaminated"] == 0 and per["b.jsonl"]["contaminated"] == 1
    (d,) = res.details["contaminated"]
    assert d["eval_set"] == "b.jsonl" and d["eval_row"] == 9
    assert res.metrics["contamination.eval_fraction"] == pytest.approx(1 / 300)


def test_l2r_planted_copies(l2r):
    texts = [r["text"] for r in l2r]
    evals, train = texts[:500], texts[500:8500]
    rows = [11, 3000, 7999]
    for i, r in enumerate(rows):
        train[r] = evals[100 + i]
    _, res = _scan(train, {"l2r-eval.jsonl": evals}, batch_size=1024)
    found = {(d["eval_row"], d["train_row"]) for d in res.details["contaminated"]}
    assert {(100 + i, r) for i, r in enumerate(rows)} <= found
    # L2R has its own duplicates (TravelTourism repeats TechnicalWriting): anything else listed must
    # really be a copy of an eval record
    for d in res.details["contaminated"]:
        assert d["overlap"] >= 0.5


def test_load_resources_builds_index_from_reader(tmp_path):
    path = tmp_path / "eval.jsonl"
    path.write_text("\n".join(json.dumps({"text": t}) for t in ["alpha beta gamma " * 10, "delta"]) + "\n")
    seen = []

    def read_batches(paths, cfg):
        seen.append(list(paths))
        assert cfg.fields.text == "text" and cfg.fields.provenance is None  # the eval set's own fields
        texts = [json.loads(line)["text"] for line in path.read_text().splitlines()]
        return iter(make_batches(texts, 10, file=str(path)))

    config = ScanConfig(eval_sets=(str(path),), options={"contamination": ContaminationOptions(ngram=8)})
    res = load_resources(config, read_batches)
    assert set(res) == {"eval_index"} and seen == [[str(path)]]
    idx = res["eval_index"]
    assert idx.ngram == 8 and idx.records == 2 and list(idx.record_grams) == [3, 1]
    assert load_resources(ScanConfig(), read_batches) == {}


def test_per_source_breakdown_with_metrics_for():
    train, evals = _corpus(5)
    train[40] = evals[1]
    train[41] = evals[2]
    train[900] = evals[2]
    check, res = _scan(train, {"e.jsonl": evals})
    src_a = np.zeros(len(train), bool)
    src_a[:500] = True
    a, b = check.metrics_for(src_a), check.metrics_for(~src_a)
    assert res.metrics["contamination.eval_count"] == 2
    assert a["contamination.eval_count"] == 2 and a["contamination.train_count"] == 2
    assert b["contamination.eval_count"] == 1 and b["contamination.train_count"] == 1
