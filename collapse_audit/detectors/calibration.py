"""Error rates measured by the user on their own in-domain records, and the file that carries them.

Off the detector's validated domain the shipped error rates cannot be trusted (``applicability``).
What settles it is measuring them where the corpus lives:

* ``labelled`` - records labelled human / synthetic from the corpus's domain
  (``collapse-audit detector calibrate LABELLED -o calibration.yaml``): both the human and the
  synthetic score histograms are replaced;
* ``human_reference`` - trusted human-only records (``scan --human-reference trusted.jsonl``):
  only the human histogram (the false-positive side) is replaced, the synthetic side stays the
  shipped validation. That alone stops false fails on formal human text (science, law).

A calibration belongs to one detector: the file records its name, version and weights hash, and
loading it for another detector is an error naming the file.

Two more refusals keep a calibration from vouching for what it cannot: one whose detection rate
does not exceed its false-positive rate (inverted or meaningless labels: TPR 0.00, FPR 1.00) can
correct nothing and is refused wherever it comes from (measured, loaded, or rates in the policy);
and records measured in another language than the corpus's (a Chinese human reference for an
English corpus) are not the corpus's domain, so ``domain_refusal`` keeps them from making the
estimate *calibrated*. The language signature is the share of records that are English prose
(Latin script, English function words), stored with the calibration.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import AuditError
from .applicability import detector_identity, is_code, is_non_english, load_reference
from .quantify import ScoreReference, binned

FORMAT = "collapse-audit-calibration/1"
MIN_PER_CLASS = 20
LANGUAGE_GAP_MAX = 0.2       # tolerated gap in English-prose share between calibration records and corpus
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


@dataclass
class Calibration:
    """Score histograms measured on the user's records, in the shipped reference's bins."""
    kind: str                    # "labelled" | "human_reference"
    detector: dict               # detector_identity(...)
    threshold: float
    edges: list
    neg: list                    # human records per bin
    pos: list | None             # synthetic records per bin (None for a human reference)
    source: str                  # the file (or records) it was measured on
    extra: dict = field(default_factory=dict)

    @property
    def n_neg(self) -> int:
        """Human records measured (the histograms may hold weighted counts, hence the rounding)."""
        return round(sum(self.neg))

    @property
    def n_pos(self) -> int:
        """Synthetic records measured; 0 for a human-only reference."""
        return round(sum(self.pos)) if self.pos is not None else 0

    def rates(self) -> dict:
        """False-positive rate (and, with a synthetic side, true-positive rate) at the threshold."""
        side = np.searchsorted(np.asarray(self.edges), self.threshold, side="left")
        fpr = float(np.sum(self.neg[side + 1:]) / max(self.n_neg, 1))
        out = {"fpr": fpr, "n_neg": self.n_neg}
        if self.pos is not None:
            out.update(tpr=float(np.sum(self.pos[side + 1:]) / max(self.n_pos, 1)), n_pos=self.n_pos)
        return out

    def reference(self, shipped: ScoreReference | None) -> ScoreReference:
        """The reference the estimators use: the user's histograms where measured, shipped elsewhere."""
        edges = np.asarray(self.edges, np.float64)
        if self.pos is not None:
            pos = np.asarray(self.pos, np.float64)
        elif shipped is not None and np.array_equal(shipped.edges, edges):
            pos = shipped.pos
        else:
            raise AuditError(f"The human reference {self.source} gives only the human side; the "
                             f"detector has no validated synthetic score histogram to pair it with.")
        folds = shipped.folds if shipped is not None else []
        return ScoreReference(edges=edges, pos=pos, neg=np.asarray(self.neg, np.float64),
                              threshold=self.threshold, folds=folds, source=self.source)

    def domain_refusal(self, applicability: dict) -> str | None:
        """Why these records cannot stand for the corpus (another language), or None.

        Compares the English-prose share of the calibration records with the corpus's, from the
        applicability block's language test; without either figure there is nothing to compare."""
        lang = (self.extra or {}).get("language") or {}
        test = (applicability.get("tests") or {}).get("language") or {}
        if "english_share" not in lang or "non_english_share" not in test:
            return None
        ref = float(lang["english_share"])
        corpus = 1.0 - float(test["non_english_share"]) - float(test.get("code_share", 0.0))
        n = max(int(lang.get("records", 0)), 1)
        slack = LANGUAGE_GAP_MAX + 3.0 * math.sqrt(max(ref * (1 - ref), 1e-4) / n)
        if abs(ref - corpus) <= slack:
            return None
        return (f"the calibration records ({self.source}) are {ref:.0%} English prose and the corpus "
                f"{corpus:.0%}: measured in another language, they cannot stand for the corpus's domain")

    def describe(self) -> dict:
        """What the result's ``applicability.calibration`` entry says about this calibration."""
        return {"source": self.source, "kind": self.kind, "detector": self.detector, **self.rates()}

    def to_dict(self) -> dict:
        """The JSON form a calibration file stores (what ``load`` reads back)."""
        return {"format": FORMAT, "kind": self.kind, "detector": self.detector,
                "threshold": self.threshold, "edges": [float(x) for x in self.edges],
                "human_counts": [float(x) for x in self.neg],
                "synthetic_counts": None if self.pos is None else [float(x) for x in self.pos],
                "rates": self.rates(), **({"extra": self.extra} if self.extra else {})}


