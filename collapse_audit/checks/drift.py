"""Drift: how far the scanned corpus has moved from a trusted baseline profile (``--baseline``).

Token-distribution Jensen–Shannon and KL divergence on the profile's partition, PSI of token
lengths, and the change in every diversity figure. ``drift.score_psi`` (synthetic-score PSI) needs
the detector's scores, which belong to the synthetic check: the engine computes it with
``collapse_audit.signals.drift.score_psi(profile.scores, scores)``.
"""

from __future__ import annotations

from ..signals.drift import (DEFAULT_MIN_COUNT, DEFAULT_POOL_BITS, PartitionCounter, grouped_psi, js_divergence,
                             kl_divergence, pooled_vector)
from ..signals.figures import DiversityState, prepare_part
from .base import Check, CheckResult

DELTA_FIGURES = ("token_entropy", "distinct_1", "distinct_2", "distinct_3", "distinct_4", "tail_mass",
                 "types", "length_mean", "length_p50", "self_similarity")


class Drift(Check):
    name = "drift"
    produces = ("drift.*",)

    def __init__(self, config, resources=None):
        super().__init__(config, resources)
        profile = self.resources.get("baseline")
        if profile is None:
            raise RuntimeError("the drift check needs resources['baseline'] (signals.resources.load_resources)")
        self.profile = profile
        self.params = profile.params
        self.state = DiversityState(self.params)
        self.counter = PartitionCounter(profile.heavy_keys, profile.residual_bits)
        opts = dict(config.diversity or {})
        self.min_count = int(opts.get("drift_min_count", DEFAULT_MIN_COUNT))
        self.pool_bits = min(int(opts.get("drift_pool_bits", DEFAULT_POOL_BITS)), profile.residual_bits)

    @classmethod
    def enabled(cls, config) -> bool:
        return bool(config.baseline)

    def prepare(self, batch):
        # same arguments as the diversity check, so the per-batch work is shared when settings agree
        return prepare_part(batch, self.params, self.config.seed, self.config.fields.source)

    def observe(self, batch, prepared) -> None:
        self.state.update(prepared)
        self.counter.update(prepared["keys"], prepared["counts"])

    def finish(self) -> CheckResult:
        p = self.profile
        atoms = p.heavy_counts >= self.min_count
        current = pooled_vector(p.heavy_keys, self.counter.heavy_counts, self.counter.residual, atoms, self.pool_bits)
        baseline = pooled_vector(p.heavy_keys, p.heavy_counts, p.residual, atoms, self.pool_bits)
        full_cur, full_base = self.counter.vector(), p.token_vector()
        metrics = {
            "drift.token_js": js_divergence(current, baseline),
            "drift.token_kl": kl_divergence(current, baseline),
            "drift.token_js_full": js_divergence(full_cur, full_base),
            "drift.length_psi": grouped_psi(p.length_hist, self.state.length_hist),
        }
        now = self.state.figures()
        base = self.profile.figures
        for fig in DELTA_FIGURES:
            if fig in now and fig in base:
                metrics[f"drift.delta.{fig}"] = float(now[fig]) - float(base[fig])
        metrics = {k: float(v) for k, v in metrics.items()}
        k = len(p.heavy_counts)
        n_cur, n_base = full_cur.sum(), full_base.sum()
        res_cur = float(full_cur[k:].sum() / n_cur) if n_cur else 0.0
        res_base = float(full_base[k:].sum() / n_base) if n_base else 0.0
        details = {
            "baseline": {"records": p.data.get("records"), "inputs": p.data.get("inputs", []), "figures": base},
            "current": now,
            "partition": {"atoms": int(atoms.sum()), "min_count": self.min_count,
                          "pooled_buckets": 1 << self.pool_bits, "full_heavy_tokens": k,
                          "full_residual_buckets": len(full_base) - k},
            # token_js_full: coarsening onto the profile's partition can only lower JS; the gap is at
            # most the mean share of occurrences that fall in residual buckets
            "token_js_full_error_bound": 0.5 * (res_cur + res_base),
            "baseline_count_error": int(self.profile.data["tokens"].get("count_error", 0)),
            "score_psi": "computed by the engine from the synthetic check's scores "
                         "(signals.drift.score_psi)" if self.profile.scores else "baseline has no score histogram",
        }
        return CheckResult(metrics=metrics, details=details)
