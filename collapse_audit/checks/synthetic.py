"""Synthetic content: declared (provenance tags), detected (the detector) and estimated shares.

The detector scores a seeded uniform sample of at most ``detector.sample`` records (chosen by the
engine before the scan, so the choice does not depend on batching or workers). The estimated share
counts declared-synthetic records in full and estimates the share among the rest from the whole
score distribution (``detectors.quantify.assess_share``) - but first tests whether the corpus lies
inside the detector's validated domain (``detectors.applicability``): outside it the estimate is
*unvalidated*, its interval is widened to what held-out folds allow, and rules resting on the
detector's decisions cannot pass on it. A user calibration (labelled records, a trusted human-only
file, or measured rates in the policy) replaces the validation histograms and makes it *calibrated*.

State stays per record and small (score, tag code, whitespace tokens, three probe bits), so the
estimate and the applicability test can be recomputed for any subset of records (per source).
"""

from __future__ import annotations

import heapq
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..detectors.quantify import ShareAssessment, assess_share
from ..errors import AuditError
from ..lazy import np
from ..result.formatting import fmt_interval, fmt_metric, fmt_number
from ..result.sections import Histogram, Section, SourceSeries, Table
from ..text.excerpt import excerpt
from ..text.limits import clip_for_analysis
from . import presenting as P
from .base import Check, CheckContext, CheckResult
from .provenance_tags import HUMAN, SYNTHETIC, classify_tags, provenance_values, tag_text
from .registry import register_check
from .spec import Column, Metric, Rule, option

# The detector's feature tables and models are imported by the functions that use them, so reading
# the rule catalogue does not load them (nor numpy).
if TYPE_CHECKING:
    from ..detectors import applicability as A
    from ..detectors import calibration as C

TOP_K = 20
BINS = 20


VALIDATION_KEYS = ("tpr", "fpr", "n_pos", "n_neg")
NOT_FOR_DETECTOR = ("name", "sample", "calibration", "human_reference", "witnesses", "lm_sample", "lm_cache")
WITNESS_CHOICES = ("auto", "trained", "trained+lm")
#: picks the witnesses where the policy and the command line leave it to ``auto``
WITNESSES_ENV = "COLLAPSE_AUDIT_WITNESSES"
# probe bits kept per scored record
OUTLIER, CODE, NON_ENGLISH = 1, 2, 4