def measure(detector, scores, labels, *, edges, source: str, kind: str = "labelled") -> Calibration:
    """A calibration from scores of labelled records (``labels``: True = synthetic).

    ``kind="human_reference"`` takes human-only records (``labels`` all False).
    """
    s = np.asarray(scores, np.float64)
    y = np.asarray(labels, bool)
    edges = np.asarray(edges, np.float64)
    if (~y).sum() < MIN_PER_CLASS:
        raise AuditError(f"{source}: {int((~y).sum())} human records; a calibration needs at least "
                         f"{MIN_PER_CLASS}.")
    if kind == "labelled" and y.sum() < MIN_PER_CLASS:
        raise AuditError(f"{source}: {int(y.sum())} synthetic records; a labelled calibration needs "
                         f"at least {MIN_PER_CLASS} (for human-only records use a human reference).")
    cal = Calibration(kind=kind, detector=detector_identity(detector), threshold=float(detector.threshold),
                      edges=edges.tolist(), neg=binned(s[~y], edges).tolist(),
                      pos=binned(s[y], edges).tolist() if kind == "labelled" else None, source=source)
    check_separates(cal, source)
    return cal


def check_separates(cal: Calibration, where: str) -> None:
    """Refuse a calibration whose detection rate does not exceed its false-positive rate.

    The share estimate corrects by ``(detected - FPR) / (TPR - FPR)``: with TPR <= FPR the detector
    tells the classes apart no better than chance (or backwards - labels inverted), so the
    "calibrated" estimate would be meaningless yet vouched for."""
    counts = [*cal.neg, *(cal.pos or [])]
    if not all(math.isfinite(c) and c >= 0 for c in counts):
        raise AuditError(f"{where}: the calibration's counts must be finite and not negative.")
    if cal.pos is None:
        return
    r = cal.rates()
    if not r["tpr"] > r["fpr"]:
        raise AuditError(f"{where}: the detector flags {r['tpr']:.2%} of the synthetic records and {r['fpr']:.2%} "
                         "of the human ones; a calibration whose detection rate does not exceed its "
                         "false-positive rate cannot correct the estimate (are the labels inverted?).")


def language_profile(texts: Iterable[str]) -> dict:
    """How many records, and the share that is English prose (what the detector was validated on):
    mostly Latin letters, English function words where there are enough words, not code."""
    n = english = 0
    for t in texts:
        n += 1
        letters = _LETTER.findall(t)
        latin = sum(1 for c in letters if c < "\u0250")
        if letters and latin >= 0.8 * len(letters) and not is_non_english(t) and not is_code(t):
            english += 1
    return {"records": n, "english_share": round(english / n, 4) if n else 0.0}


def from_rates(detector, *, tpr: float, fpr: float, n_pos: int, n_neg: int,
               source: str = "tpr/fpr set in the policy") -> Calibration:
    """A two-bin calibration from rates the user measured (``detector eval``) and put in the policy."""
    tp, fp = float(tpr) * int(n_pos), float(fpr) * int(n_neg)
    cal = Calibration(kind="rates", detector=detector_identity(detector), threshold=float(detector.threshold),
                      edges=[float(detector.threshold)], neg=[int(n_neg) - fp, fp], pos=[int(n_pos) - tp, tp],
                      source=source)
    check_separates(cal, source)
    return cal


SYNTHETIC_VALUES = ("synthetic", "machine", "model-generated", "ai", "generated", "fake", "1", "true")


