"""`collapse-audit profile` end to end, and `scan --baseline/--eval-set` once the checks are registered."""

from __future__ import annotations

import json

import typer
from helpers import zipf_texts
from typer.testing import CliRunner

from collapse_audit.cli.profile import profile
from collapse_audit.signals.profile import load_profile


def _app():
    app = typer.Typer()
    app.command(name="profile")(profile)
    app.command(name="noop")(lambda: None)       # keep Typer in multi-command mode
    return app


def _write(path, texts, **extra):
    with open(path, "w", encoding="utf-8") as fh:
        for i, t in enumerate(texts):
            fh.write(json.dumps({"id": i, "text": t, "source": f"s{i % 3}", **extra}) + "\n")
    return path


def test_profile_command_writes_a_loadable_profile(tmp_path):
    corpus = _write(tmp_path / "human.jsonl", zipf_texts(300, 3000, 30, seed=1))
    out = tmp_path / "baseline.json"
    r = CliRunner().invoke(_app(), ["profile", str(corpus), "-o", str(out), "--no-scores", "-w", "1", "-q"])
    assert r.exit_code == 0, r.output
    p = load_profile(str(out))
    assert p.data["records"] == 300 and p.data["inputs"][0]["records"] == 300
    assert set(p.data["by_source"]) == {"s0", "s1", "s2"}
    assert p.data["scores"] is None


def test_profile_command_errors_exit_2(tmp_path):
    r = CliRunner().invoke(_app(), ["profile", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "x.json"), "-q"])
    assert r.exit_code == 2
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    r = CliRunner().invoke(_app(), ["profile", str(empty), "-o", str(tmp_path / "x.json"), "-q", "--no-scores"])
    assert r.exit_code == 2


def test_scan_with_baseline_and_eval_set(tmp_path):
    from collapse_audit.engine import ScanOptions, run_scan

    human = zipf_texts(400, 4000, 40, seed=2)
    evals = zipf_texts(50, 4000, 40, seed=3)
    base = _write(tmp_path / "human.jsonl", human)
    prof = tmp_path / "baseline.json"
    r = CliRunner().invoke(_app(), ["profile", str(base), "-o", str(prof), "--no-scores", "-w", "1", "-q"])
    assert r.exit_code == 0, r.output
    train = human[:200] + [evals[5]] + human[200:]
    corpus = _write(tmp_path / "train.jsonl", train, provenance="human")
    ev = _write(tmp_path / "eval.jsonl", evals)
    result = run_scan(ScanOptions(paths=[str(corpus)], baseline=str(prof), eval_sets=[str(ev)], workers=1,
                                  progress=False))
    m = result.metrics
    assert m["contamination.eval_count"] == 1
    (d,) = result.details["contamination"]["contaminated"]
    assert d["train_row"] == 200 and d["eval_row"] == 5
    assert 0 <= m["drift.token_js"] < 0.05 and "drift.delta.token_entropy" in m
    assert "diversity.token_entropy" in m
    assert "diversity.distinct_2" in result.sources["groups"]["s0"]
