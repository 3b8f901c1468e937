"""Drift: how far the scanned corpus has moved from a trusted baseline profile (``--baseline``).

Token-distribution Jensen–Shannon and KL divergence on the profile's partition, PSI of token
lengths, and the change in every diversity figure. ``drift.score_psi`` (synthetic-score PSI) needs
the detector's scores, which belong to the synthetic check: ``combine`` joins them once every check
has finished.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..lazy import np
from ..result.formatting import fmt_metric, fmt_number
from ..result.sections import Section, Table
from ..signals.drift import PartitionCounter, grouped_psi, js_divergence, kl_divergence, pooled_vector, score_psi
from ..signals.figures import DiversityState, prepare_part
from .base import Check, CheckResult
from .diversity import FIGURES, Diversity, DiversityOptions
from .registry import register_check
from .spec import Metric, Rule

DELTA_FIGURES = ("token_entropy", "distinct_1", "distinct_2", "distinct_3", "distinct_4", "tail_mass",
                 "types", "length_mean", "length_p50", "self_similarity")
_KIND = {k: kind for k, kind, _ in FIGURES}


@register_check
class Drift(Check):
    """Compares the corpus's token distribution and figures with a baseline profile."""
    name = "drift"
    title = "Drift from the baseline"
    needs = ("baseline",)
    metrics = (
        Metric("drift.token_js", "value", "Jensen-Shannon divergence (bits) of the token distribution from the "
               "baseline's, rare tokens pooled.", unit="bits", per_source=False),
        Metric("drift.token_kl", "value", "KL divergence (bits) of the token distribution from the baseline's.",
               unit="bits", per_source=False),
        Metric("drift.token_js_full", "value", "Jensen-Shannon divergence (bits) on the profile's full "
               "partition, without pooling.", unit="bits", per_source=False),
        Metric("drift.length_psi", "value", "Population stability index of record lengths against the "
               "baseline's deciles.", per_source=False),
        Metric("drift.score_psi", "value", "PSI of the detector's scores against the baseline's score "
               "histogram (joined by the engine from the synthetic check's scores).", per_source=False),
        *(Metric(f"drift.delta.{f}", "value", f"Change of diversity.{f} against the baseline.", per_source=False)
          for f in DELTA_FIGURES),
    )
    rules = (
        Rule(
            "CA410", "token-distribution-drift", "drift.token_js", "max", 0.02, "error",
            rationale=(
                "Jensen-Shannon divergence (bits, 0-1) between the corpus's token distribution and the "
                "baseline profile's, with rare tokens pooled so that sampling noise does not dominate. A "
                "corpus drifting away from the human data it was built from — more and more model-generated "
                "or paraphrased text — changes how common words are used before anything else. On L2R, "
                "replacing half of a human corpus with LLM rewrites gives 0.008, all of it 0.027; two "
                "disjoint 2,000-document human samples differ by ~0.009. Calibrate by profiling one half of "
                "your trusted data and scanning the other. Needs --baseline."
            ),
            example="{id: CA410, metric: drift.token_js, max: 0.02}",
            enabled_by_default=False,
        ),
        Rule(
            "CA411", "token-kl-drift", "drift.token_kl", "max", 0.08, "warning",
            rationale=(
                "KL divergence (bits) of the corpus's token distribution from the baseline's (skew-smoothed, "
                "so it stays finite). Unlike JS it is asymmetric: it grows fastest when the corpus puts mass "
                "where the baseline had little — new stock phrases, generator vocabulary. 0.11 bits on L2R "
                "for a fully LLM-rewritten corpus. Needs --baseline."
            ),
            example="{id: CA411, metric: drift.token_kl, max: 0.08, severity: warning}",
            enabled_by_default=False,
        ),
        Rule(
            "CA412", "length-distribution-shift", "drift.length_psi", "max", 0.1, "warning",
            rationale=(
                "Population stability index of record lengths (tokens) against the baseline, over the "
                "baseline's deciles. Generators have characteristic lengths, and filtering or truncation "
                "pipelines change them; a shifted length distribution changes what a model learns about "
                "document structure. Convention: < 0.1 stable, 0.1-0.25 moderate, > 0.25 major shift. Needs "
                "--baseline."
            ),
            example="{id: CA412, metric: drift.length_psi, max: 0.10}",
            enabled_by_default=False,
        ),
        Rule(
            "CA413", "synthetic-score-shift", "drift.score_psi", "max", 0.25, "error",
            rationale=(
                "PSI of the detector's synthetic-text scores against the baseline's score histogram. Even "
                "when no single record crosses the detector threshold, a whole-corpus shift of the score "
                "distribution towards 'synthetic' is evidence of creeping model-generated content. Needs "
                "--baseline built with a detector (profile without --no-scores)."
            ),
            example="{id: CA413, metric: drift.score_psi, max: 0.25}",
            enabled_by_default=False,
        ),
        Rule(
            "CA414", "entropy-loss", "drift.delta.token_entropy", "min", -0.3, "error",
            rationale=(
                "Change in unigram token entropy (bits) against the baseline. Collapse is a loss of entropy: "
                "recycling a tenth of an L2R human corpus ten times costs 0.47 bits. A drop of more than 0.3 "
                "bits means the corpus has become markedly more predictable than the human data it should "
                "resemble. Needs --baseline."
            ),
            example="{id: CA414, metric: drift.delta.token_entropy, min: -0.3}",
            enabled_by_default=False,
        ),
        Rule(
            "CA415", "tail-loss", "drift.delta.tail_mass", "min", -0.03, "warning",
            rationale=(
                "Change in tail mass (share of tokens from rare types) against the baseline. The tails are "
                "the first casualty of model collapse; losing more than 3 points of tail mass means rare "
                "words are disappearing. Needs --baseline."
            ),
            example="{id: CA415, metric: drift.delta.tail_mass, min: -0.03}",
            enabled_by_default=False,
        ),
        Rule(
            "CA416", "self-similarity-rise", "drift.delta.self_similarity", "max", 0.05, "warning",
            rationale=(
                "Rise in mean sampled MinHash similarity against the baseline: records have become more alike"
                " than in the trusted corpus. Needs --baseline."
            ),
            example="{id: CA416, metric: drift.delta.self_similarity, max: 0.05}",
            enabled_by_default=False,
        ),
    )

    @classmethod
    def options_from(cls, config):
        """Drift compares with the diversity sketches, so it reads the ``diversity:`` section."""
        return Diversity.options_from(config)

    def __init__(self, ctx=None):
        super().__init__(ctx)
        profile = self.resources["baseline"]
        self.profile = profile
        self.params = profile.params
        self.state = DiversityState(self.params)
        self.counter = PartitionCounter(profile.heavy_keys, profile.residual_bits)
        opts = self.options if self.options is not None else DiversityOptions()
        self.min_count = int(opts.drift_min_count)
        self.pool_bits = min(int(opts.drift_pool_bits), profile.residual_bits)

    def prepare(self, batch):
        """The batch's token counts and registers (the same part as the diversity check's)."""
        # same arguments as the diversity check, so the per-batch work is shared when settings agree
        return prepare_part(batch, self.params, self.seed, self.fields.source)

    def observe(self, batch, prepared) -> None:
        """Count the batch's tokens on the baseline's partition and fold in its figures."""
        self.state.update(prepared, batch.texts)
        self.counter.update(prepared["keys"], prepared["counts"])

    state_attrs = ("state", "counter")

    def merge(self, other: Check) -> None:
        """Exact while the token table has not overflowed (``DiversityState.merge``); the counts
        on the baseline's partition add exactly."""
        self._merge_guard(other)
        assert isinstance(other, Drift)
        self.state.merge(other.state)
        self.counter.heavy_counts += other.counter.heavy_counts
        self.counter.residual += other.counter.residual

    def combine(self, results: Mapping[str, CheckResult]) -> dict[str, float]:
        """``drift.score_psi``: the synthetic check's per-record scores against the baseline's histogram."""
        scored = results.get("synthetic")
        if scored is None or "synthetic_score" not in scored.columns:
            return {}
        scores = np.array(scored.columns["synthetic_score"], dtype=np.float64)
        return {"drift.score_psi": score_psi(self.profile.scores, scores=scores)}

    def finish(self) -> CheckResult:
        """Divergences from the baseline (JS, KL, PSI) and the change in each figure."""
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

    @classmethod
    def section(cls, details, metrics) -> Section | None:
        """The divergences and a baseline-versus-corpus table of the figures."""
        shown = [m for m in cls.metrics if m.name in metrics and not m.name.startswith("drift.delta.")]
        base = details.get("baseline") if isinstance(details.get("baseline"), dict) else {}
        now = details.get("current") if isinstance(details.get("current"), dict) else {}
        figs_found = base.get("figures")
        figs = figs_found if isinstance(figs_found, dict) else {}
        rows = []
        for f in DELTA_FIGURES:
            if f"drift.delta.{f}" in metrics:
                kind = _KIND.get(f, "value")
                rows.append([f.replace("_", " "), fmt_metric(kind, figs.get(f)), fmt_metric(kind, now.get(f)),
                             fmt_metric("value", metrics[f"drift.delta.{f}"])])
        tables = [Table(["figure", "baseline", "this corpus", "change"], rows, title="Against the baseline")] \
            if rows else []
        paragraphs = []
        if base.get("records") is not None:
            paragraphs.append(f"Baseline profile of {fmt_number(base['records'])} records.")
        if isinstance(details.get("score_psi"), str):
            paragraphs.append(f"Score PSI: {details['score_psi']}.")
        if not shown and not rows:
            return None
        return Section(key=cls.name, title=cls.title, paragraphs=paragraphs,
                       facts=[(m.name.removeprefix("drift."), fmt_metric(m.kind, metrics[m.name])) for m in shown],
                       tables=tables)