def measure_file(detector, path: str, *, text_field: str = "text", label_field: str | None = "label",
                 human_only: bool = False, synthetic_values=SYNTHETIC_VALUES) -> Calibration:
    """Score a labelled (or, with ``human_only``, trusted human-only) file and measure a calibration.

    Streams the file through the shared readers (same formats and bad-record errors as ``scan``);
    this is what ``detector calibrate`` and ``scan --human-reference`` run.
    """
    from ..readers import BadRecordSink, discover, iter_batches

    syn = {str(v).strip().lower() for v in synthetic_values}
    fields = [] if human_only or not label_field else [label_field]
    scores: list[np.ndarray] = []
    labels: list[bool] = []
    profile = {"records": 0, "english": 0.0}
    for batch in iter_batches(discover([path]), text_field, [f for f in fields if f != text_field], 4096,
                              BadRecordSink(max_bad=0)):
        if fields and label_field:
            for i, v in enumerate(batch.fields[label_field]):
                if v is None:
                    raise AuditError(f"{batch.where(i)}: the label field {label_field!r} is missing.")
            labels.extend(str(v).strip().lower() in syn for v in batch.fields[label_field])
        else:
            labels.extend([False] * len(batch))
        scores.append(np.asarray(detector.score(batch.texts), np.float64))
        part = language_profile(batch.texts)
        profile["records"] += part["records"]
        profile["english"] += part["english_share"] * part["records"]
    if not labels:
        raise AuditError(f"No records found in {path} (the input is empty).")
    ref = load_reference(detector.name) if detector.name == "default" else None
    edges = ref.score.edges if ref is not None else np.array([detector.threshold])
    cal = measure(detector, np.concatenate(scores), np.array(labels), edges=edges,
                  source=Path(path).name, kind="human_reference" if human_only else "labelled")
    n = int(profile["records"])
    cal.extra["language"] = {"records": n, "english_share": round(profile["english"] / max(n, 1), 4)}
    return cal


def save(cal: Calibration, path: str) -> None:
    """Write the calibration as YAML (temp file + rename: never a half-written file)."""
    import yaml

    p = Path(path)
    tmp = p.with_name(f".{p.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write("# detector calibration measured by `collapse-audit detector calibrate`\n")
            yaml.safe_dump(cal.to_dict(), fh, sort_keys=False)
        os.replace(tmp, p)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise AuditError(f"Cannot write {path}: {exc.strerror or exc}.") from None


def _check_counts(path: str, values: dict[str, list[float]]) -> None:
    """NaN passes every comparison and a negative count makes a negative rate: refuse both, naming the key."""
    for key, vals in values.items():
        bad = next((v for v in vals if not math.isfinite(v) or (key != "edges" and v < 0)), None)
        if bad is not None:
            raise AuditError(f"The calibration file {path} has {bad} in {key}; counts must be finite and >= 0 "
                             "(measure it again with `collapse-audit detector calibrate`).")


def load(path: str, detector) -> Calibration:
    """Read a calibration file and check it belongs to ``detector`` (else an error naming the file)."""
    from ..documents import read_document

    d = read_document(path, "Calibration file").value  # bounded and strict, like every configuration file
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise AuditError(f"{path} is not a calibration file (expected format: {FORMAT}).")
    try:
        edges = [float(x) for x in d["edges"]]
        neg = [float(x) for x in d["human_counts"]]
        pos = None if d.get("synthetic_counts") is None else [float(x) for x in d["synthetic_counts"]]
        thr = float(d["threshold"])
        kind = str(d["kind"])
        ident = dict(d["detector"])
    except (KeyError, TypeError, ValueError):
        raise AuditError(f"The calibration file {path} is incomplete or malformed (edges, human_counts, "
                         f"threshold, kind, detector are required).") from None
    if len(neg) != len(edges) + 1 or (pos is not None and len(pos) != len(neg)):
        raise AuditError(f"The calibration file {path} has bin counts that do not match its edges.")
    _check_counts(path, {"human_counts": neg, "synthetic_counts": pos or [], "edges": edges, "threshold": [thr]})
    want = detector_identity(detector)
    for key in ("name", "version", "weights_sha256"):
        if ident.get(key) != want[key]:
            raise AuditError(f"The calibration file {path} was measured with detector {ident.get('name')} "
                             f"{ident.get('version')} (weights {str(ident.get('weights_sha256'))[:12]}), not "
                             f"with the {want['name']} {want['version']} detector that runs now "
                             f"(weights {str(want['weights_sha256'])[:12]}); recalibrate with "
                             f"`collapse-audit detector calibrate`.")
    if abs(thr - float(detector.threshold)) > 1e-12:
        raise AuditError(f"The calibration file {path} was measured at threshold {thr}, but the detector "
                         f"runs at {detector.threshold}; recalibrate at the policy's threshold.")
    extra: dict = d["extra"] if isinstance(d.get("extra"), dict) else {}
    cal = Calibration(kind=kind, detector=ident, threshold=thr, edges=edges, neg=neg, pos=pos,
                      source=Path(path).name, extra=extra)
    check_separates(cal, f"The calibration file {path}")
    return cal