@dataclass(frozen=True)
class DetectorOptions:
    """The policy's ``detector:`` section: which detector, how many records it scores, and the
    options handed to it (``detector_options``)."""

    name: str = option("default", "Detector: default, neural, hf:PATH or lm:PATH.")
    sample: int = option(20000, "Score at most this many records (uniform, seeded); 0 = all.", min=0)
    threshold: float | None = option(None, "Score at which a record counts as flagged (default: the "
                                     "detector's own).", min=0.0, max=1.0)
    tpr: float | None = option(None, "Measured true-positive rate at the threshold (detector eval).",
                               min=0.0, max=1.0)
    fpr: float | None = option(None, "Measured false-positive rate at the threshold.", min=0.0, max=1.0)
    n_pos: int | None = option(None, "Synthetic records the rates were measured on.", min=1)
    n_neg: int | None = option(None, "Human records the rates were measured on.", min=1)
    synthetic_label: str | None = option(None, "hf: models: the label meaning model-generated.")
    method: str | None = option(None, "lm: detectors: the zero-shot criterion.",
                                choices=("fast-detectgpt", "log-rank"))
    center: float | None = option(None, "lm: detectors: criterion value mapped to 0.5.")
    scale: float | None = option(None, "lm: detectors: criterion scale of the logistic map.")
    batch_size: int | None = option(None, "Texts per model call (neural, hf:, lm:).", min=1, max=4096)
    max_length: int | None = option(None, "Tokens per text the model reads (hf:, lm:).", min=8, max=1 << 20)
    device: str | None = option(None, "Where torch-based detectors run (neural, hf:, lm:): auto takes a GPU "
                                "when torch sees one.", choices=("auto", "cpu", "cuda", "mps"))
    calibration: str | None = option(None, "Calibration file from `collapse-audit detector calibrate` "
                                     "(labelled in-domain records): replaces the validated error rates.")
    human_reference: str | None = option(None, "Trusted human-only records (any scan input format) to "
                                         "bound the detector's false-positive side on your domain.")
    witnesses: str = option("auto", "Which witnesses score the corpus: trained (the detector alone), trained+lm "
                            "(with the zero-shot language-model witness lm-smollm2), or auto (every installed one).",
                            choices=WITNESS_CHOICES)
    lm_sample: int = option(500, "Records the language-model witness scores (seeded, drawn from the detector's "
                            "sample; ~500 fit 8 CPU-minutes on 2 cores); 0 = every record the detector scores.",
                            min=0)
    lm_cache: str | None = option(None, "Parquet cache of language-model witness scores keyed by weights and "
                                  "text SHA-256 (read before scoring; written by `detector score --lm-cache`).")

    def problems(self) -> list[tuple[str, str]]:
        """Cross-field mistakes: (key, sentence) pairs."""
        given = [k for k in VALIDATION_KEYS if getattr(self, k) is not None]
        if given and len(given) != len(VALIDATION_KEYS):
            missing = [k for k in VALIDATION_KEYS if k not in given]
            return [(given[0], f"sets {', '.join(given)} but not {', '.join(missing)}; give all four "
                               "(from `collapse-audit detector eval`)")]
        return []

    def detector_options(self) -> dict[str, Any]:
        """What the detector itself receives (every option that is set, but name and sample)."""
        return {k: v for k, v in vars(self).items() if v is not None and k not in NOT_FOR_DETECTOR}


def load_calibration(opts: DetectorOptions, detector) -> C.Calibration | None:
    """The user's calibration, if any: a calibration file, a human reference, or rates in the policy.

    Loaded before the scan reads anything, so a file for another detector (name, version or weights
    hash) is an error naming the file, not a silently wrong estimate.
    """
    from ..detectors import calibration as C

    if opts.calibration and opts.human_reference:
        raise AuditError(f"Both a calibration file ({opts.calibration}) and a human reference "
                         f"({opts.human_reference}) are given; use one (a labelled calibration already "
                         f"measures the human side).")
    if opts.calibration:
        return C.load(opts.calibration, detector)
    if opts.human_reference:
        return C.measure_file(detector, opts.human_reference, human_only=True)
    if opts.tpr is not None and opts.fpr is not None and opts.n_pos is not None and opts.n_neg is not None:
        return C.from_rates(detector, tpr=opts.tpr, fpr=opts.fpr, n_pos=opts.n_pos, n_neg=opts.n_neg)
    return None


def load_witness(opts: DetectorOptions) -> tuple[Any, Any]:
    """The language-model witness's scorer and the joint reference, or (None, None).

    ``auto`` takes the witness when it is installed (its weights package and the Python side);
    ``trained+lm`` without it is an error saying what to install. The model itself is loaded later,
    by the process that scores; here only the weights file is located and its SHA-256 checked, so
    a wrong file is refused before anything is read.
    """
    from ..detectors import lm_witness
    from ..detectors import witnesses as W

    witnesses = opts.witnesses
    env = os.environ.get(WITNESSES_ENV, "").strip()
    if env and witnesses == "auto":   # e.g. a CI job or a test suite that must stay fast sets trained
        if env not in WITNESS_CHOICES:
            raise AuditError(f"{WITNESSES_ENV}={env!r} is not one of {', '.join(WITNESS_CHOICES)}.")
        witnesses = env
    if witnesses == "trained" or opts.name != "default":
        return None, None
    if witnesses == "auto" and not lm_witness.available():
        return None, None
    if not lm_witness.available():
        raise AuditError(f"detector.witnesses is trained+lm, but the language-model witness is not installed; "
                         f"install it with `{lm_witness.INSTALL_HINT}`.")
    lm_witness.check_weights(lm_witness.weights_path())
    return (lm_witness.LMScorer(device=opts.device, cache_path=opts.lm_cache), W.load_joint_model())


