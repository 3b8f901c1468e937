"""Data-driven check tests: every ``cases/*.yaml`` file holds cases of texts + policy -> expected
metrics, per-record flags and per-source values, run through the checks as the engine builds them.

A case::

    - name: copies after whitespace collapsing
      checks: [exact_duplicates]        # registered check names to run
      policy: "near_duplicates: {threshold: 0.9}"     # optional policy text (fields, options)
      batch_size: 2                      # optional; results must not depend on it
      records:                           # a text, or a full record (text + metadata fields)
        - the cat sat
        - {text: "the  cat sat", source: b}
      metrics: {duplicates.exact_count: 1}           # exact (floats compared to 1e-9)
      flags: {duplicates.exact_count: [1]}           # indices of the records flagged for a metric
      per_source: {b: {duplicates.exact_count: 0}}   # as the engine breaks metrics down per source
      tolerance: 0.001                   # optional, for sketched figures (default 1e-9)
      not_run: [diversity]               # checks the policy switches off
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from helpers import make_batches

from collapse_audit.checks.registry import check_named, metrics_from_flags, registered, runnable
from collapse_audit.engine.scan import ScanOptions, scan_config
from collapse_audit.policy import load_policy

CASES = Path(__file__).parent / "cases"


def _cases():
    for path in sorted(CASES.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            yield pytest.param(case, id=f"{path.stem}: {case['name']}")


def _resources(needs):
    out = {}
    if "detector" in needs:
        from collapse_audit.detectors.registry import load_detector

        out["detector"] = load_detector("default")
    if "sample_rows" in needs:
        out["sample_rows"] = None          # score every record
    if "lm_witness" in needs:
        out["lm_witness"] = None           # the trained witness alone (the model's cases live in tests/detectors)
    return out


def _run(case, tmp_path, batch_size):
    policy_path = tmp_path / "policy.yaml"
    policy_path.write_text(case.get("policy") or "version: 1\n", encoding="utf-8")
    config = scan_config(load_policy(str(policy_path)), ScanOptions(paths=[]))
    recs = [r if isinstance(r, dict) else {"text": r} for r in case["records"]]
    texts = [r["text"] for r in recs]
    names = sorted({k for r in recs for k in r} - {"text"})
    fields = {k: [r.get(k) for r in recs] for k in names}
    batches = make_batches(texts, batch_size, fields=fields)
    if case.get("not_run"):
        everything = {n for c in registered() for n in c.needs}
        running = {c.name for c in runnable(config, everything)}
        assert running == {c.name for c in registered()} - set(case["not_run"])
    out = []
    for name in case.get("checks", []):
        cls = check_named(name)
        assert cls is not None, f"no registered check {name!r}"
        check = cls.from_config(config, _resources(cls.needs))
        for b in batches:
            check.observe(b, check.prepare(b))
        out.append((check, check.finish()))
    return out, recs


@pytest.mark.parametrize("case", list(_cases()))
def test_case(case, tmp_path):
    sizes = sorted({case.get("batch_size", 512), 1})
    tol = case.get("tolerance", 1e-9)
    seen = []
    for size in sizes:
        ran, recs = _run(case, tmp_path, size)
        metrics = {k: v for _, res in ran for k, v in res.metrics.items()}
        flags = {k: v for _, res in ran for k, v in res.flags.items()}
        for name, want in (case.get("metrics") or {}).items():
            assert name in metrics, f"metric {name} not produced"
            assert metrics[name] == pytest.approx(want, abs=tol), name
        for name, want in (case.get("flags") or {}).items():
            assert np.flatnonzero(flags[name]).tolist() == want, name
        for source, want in (case.get("per_source") or {}).items():
            mask = np.array([r.get("source") == source for r in recs])
            got = {}
            for check, res in ran:
                got.update(metrics_from_flags(res.flags, mask))
                got.update(check.metrics_for(mask))
            for name, value in want.items():
                assert got.get(name) == pytest.approx(value, abs=tol), f"{source}: {name}"
        seen.append(metrics)
    assert all(m == seen[0] for m in seen), "results depend on the batch size"
