"""Catalogue entries for the collapse-signal rules: CA4xx diversity and drift, CA5xx contamination.

Imported by ``policy.catalogue``. Rules on ``drift.*`` need ``scan --baseline`` and rules on
``contamination.*`` need ``scan --eval-set``, so they are off by default (a rule on a metric a scan
did not compute is an error). Thresholds are calibrated on the L2R corpus (see
docs/collapse-signals.md): replacing a human corpus entirely by LLM rewrites of the same material
gives drift.token_js ≈ 0.027, drift.token_kl ≈ 0.11 bits and drift.length_psi ≈ 0.11; recycling a
tenth of a human corpus ten times costs ~0.5 bit of entropy and all of the tail mass.
"""

from __future__ import annotations

SIGNAL_RULES: list[dict] = [
    # ------------------------------------------------------------ CA40x: diversity, no baseline needed
    {
        "id": "CA401", "name": "token-entropy-floor", "metric": "diversity.token_entropy", "op": "min",
        "default_threshold": 7.5, "severity": "warning", "enabled_by_default": True,
        "rationale": "Unigram token entropy (bits) measures how evenly the corpus spreads over its vocabulary. "
                     "Model collapse shows up first as lost diversity: recycled and model-generated text "
                     "concentrates probability on common words and phrasings, and a model trained on it loses "
                     "the tails. Natural English prose sits around 10-11 bits at word level; a corpus below "
                     "7.5 bits is dominated by a small vocabulary (templates, boilerplate, one narrow "
                     "generator). Small corpora score lower (entropy cannot exceed log2 of the types seen), so "
                     "this is a warning.",
        "example": "{id: CA401, metric: diversity.token_entropy, min: 7.5, severity: warning}",
    },
    {
        "id": "CA402", "name": "distinct-bigram-floor", "metric": "diversity.distinct_2", "op": "min",
        "default_threshold": 0.05, "severity": "warning", "enabled_by_default": False,
        "rationale": "distinct-2 is the share of word bigrams that are distinct. Repeated phrasings, the "
                     "signature of recycled or templated generation, drive it down: recycling a tenth of a "
                     "human corpus ten times takes it from 0.48 to 0.07 on L2R. It also falls naturally as a "
                     "corpus grows (Heaps' law), so set the floor from a trusted corpus of similar size, or "
                     "prefer CA414 against a baseline.",
        "example": "{id: CA402, metric: diversity.distinct_2, min: 0.05, severity: warning}",
    },
    {
        "id": "CA403", "name": "tail-mass-floor", "metric": "diversity.tail_mass", "op": "min",
        "default_threshold": 0.01, "severity": "warning", "enabled_by_default": False,
        "rationale": "The tail mass is the share of token occurrences from rare types (below a relative "
                     "frequency of 1e-5 by default). Rare words are exactly what collapsed models stop "
                     "producing; a corpus whose tail has vanished teaches the next model that they do not "
                     "exist. Human prose keeps several percent of its tokens there (8.9 % on L2R); a recycled "
                     "corpus keeps none.",
        "example": "{id: CA403, metric: diversity.tail_mass, min: 0.01}",
    },
    {
        "id": "CA404", "name": "self-similarity-cap", "metric": "diversity.self_similarity", "op": "max",
        "default_threshold": 0.25, "severity": "warning", "enabled_by_default": True,
        "rationale": "Mean MinHash (token-set Jaccard) similarity between records of a seeded random sample. "
                     "Independent human documents overlap little (about 0.06 on L2R); when many records are "
                     "variations of one another — the output of one prompt template, paraphrase loops, "
                     "re-ingested shards — the mean rises. Unlike the near-duplicate rules it also catches "
                     "homogeneity below the near-duplicate threshold.",
        "example": "{id: CA404, metric: diversity.self_similarity, max: 0.25, severity: warning}",
    },
    # ------------------------------------------------------------ CA41x: drift, need --baseline
    {
        "id": "CA410", "name": "token-distribution-drift", "metric": "drift.token_js", "op": "max",
        "default_threshold": 0.02, "severity": "error", "enabled_by_default": False,
        "rationale": "Jensen-Shannon divergence (bits, 0-1) between the corpus's token distribution and the "
                     "baseline profile's, with rare tokens pooled so that sampling noise does not dominate. "
                     "A corpus drifting away from the human data it was built from — more and more "
                     "model-generated or paraphrased text — changes how common words are used before anything "
                     "else. On L2R, replacing half of a human corpus with LLM rewrites gives 0.008, all of it "
                     "0.027; two disjoint 2,000-document human samples differ by ~0.009. Calibrate by "
                     "profiling one half of your trusted data and scanning the other. Needs --baseline.",
        "example": "{id: CA410, metric: drift.token_js, max: 0.02}",
    },
    {
        "id": "CA411", "name": "token-kl-drift", "metric": "drift.token_kl", "op": "max",
        "default_threshold": 0.08, "severity": "warning", "enabled_by_default": False,
        "rationale": "KL divergence (bits) of the corpus's token distribution from the baseline's (skew-"
                     "smoothed, so it stays finite). Unlike JS it is asymmetric: it grows fastest when the "
                     "corpus puts mass where the baseline had little — new stock phrases, generator "
                     "vocabulary. 0.11 bits on L2R for a fully LLM-rewritten corpus. Needs --baseline.",
        "example": "{id: CA411, metric: drift.token_kl, max: 0.08, severity: warning}",
    },
    {
        "id": "CA412", "name": "length-distribution-shift", "metric": "drift.length_psi", "op": "max",
        "default_threshold": 0.10, "severity": "warning", "enabled_by_default": False,
        "rationale": "Population stability index of record lengths (tokens) against the baseline, over the "
                     "baseline's deciles. Generators have characteristic lengths, and filtering or "
                     "truncation pipelines change them; a shifted length distribution changes what a model "
                     "learns about document structure. Convention: < 0.1 stable, 0.1-0.25 moderate, > 0.25 "
                     "major shift. Needs --baseline.",
        "example": "{id: CA412, metric: drift.length_psi, max: 0.10}",
    },
    {
        "id": "CA413", "name": "synthetic-score-shift", "metric": "drift.score_psi", "op": "max",
        "default_threshold": 0.25, "severity": "error", "enabled_by_default": False,
        "rationale": "PSI of the detector's synthetic-text scores against the baseline's score histogram. "
                     "Even when no single record crosses the detector threshold, a whole-corpus shift of the "
                     "score distribution towards 'synthetic' is evidence of creeping model-generated content. "
                     "Needs --baseline built with a detector (profile without --no-scores).",
        "example": "{id: CA413, metric: drift.score_psi, max: 0.25}",
    },
    {
        "id": "CA414", "name": "entropy-loss", "metric": "drift.delta.token_entropy", "op": "min",
        "default_threshold": -0.3, "severity": "error", "enabled_by_default": False,
        "rationale": "Change in unigram token entropy (bits) against the baseline. Collapse is a loss of "
                     "entropy: recycling a tenth of an L2R human corpus ten times costs 0.47 bits. A drop of "
                     "more than 0.3 bits means the corpus has become markedly more predictable than the "
                     "human data it should resemble. Needs --baseline.",
        "example": "{id: CA414, metric: drift.delta.token_entropy, min: -0.3}",
    },
    {
        "id": "CA415", "name": "tail-loss", "metric": "drift.delta.tail_mass", "op": "min",
        "default_threshold": -0.03, "severity": "warning", "enabled_by_default": False,
        "rationale": "Change in tail mass (share of tokens from rare types) against the baseline. The tails "
                     "are the first casualty of model collapse; losing more than 3 points of tail mass means "
                     "rare words are disappearing. Needs --baseline.",
        "example": "{id: CA415, metric: drift.delta.tail_mass, min: -0.03}",
    },
    {
        "id": "CA416", "name": "self-similarity-rise", "metric": "drift.delta.self_similarity", "op": "max",
        "default_threshold": 0.05, "severity": "warning", "enabled_by_default": False,
        "rationale": "Rise in mean sampled MinHash similarity against the baseline: records have become more "
                     "alike than in the trusted corpus. Needs --baseline.",
        "example": "{id: CA416, metric: drift.delta.self_similarity, max: 0.05}",
    },
    # ------------------------------------------------------------ CA5xx: contamination, need --eval-set
    {
        "id": "CA501", "name": "eval-contamination", "metric": "contamination.eval_fraction", "op": "max",
        "default_threshold": 0.0, "severity": "error", "enabled_by_default": False,
        "rationale": "Share of eval-set records of which at least half the word 13-grams occur in the training "
                     "corpus. Training on the test set inflates benchmark scores and hides the degradation "
                     "that collapse causes; a model that has seen the eval cannot be measured by it. The "
                     "report lists each contaminated eval record with the first training record (file, row) "
                     "that overlaps it, and the annotations flag every overlapping training record. Needs "
                     "--eval-set.",
        "example": "{id: CA501, metric: contamination.eval_fraction, max: 0.0}",
    },
    {
        "id": "CA502", "name": "contaminated-training-records", "metric": "contamination.train_count",
        "op": "max", "default_threshold": 0, "severity": "warning", "enabled_by_default": False,
        "rationale": "Training records that share an n-gram with a contaminated eval record: what to remove "
                     "to decontaminate. Needs --eval-set.",
        "example": "{id: CA502, metric: contamination.train_count, max: 0, severity: warning}",
    },
]
