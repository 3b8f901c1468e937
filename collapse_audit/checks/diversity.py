"""Diversity: how varied the corpus's language is — the first thing model collapse erodes.

Per corpus and per source: unigram token entropy, distinct-n ratios (n = 1..4), tail mass, token
types, token-length statistics and the mean MinHash similarity of a seeded record sample. All from
bounded sketches (see ``collapse_audit.signals.figures`` and ``docs/collapse-signals.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from ..lazy import np
from ..result.formatting import fmt_metric
from ..result.sections import Section, Table
from ..signals.figures import HEAVY_CANDIDATES, OTHER, DiversityParams, DiversityState, prepare_part
from .base import Check, CheckResult
from .registry import register_check
from .spec import Metric, MetricKind, Rule, option

PREFIX = "diversity."
#: the figures a vocabulary sample estimates (the rest stay exact: counts, lengths, HyperLogLogs)
ESTIMATED = ("token_entropy", "tail_mass")


@dataclass(frozen=True)
class DiversityOptions:
    """The policy's ``diversity:`` section (the sketch parameters also shape baseline profiles;
    ``drift_*`` tune the drift check's comparison with a baseline)."""

    enabled: bool = option(True, "Compute the diversity figures at all.")
    max_sources: int = option(50, "Sources tracked separately; the rest are grouped as '(other)'.",
                              min=1, max=10000)
    drift_min_count: int = option(10, "Baseline count for a token to be compared on its own in drift.", min=1)
    drift_pool_bits: int = option(8, "Rare tokens are pooled into 2**bits buckets in drift.", min=1, max=20)
    hll_p: int = option(14, "HyperLogLog precision for distinct counts (std error 1.04/sqrt(2**p)).",
                        min=4, max=18)
    capacity: int = option(1 << 20, "Token-count table size (Misra-Gries).", min=1024, max=1 << 26)
    tail_cut: float = option(1e-5, "Tail = token types below this share of all tokens.", min=1e-12, max=0.5)
    sample: int = option(1000, "Records in the self-similarity sample.", min=0, max=20000)
    sim_ngram: int = option(1, "Word n-grams compared in the self-similarity sample.", min=1, max=16)
    num_perm: int = option(64, "MinHash permutations per sampled record.", min=8, max=1024)
    residual_bits: int = option(16, "Hashed token histogram kept for baseline profiles (2**bits buckets).",
                                min=8, max=20)


def diversity_params(options: DiversityOptions | None) -> DiversityParams:
    """The sketch parameters of these options (the defaults when None)."""
    options = options or DiversityOptions()
    return DiversityParams(**{f.name: getattr(options, f.name) for f in fields(DiversityParams)})


FIGURES: tuple[tuple[str, MetricKind, str], ...] = (
    ("tokens", "count", "Tokens in the corpus (lower-cased words, edge punctuation stripped)."),
    ("token_entropy", "value", "Unigram token entropy in bits."),
    ("types", "count", "Distinct tokens (exact while the count table has room, else HyperLogLog)."),
    ("distinct_1", "fraction", "Distinct tokens over all tokens."),
    ("distinct_2", "fraction", "Distinct word bigrams over all bigrams."),
    ("distinct_3", "fraction", "Distinct word trigrams over all trigrams."),
    ("distinct_4", "fraction", "Distinct word 4-grams over all 4-grams."),
    ("tail_mass", "fraction", "Share of token occurrences from rare types (below tail_cut)."),
    ("length_mean", "value", "Mean record length in tokens."),
    ("length_std", "value", "Standard deviation of record length in tokens."),
    ("length_p10", "value", "10th percentile of record length in tokens."),
    ("length_p50", "value", "Median record length in tokens."),
    ("length_p90", "value", "90th percentile of record length in tokens."),
    ("empty_fraction", "fraction", "Share of records without a token."),
    ("self_similarity", "fraction", "Mean MinHash token-set similarity between records of a seeded sample."),
)


