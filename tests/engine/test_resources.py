"""Resources load by name for the checks that run, and a rule's availability follows its check's needs."""

from __future__ import annotations

import pytest

from collapse_audit.checks.base import Check, CheckResult, DeclarationError
from collapse_audit.checks.pii import Pii
from collapse_audit.checks.registry import check_named
from collapse_audit.checks.spec import Metric
from collapse_audit.config import ScanConfig
from collapse_audit.engine import resources as R
from collapse_audit.engine.scan import load_scan_policy, scan_config, scan_options


def _request(tmp_path, **options) -> tuple[ScanConfig, R.ResourceRequest]:
    opts = scan_options([str(tmp_path)], **options)
    config = scan_config(load_scan_policy(opts), opts)
    return config, R.ResourceRequest(config, [], lambda paths: iter(()), against=opts.against)


def test_a_metric_is_available_when_its_checks_needs_are_offered(tmp_path):
    _, plain = _request(tmp_path)
    available = R.metric_available(plain)
    assert available("duplicates.near_fraction") and available("synthetic.estimated_fraction")
    assert not available("drift.token_js") and not available("contamination.eval_fraction")
    assert not available("duplicates.against_near_fraction")
    assert available("records.total") and available("no.such_metric")      # no check: the policy decides
    _, asked = _request(tmp_path, baseline="b.json", eval_sets=["e.jsonl"], against="prev")
    assert {"baseline", "eval_index", "previous"} <= R.offered(asked)       # offered, nothing loaded yet
    assert R.metric_available(asked)("drift.token_js") and R.metric_available(asked)("contamination.eval_count")


def test_only_what_the_running_checks_need_is_loaded(tmp_path):
    _, request = _request(tmp_path)
    assert R.load_resources(request, [Pii]) == {}                           # no detector for a regex check
    loaded = R.load_resources(request, [check_named("synthetic")])
    assert {"detector", "sample_rows", "applicability_reference", "calibration"} <= set(loaded)


def test_a_registered_loader_serves_a_checks_need(tmp_path, monkeypatch):
    monkeypatch.setattr(R, "LOADERS", dict(R.LOADERS))
    calls = []
    R.register_resource("stopwords", lambda request: calls.append(1) or {"the", "a"},
                        requested=lambda request: request.against is None)

    class Needy(Check):
        name = "needy"
        title = "Needy"
        needs = ("stopwords",)
        metrics = (Metric("needy.count", "count", "d"),)

        def observe(self, batch, prepared):
            pass

        def finish(self):
            return CheckResult()

    _, request = _request(tmp_path)
    assert R.load_resources(request, [Needy, Needy]) == {"stopwords": {"the", "a"}} and calls == [1]
    _, refused = _request(tmp_path, against="prev")
    assert "stopwords" not in R.offered(refused)


def test_a_check_needing_an_unregistered_resource_is_refused_before_reading(tmp_path, monkeypatch):
    from collapse_audit.checks import registry

    class Lost(Check):
        name = "lost"
        title = "Lost"
        needs = ("gpu",)

        def observe(self, batch, prepared):
            pass

        def finish(self):
            return CheckResult()

    monkeypatch.setattr(registry, "_CHECKS", [*registry._CHECKS, Lost])
    config, request = _request(tmp_path)
    with pytest.raises(DeclarationError, match="unknown resource"):
        R.checks_to_run(config, request)