def detector_reference(detector) -> A.Reference | None:
    """The shipped applicability reference of a built-in detector, checked against the weights."""
    from ..detectors import applicability as A

    ref = A.load_reference(detector.name) if detector.name == "default" else None
    if ref is not None:
        A.check_reference_matches(ref, detector)
    return ref


@register_check
class Synthetic(Check):
    """Scores a seeded sample with the detector and estimates the synthetic share with its interval."""

    name = "synthetic"
    title = "Synthetic content"
    Options = DetectorOptions
    options_key = "detector"
    needs = ("detector", "sample_rows", "lm_witness")
    metrics = (
        Metric("synthetic.scored", "count", "Records the detector scored (the seeded sample).", unit="records",
               per_source=False),
        Metric("synthetic.lm_scored", "count", "Records the language-model witness scored (its seeded sample, "
               "drawn from the detector's).", unit="records", per_source=False),
        Metric("synthetic.declared_count", "count", "Records whose provenance tag says model-generated.",
               unit="records", field="provenance"),
        Metric("synthetic.declared_fraction", "fraction", "Share of records tagged model-generated.",
               field="provenance"),
        Metric("synthetic.detected_count", "count", "Scored records the detector flags.", unit="records"),
        Metric("synthetic.detected_fraction", "fraction", "Share of scored records the detector flags."),
        Metric("synthetic.estimated_fraction", "interval", "Estimated share of model-generated records: "
               "declared ones in full plus the share among the rest estimated from the detector's score "
               "distribution, with a 95% interval (widened when the estimate is unvalidated).", record_level="cap"),
        Metric("synthetic.estimated_token_fraction", "interval", "The same estimate by whitespace tokens "
               "(a pretraining mix is capped in tokens), with a 95% interval."),
        Metric("synthetic.estimate_validated", "value", "1 when the detector's error rates hold on this corpus "
               "(applicability state validated or calibrated), else 0: a rule on the estimate passes only then."),
        Metric("provenance.undeclared_synthetic_count", "count", "Records tagged human that the detector "
               "flags as model-generated.", unit="records", field="provenance"),
        Metric("provenance.undeclared_synthetic_fraction", "fraction", "Share of scored human-tagged records "
               "that the detector flags.", field="provenance"),
    )
    rules = (
        Rule(
            "CA101", "synthetic-share-cap", "synthetic.estimated_fraction", "max", 0.3, "error",
            rationale=(
                "Models trained on a growing share of model-generated text lose the tails of the human "
                "distribution and degrade generation after generation (model collapse). The cap is applied to"
                " the *estimated* share: records declared synthetic count in full, and the share of the rest "
                "is estimated from the detector's score distribution against its validated behaviour, with a "
                "95% interval. Every scan first tests whether the corpus lies inside the detector's validated "
                "domain; outside it the estimate is unvalidated and its interval widened. The rule fails when "
                "the interval's lower bound exceeds the cap, passes only on a validated (or calibrated) "
                "estimate whose upper bound is under it, and is otherwise inconclusive (`on_inconclusive`)."
            ),
            example="{id: CA101, metric: synthetic.estimated_fraction, max: 0.30}",
            enabled_by_default=True,
        ),
        Rule(
            "CA102", "declared-synthetic-cap", "synthetic.declared_fraction", "max", 0.3, "error",
            rationale=(
                "Caps the share of records whose provenance tag says they are model-generated. Unlike CA101 "
                "it needs no detector, so it is exact, but it trusts the tags."
            ),
            example="{id: CA102, metric: synthetic.declared_fraction, max: 0.20}",
            enabled_by_default=False,
        ),
        Rule(
            "CA103", "undeclared-synthetic", "provenance.undeclared_synthetic_count", "max", 0, "warning",
            rationale=(
                "Records tagged human that the detector flags as model-generated suggest mislabelled "
                "provenance. Individual flags are probabilistic (see the detector's false-positive rate), so "
                "this defaults to a warning; the annotations list the records."
            ),
            example="{id: CA103, metric: provenance.undeclared_synthetic_count, max: 0, severity: warning}",
            enabled_by_default=True,
        ),
    )
    columns = (
        Column("synthetic_score", "float64", "Trained detector's score P(model-generated); null when not in its "
               "sample. Per-record flags (CA103, filter) rest on it.", contract=True),
        Column("lm_score", "float64", "Language-model witness's curvature criterion (higher = more machine-like); "
               "null when not in its sample or the witness did not run."),
    )

    def __init__(self, ctx: CheckContext | None = None) -> None:
        super().__init__(ctx)
        self.detector = self.resources["detector"]
        self.sample_rows: dict[int, np.ndarray] | None = self.resources.get("sample_rows")
        if "applicability_reference" in self.resources:
            self.reference: A.Reference | None = self.resources["applicability_reference"]
        else:
            self.reference = detector_reference(self.detector)
        self.calibration: C.Calibration | None = self.resources.get("calibration")
        # the second witness (None on the core install or with `witnesses: trained`) and its sample
        self.lm = self.resources.get("lm_witness")
        self.lm_rows: dict[int, np.ndarray] | None = self.resources.get("lm_sample_rows")
        self.joint_model = self.resources.get("joint_model")
        self.lm_index: list[np.ndarray] = []   # record indices (this state's order) the LM scored
        self.lm_feats: list[np.ndarray] = []   # their features, rows in FEATURES order
        # per record, in input order (plain arrays: mergeable, no texts kept)
        self.scores: list[np.ndarray] = []
        self.codes: list[np.ndarray] = []
        self.tokens: list[np.ndarray] = []
        self.probe_bits: list[np.ndarray] = []
        self.top: list[tuple] = []  # min-heap of (score, -global index, record info)

    state_attrs = ("scores", "codes", "tokens", "probe_bits", "top", "lm_index", "lm_feats")

    def merge(self, other: Check) -> None:
        """Exact: per-record scores, tags, token counts and applicability bits concatenate; the
        top-scored list keeps the best ``TOP_K`` by (score, earliest index) over both shards, the
        later shard's indices rebased."""
        self._merge_guard(other)
        assert isinstance(other, Synthetic)
        base = sum(len(s) for s in self.scores)
        self.scores += other.scores
        self.codes += other.codes
        self.tokens += other.tokens
        self.probe_bits += other.probe_bits
        self.lm_index += [np.asarray(a, np.int64) + base for a in other.lm_index]
        self.lm_feats += other.lm_feats
        entries = self.top + [(s, neg - base, info) for s, neg, info in other.top]
        self.top = heapq.nlargest(TOP_K, entries, key=lambda e: (e[0], e[1]))
        heapq.heapify(self.top)

    def _selected(self, batch) -> np.ndarray:
        if self.sample_rows is None:
            return np.arange(len(batch))
        chosen = self.sample_rows.get(batch.file_index)
        if chosen is None or not len(chosen):
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(np.isin(np.asarray(batch.rows, dtype=np.int64), chosen, assume_unique=True))

    def prepare(self, batch):
        """Score the batch's sampled records and flag them for the applicability tests (no texts kept)."""
        from ..detectors import applicability as A

        idx = self._selected(batch)
        tokens = np.fromiter((A.token_count(t) for t in batch.texts), dtype=np.int64, count=len(batch))
        if not len(idx):
            return idx, np.zeros(0, dtype=np.float64), tokens, np.zeros(0, dtype=np.uint8), *_no_lm()
        texts = clip_for_analysis([batch.texts[i] for i in idx])  # capped: see text/limits.py
        scores = np.asarray(self.detector.score(texts), dtype=np.float64)
        outlier, code, non_en = A.record_flags(texts, self.reference)
        bits = (outlier * OUTLIER | code * CODE | non_en * NON_ENGLISH).astype(np.uint8)
        return idx, scores, tokens, bits, *self._lm_features(batch, idx, texts)

    def _lm_features(self, batch, idx: np.ndarray, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """The language-model witness's features of the batch's records in its sample (batch positions)."""
        if self.lm is None:
            return _no_lm()
        if self.lm_rows is None:
            pick = np.arange(len(idx))
        else:
            chosen = self.lm_rows.get(batch.file_index)
            if chosen is None or not len(chosen):
                return _no_lm()
            rows = np.asarray(batch.rows, dtype=np.int64)[idx]
            pick = np.flatnonzero(np.isin(rows, chosen, assume_unique=True))
        if not len(pick):
            return _no_lm()
        return idx[pick], self.lm.features([texts[i] for i in pick])

    def observe(self, batch, prepared) -> None:
        """Append the batch's per-record scores, tags, token counts and flags; keep the top-scored few."""
        idx, scores, tokens, bits, lm_idx, lm_feats = prepared
        if len(lm_idx):
            self.lm_index.append(np.asarray(lm_idx, np.int64) + batch.start)
            self.lm_feats.append(np.asarray(lm_feats, np.float64))
        full = np.full(len(batch), np.nan, dtype=np.float64)
        full[idx] = scores
        probe = np.zeros(len(batch), dtype=np.uint8)
        probe[idx] = bits
        raw = provenance_values(batch, self.fields)
        self.scores.append(full)
        self.codes.append(classify_tags(raw, self.fields))
        self.tokens.append(tokens)
        self.probe_bits.append(probe)
        for i, s in zip(idx.tolist(), scores.tolist(), strict=True):
            item = (s, -(batch.start + i))
            if len(self.top) < TOP_K or item > self.top[0][:2]:
                info = {**batch.locate(i), "score": round(s, 4),
                        "provenance": tag_text(raw[i]), "excerpt": excerpt(batch.texts[i])}
                entry = (*item, info)
                if len(self.top) < TOP_K:
                    heapq.heappush(self.top, entry)
                else:
                    heapq.heappushpop(self.top, entry)

    def _arrays(self):
        def cat(parts, dtype):
            return np.concatenate(parts) if parts else np.zeros(0, dtype)

        scores = cat(self.scores, np.float64)
        return (scores, cat(self.codes, np.uint8), cat(self.tokens, np.int64), cat(self.probe_bits, np.uint8),
                self._lm_axis(len(scores)))

    def _lm_axis(self, n: int) -> np.ndarray:
        """Per record, the language-model feature the joint reference reads (NaN where not scored)."""
        out = np.full(n, np.nan)
        if self.lm_index and self.joint_model is not None:
            from ..detectors.lm_witness import FEATURES

            j = FEATURES.index(self.joint_model.lm_feature)
            out[np.concatenate(self.lm_index)] = np.concatenate(self.lm_feats)[:, j]
        return out

    @property
    def two_witnesses(self) -> bool:
        """Both witnesses scored and no user calibration replaces them (a calibration is the trained one's)."""
        return self.lm is not None and self.joint_model is not None and self.calibration is None

    def _masks(self, scores: np.ndarray, codes: np.ndarray):
        """(scored, flagged, declared, human) per record; unscored records are never flagged."""
        scored = ~np.isnan(scores)
        flagged = scored & (np.nan_to_num(scores, nan=-1.0) >= self.detector.threshold)
        return scored, flagged, codes == SYNTHETIC, codes == HUMAN

    def assess(self, scores, codes, tokens, bits, lm) -> ShareAssessment:
        """Applicability test + share estimate over these records (the whole corpus or one source)."""
        from ..detectors import applicability as A
        from ..detectors import witnesses as W

        scored, _, declared, _ = self._masks(scores, codes)
        use = scored & ~declared
        b = bits[use]
        probe = A.Probe.from_flags(self.reference, b & OUTLIER, b & CODE, b & NON_ENGLISH)
        # the score-fit test reads English prose only: scores of code or non-English records mean
        # nothing, and the language test already judges how many of those there are
        prose = use & (bits & (CODE | NON_ENGLISH) == 0)
        appl = A.assess(probe, scores[prose], self.reference)
        if self.two_witnesses and self.joint_model is not None:
            return W.assess_two(self.joint_model, scores, lm, use, appl, int(declared.sum()), tokens,
                                float(tokens[declared].sum()), seed=self.seed)
        if self.calibration is None:
            appl = W.single_witness_applicability(appl)
        ref = self.reference.score if self.reference is not None else self._rates_reference()
        return assess_share(
            scores[use], reference=ref, applicability=appl, n_total=len(codes),
            n_declared_synthetic=int(declared.sum()), tokens=tokens[use].astype(np.float64),
            total_tokens=float(tokens.sum()), declared_tokens=float(tokens[declared].sum()),
            calibration=self.calibration, seed=self.seed)

    def _rates_reference(self):
        """A detector without a shipped reference: a two-bin reference from its validation figures."""
        from ..detectors.quantify import ScoreReference

        v = self.detector.validation
        if not all(v.get(k) is not None for k in VALIDATION_KEYS) or not v.get("n_pos") or not v.get("n_neg"):
            return None
        return ScoreReference.from_rates(v["tpr"], v["fpr"], int(v["n_pos"]), int(v["n_neg"]),
                                         threshold=float(self.detector.threshold),
                                         source=f"{v.get('dataset', 'validation')} {v.get('split', '')}".strip())

    def _metrics(self, scores, codes, tokens, bits, lm) -> tuple[dict[str, float], ShareAssessment]:
        """The check's metrics over these records, and the share assessment behind them."""
        scored, flagged, declared, human = self._masks(scores, codes)
        n_total = len(codes)
        est = self.assess(scores, codes, tokens, bits, lm)
        n_scored = int(scored.sum())
        human_scored = int((human & scored).sum())
        undeclared = int((human & flagged).sum())
        metrics = {
            "synthetic.scored": n_scored,
            "synthetic.lm_scored": int(np.isfinite(lm).sum()),
            "synthetic.declared_count": int(declared.sum()),
            "synthetic.declared_fraction": float(declared.sum() / max(n_total, 1)),
            "synthetic.detected_count": int(flagged.sum()),
            "synthetic.detected_fraction": float(flagged.sum() / n_scored) if n_scored else 0.0,
            **{k: (None if v is None else float(v)) for k, v in est.as_metrics().items()},
            "provenance.undeclared_synthetic_count": undeclared,
            "provenance.undeclared_synthetic_fraction": float(undeclared / human_scored) if human_scored else 0.0,
        }
        return {k: v for k, v in metrics.items() if v is not None}, est

    def finish(self) -> CheckResult:
        """The share estimate, detected/declared counts, score histogram and per-record score column."""
        arrays = self._arrays()
        self._all = arrays
        scores, codes = arrays[0], arrays[1]
        metrics, est = self._metrics(*arrays)
        scored, flagged, declared, human = self._masks(scores, codes)
        undeclared = human & flagged
        counts, edges = np.histogram(scores[scored], bins=BINS, range=(0.0, 1.0))
        details = {
            "threshold": float(self.detector.threshold),
            "histogram": {"edges": [round(float(e), 4) for e in edges], "counts": counts.astype(int).tolist()},
            "top": [e[2] for e in sorted(self.top, key=lambda e: (-e[0], -e[1]))],
            "estimate": {"estimate": est.estimate, "ci_low": est.ci_low, "ci_high": est.ci_high,
                         "token_estimate": est.token_estimate, "token_ci_low": est.token_ci_low,
                         "token_ci_high": est.token_ci_high, "method": est.method, "validated": est.validated,
                         "note": est.note, "details": _plain(est.details)},
            "applicability": _plain(est.applicability),
            "witnesses": self._witnesses(est),
        }
        flags = {
            "synthetic.estimated_fraction": declared | flagged,
            "synthetic.declared_fraction": declared, "synthetic.declared_count": declared,
            "synthetic.detected_fraction": flagged, "synthetic.detected_count": flagged,
            "provenance.undeclared_synthetic_count": undeclared,
            "provenance.undeclared_synthetic_fraction": undeclared,
        }
        # float64 with NaN for unscored records (the annotations writer turns NaN into null)
        return CheckResult(metrics=metrics, details=details, flags=flags,
                           columns={"synthetic_score": scores, "lm_score": arrays[4]})

    def _witnesses(self, est: ShareAssessment) -> dict[str, Any]:
        """Which witnesses scored the corpus, each one's own estimate, and whether they agree."""
        det = self.detector
        if not self.two_witnesses:
            only = {"name": det.name, "version": det.version, "scored": int(est.details.get("n_scored", 0)),
                    "estimate": est.estimate, "ci_low": est.ci_low, "ci_high": est.ci_high}
            why = ("a calibration replaces the witnesses' references" if self.calibration is not None and self.lm
                   else "the language-model witness is not installed or not selected (detector.witnesses)")
            return {"count": 1, "list": [only], "agree": None, "note": why}
        blocks = [dict(b) for b in est.details.get("witnesses", [])]
        lm = self.lm.describe() if self.lm is not None else {}
        names = {"trained": (det.name, det.version), "lm": (lm.get("name", ""), lm.get("version", ""))}
        for b in blocks:
            b["name"], b["version"] = names[b["name"]]
        agree = bool((est.applicability.get("tests") or {}).get("witness_agreement", {}).get("passed"))
        return {"count": 2, "list": blocks, "agree": agree, "families": est.details.get("families"), "lm": lm}

    def metrics_for(self, mask: np.ndarray) -> dict[str, float]:
        """Per source: the estimate AND its applicability test on that source's records alone."""
        return self._metrics(*(a[mask] for a in self._all))[0]

    source_series = (SourceSeries("synthetic", "synthetic", ("synthetic.estimated_fraction",
                                                             "synthetic.detected_fraction",
                                                             "synthetic.declared_fraction")),)

    @classmethod
    def figures(cls, details, metrics, detector) -> list[Any]:
        """The score histogram with the threshold (from the details, else the detector block) and the estimate."""
        h = details.get("histogram") if isinstance(details.get("histogram"), dict) else {}
        edges, counts = h.get("edges"), h.get("counts")
        if not (isinstance(edges, list) and isinstance(counts, list) and counts and len(edges) == len(counts) + 1
                and all(P.number(e) for e in edges) and all(P.number(c) for c in counts)):
            return []
        thr = next((float(v) for v in (details.get("threshold"), detector.get("threshold")) if P.number(v)), None)
        flagged, scored = metrics.get("synthetic.detected_count"), metrics.get("synthetic.scored")
        exact = P.number(flagged) and P.number(scored) and bool(scored)
        est = details.get("estimate") if isinstance(details.get("estimate"), dict) else {}
        return [Histogram("synthetic", "Synthetic-score distribution", "Synthetic-score histogram",
                          "detector score (probability the record is model-generated)",
                          [float(e) for e in edges], [int(c) for c in counts], thr,
                          flagged=int(flagged) if exact else None, scored=int(scored) if exact else None,
                          flagged_as="flagged as synthetic",
                          estimate=("estimated synthetic share", est["estimate"], est.get("ci_low"),
                                    est.get("ci_high")) if P.number(est.get("estimate")) else None)]

    @classmethod
    def summary(cls, details, metrics) -> dict[str, Any]:
        """The estimate's method (and, for results without the metrics, the estimate and its interval)."""
        est = details.get("estimate") if isinstance(details.get("estimate"), dict) else {}
        slot = "data_sources.synthetic_data."
        return {slot + "estimated_share": est.get("estimate"),
                slot + "estimated_share_ci95": [est.get("ci_low"), est.get("ci_high")],
                slot + "estimation_method": est.get("method")}

    @classmethod
    def section(cls, details, metrics) -> Section | None:
        """The report section: the estimate with its interval, its applicability and the threshold."""
        est = details.get("estimate") if isinstance(details.get("estimate"), dict) else {}
        lo, hi = metrics.get("synthetic.estimated_fraction_ci_low"), metrics.get("synthetic.estimated_fraction_ci_high")
        paragraphs = [str(est["note"])] if est.get("note") else []
        appl = details.get("applicability") if isinstance(details.get("applicability"), dict) else {}
        interval = None if lo is None or hi is None else ("95% interval", fmt_interval("interval", lo, hi))
        thr = details.get("threshold")
        return Section(
            key=cls.name, title=cls.title, paragraphs=paragraphs,
            facts=P.facts(P.fact(metrics, "estimated share", "synthetic.estimated_fraction", "interval"), interval,
                          None if not est.get("method") else ("method", str(est["method"])),
                          None if not appl.get("state") else ("estimate state", str(appl["state"])),
                          P.fact(metrics, "estimated share by tokens", "synthetic.estimated_token_fraction",
                                 "interval"),
                          P.fact(metrics, "declared synthetic", "synthetic.declared_fraction", "fraction"),
                          P.fact(metrics, "flagged by the detector", "synthetic.detected_fraction", "fraction"),
                          P.fact(metrics, "records scored", "synthetic.scored", "count"),
                          None if thr is None else ("threshold", fmt_number(thr)),
                          P.fact(metrics, "human-tagged but flagged", "provenance.undeclared_synthetic_count",
                                 "count")),
            tables=P.tables(_witness_table(details.get("witnesses")),
                            P.examples_table("Highest-scoring records", [
                {**t, "score": fmt_metric("value", t.get("score"))} for t in P.dicts(details.get("top"))],
                extra=(("score", "score"), ("provenance", "provenance")))),
        )


def _witness_table(block: Any) -> Table | None:
    """One row per witness: its own estimate and interval, and how many records it scored."""
    if not isinstance(block, dict) or not isinstance(block.get("list"), list):
        return None
    rows = [[str(w.get("name", "")), str(w.get("version", "")), fmt_number(w.get("scored", 0)),
             fmt_metric("fraction", w.get("estimate")),
             fmt_interval("interval", w.get("ci_low"), w.get("ci_high"))] for w in P.dicts(block["list"])]
    agree = block.get("agree")
    caption = ("one witness: it cannot reveal its own blind spots" if block.get("count") == 1 else
               "the witnesses agree" if agree else "the witnesses DISAGREE: the estimate is unvalidated")
    fam = block.get("families")
    if isinstance(fam, dict) and fam:
        caption += " · joint fit by family: " + ", ".join(f"{k} {fmt_metric('fraction', v)}" for k, v in fam.items())
    return Table(columns=["witness", "version", "records scored", "own estimate", "95% interval"], rows=rows,
                 title="Witnesses", caption=caption)


def _no_lm() -> tuple[np.ndarray, np.ndarray]:
    from ..detectors.lm_witness import FEATURES

    return np.zeros(0, dtype=np.int64), np.zeros((0, len(FEATURES)), dtype=np.float64)


def _plain(v: Any) -> Any:
    """JSON-safe copy (numpy scalars and arrays to Python numbers and lists)."""
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, np.ndarray):
        return [_plain(x) for x in v.tolist()]
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return v