@register_check
class Diversity(Check):
    """Measures lexical diversity (entropy, distinct n-grams, self-similarity), a collapse symptom."""
    name = "diversity"
    title = "Diversity"
    Options = DiversityOptions
    options_key = "diversity"
    metrics = tuple(Metric(PREFIX + k, kind, doc) for k, kind, doc in FIGURES)
    rules = (
        Rule(
            "CA401", "token-entropy-floor", "diversity.token_entropy", "min", 7.5, "warning",
            rationale=(
                "Unigram token entropy (bits) measures how evenly the corpus spreads over its vocabulary. "
                "Model collapse shows up first as lost diversity: recycled and model-generated text "
                "concentrates probability on common words and phrasings, and a model trained on it loses the "
                "tails. Natural English prose sits around 10-11 bits at word level; a corpus below 7.5 bits "
                "is dominated by a small vocabulary (templates, boilerplate, one narrow generator). Small "
                "corpora score lower (entropy cannot exceed log2 of the types seen), so this is a warning."
            ),
            example="{id: CA401, metric: diversity.token_entropy, min: 7.5, severity: warning}",
            enabled_by_default=True,
        ),
        Rule(
            "CA402", "distinct-bigram-floor", "diversity.distinct_2", "min", 0.05, "warning",
            rationale=(
                "distinct-2 is the share of word bigrams that are distinct. Repeated phrasings, the signature"
                " of recycled or templated generation, drive it down: recycling a tenth of a human corpus ten"
                " times takes it from 0.48 to 0.07 on L2R. It also falls naturally as a corpus grows (Heaps' "
                "law), so set the floor from a trusted corpus of similar size, or prefer CA414 against a "
                "baseline."
            ),
            example="{id: CA402, metric: diversity.distinct_2, min: 0.05, severity: warning}",
            enabled_by_default=False,
        ),
        Rule(
            "CA403", "tail-mass-floor", "diversity.tail_mass", "min", 0.01, "warning",
            rationale=(
                "The tail mass is the share of token occurrences from rare types (below a relative frequency "
                "of 1e-5 by default). Rare words are exactly what collapsed models stop producing; a corpus "
                "whose tail has vanished teaches the next model that they do not exist. Human prose keeps "
                "several percent of its tokens there (8.9 % on L2R); a recycled corpus keeps none."
            ),
            example="{id: CA403, metric: diversity.tail_mass, min: 0.01}",
            enabled_by_default=False,
        ),
        Rule(
            "CA404", "self-similarity-cap", "diversity.self_similarity", "max", 0.25, "warning",
            rationale=(
                "Mean MinHash (token-set Jaccard) similarity between records of a seeded random sample. "
                "Independent human documents overlap little (about 0.06 on L2R); when many records are "
                "variations of one another — the output of one prompt template, paraphrase loops, re-ingested"
                " shards — the mean rises. Unlike the near-duplicate rules it also catches homogeneity below "
                "the near-duplicate threshold."
            ),
            example="{id: CA404, metric: diversity.self_similarity, max: 0.25, severity: warning}",
            enabled_by_default=True,
        ),
    )

    def __init__(self, ctx=None):
        super().__init__(ctx)
        self.params = diversity_params(self.options)
        self.max_sources = int(self.options.max_sources)
        self.source_field = self.fields.source
        self.state = DiversityState(self.params)
        self.sources: dict[str, DiversityState] = {}
        self._source_ids: dict[str, int] = {}
        self._codes: list[np.ndarray] = []     # per record: tracked-source id (int16), for metrics_for
        self._by_source: dict[str, dict[str, float]] = {}

    @classmethod
    def active(cls, options) -> bool:
        """Whether the policy turned the check on."""
        return bool(options.enabled)

    def prepare(self, batch):
        """The batch's token counts, n-gram registers and sample priorities, shared with drift."""
        return prepare_part(batch, self.params, self.seed, self.source_field)

    def _source_state(self, name: str) -> tuple[str, DiversityState]:
        if name not in self.sources and len(self.sources) >= self.max_sources:
            name = OTHER
        st = self.sources.get(name)
        if st is None:
            # a hash sample of the vocabulary, not heavy hitters: the figures merge exactly in any order
            st = self.sources[name] = DiversityState(self.params.small(), vocabulary_sample=True)
            self._source_ids[name] = len(self._source_ids)
        return name, st

    def observe(self, batch, prepared) -> None:
        """Fold the batch's part into the corpus-wide and per-source states."""
        self.state.update(prepared, batch.texts)
        sources = prepared.get("sources")
        if sources is None:
            return
        batch_ids = np.zeros(len(prepared["names"]), dtype=np.int16)
        for ci, name in enumerate(prepared["names"]):
            tracked, st = self._source_state(name)
            st.update(sources[name])
            batch_ids[ci] = self._source_ids[tracked]
        self._codes.append(batch_ids[prepared["codes"]])

    state_attrs = ("state", "sources", "_source_ids", "_codes")

    def merge(self, other: Check) -> None:
        """Exact while the corpus has at most ``max_sources`` sources and no token table overflowed
        (see ``DiversityState.merge`` for the stated bound past that)."""
        self._merge_guard(other)
        assert isinstance(other, Diversity)
        self.state.merge(other.state)
        remap = np.zeros(max(other._source_ids.values(), default=-1) + 1, dtype=np.int16)
        for name, theirs in other.sources.items():
            tracked, st = self._source_state(name)
            st.merge(theirs)
            remap[other._source_ids[name]] = self._source_ids[tracked]
        self._codes += [remap[c] for c in other._codes]

    def finish(self) -> CheckResult:
        """The diversity figures as metrics, per source as well when sources are tagged."""
        figures = self.state.figures()
        metrics = {PREFIX + k: float(v) for k, v in figures.items() if k != "records"}
        # the corpus's most frequent tokens: the heavy types a sampled source counts on their own
        heavy = self.state.freq.top(HEAVY_CANDIDATES)[0]
        self._by_source = {name: self.sources[name].figures(heavy) for name in sorted(self.sources)}
        details = {
            "params": self.params.to_json(),
            "errors": self.state.errors(),
            "self_similarity_sample": int(self.state.sample_valid.sum()),
            "by_source": {k: {m: round(float(v), 6) for m, v in f.items()} for k, f in self._by_source.items()},
        }
        estimated = [name for name in sorted(self.sources) if self.sources[name].sampled]
        if estimated:
            # past 2**14 token types a source's entropy and tail mass come from a hash sample of its
            # vocabulary (exact counts of the sampled types, the same for any shard plan): estimates
            details["estimated_sources"] = estimated
            details["estimated_note"] = (
                "token entropy and tail mass of these sources are estimates from a hash sample of their "
                f"vocabulary ({self.params.small().capacity // 2} token types, each counted exactly; "
                "measured error in BENCHMARKS.md)")
        if OTHER in self.sources:
            details["sources_note"] = (f"only the first {self.max_sources} sources are tracked separately; "
                                       f"the rest are grouped as {OTHER!r}")
        return CheckResult(metrics=metrics, details=details)

    def metrics_for(self, mask: np.ndarray) -> dict[str, float]:
        """Exact per-source figures when ``mask`` selects exactly the records of one tracked source."""
        if not self._codes:
            return {}
        codes = np.concatenate(self._codes)
        mask = np.asarray(mask, dtype=bool)
        if len(mask) != len(codes) or not mask.any():
            return {}
        chosen = np.unique(codes[mask])
        if len(chosen) != 1 or int((codes == chosen[0]).sum()) != int(mask.sum()):
            return {}
        name = next(n for n, i in self._source_ids.items() if i == int(chosen[0]))
        if name == OTHER:
            return {}
        figs = self._by_source.get(name) or self.sources[name].figures(self.state.freq.top(HEAVY_CANDIDATES)[0])
        return {PREFIX + k: float(v) for k, v in figs.items() if k != "records"}

    @classmethod
    def section(cls, details, metrics) -> Section | None:
        """A table of the diversity figures, and one per source when there are several."""
        kinds = {k: kind for k, kind, _ in FIGURES}
        shown = [k for k, _, _ in FIGURES if PREFIX + k in metrics]
        if not shown:
            return None
        tables = []
        by_source = details.get("by_source")
        estimated = set(details.get("estimated_sources") or ())
        if isinstance(by_source, dict) and by_source:
            cols = ["records", "token_entropy", "distinct_2", "tail_mass", "length_mean"]
            rows = [[str(src), *(("≈ " if src in estimated and k in ESTIMATED else "")
                                 + fmt_metric("count" if k == "records" else kinds[k], figs.get(k))
                                 for k in cols)] for src, figs in by_source.items() if isinstance(figs, dict)]
            tables.append(Table(["source", *cols], rows, title="By source"))
        notes = [str(details[k]) for k in ("estimated_note", "sources_note") if details.get(k)]
        if estimated:
            notes[0] = f"≈ estimate: {notes[0]}"
        return Section(key=cls.name, title=cls.title, paragraphs=notes,
                       facts=[(k.replace("_", " "), fmt_metric(kinds[k], metrics[PREFIX + k])) for k in shown],
                       tables=tables)
