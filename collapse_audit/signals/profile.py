"""Baseline profiles: a compact, frozen summary of a trusted corpus that ``scan --baseline`` compares to.

A profile is one JSON file (``profile_version`` 1) holding:

* ``figures`` — the diversity figures of the corpus (entropy, distinct-n, tail mass, types,
  length statistics, self-similarity) and ``by_source`` figures;
* ``tokens`` — the token distribution sketch: the ``top_k`` most frequent token hashes with their
  counts, plus the remaining occurrences folded into ``2**residual_bits`` hash buckets;
* ``lengths`` — the token-length histogram (``length_edges()`` bins);
* ``scores`` — the synthetic-score histogram (``score_edges()`` bins) when a detector ran, else null;
* ``params`` — the sketch settings, which a scan against this profile reuses so figures compare.

Arrays are little-endian, zlib-compressed and base64-encoded (token hashes delta-encoded first).
Size is bounded by ``top_k`` and ``residual_bits``, not by the corpus: at the defaults (65,536 heavy
tokens, 65,536 buckets) a profile is at most ~2.3 MB, whatever the corpus size.
"""

from __future__ import annotations

import base64
import json
import os
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import AuditError
from .drift import score_edges, score_histogram
from .figures import HEAVY_CANDIDATES, DiversityParams, DiversityState, prepare_part

PROFILE_VERSION = 1
DEFAULT_TOP_K = 1 << 16
TOKENIZER = "unicode lower-case; split on whitespace; strip edge punctuation; xxh3-64 per token"
LENGTH_BINS = "exact 0..63, then 16 per doubling (round(64 * 2**(i/16)))"


def encode_array(a: np.ndarray, dtype: str) -> str:
    """Array as compressed base64, so a profile stays one small JSON file."""
    return base64.b64encode(zlib.compress(np.ascontiguousarray(a, dtype=dtype).tobytes(), 9)).decode("ascii")


def decode_array(s: str, dtype: str) -> np.ndarray:
    """Array back from ``encode_array``'s text (a writable copy)."""
    return np.frombuffer(zlib.decompress(base64.b64decode(s)), dtype=dtype).copy()


def _encode_keys(keys: np.ndarray) -> str:
    with np.errstate(over="ignore"):
        d = np.diff(keys.astype(np.uint64), prepend=np.uint64(0))
    return encode_array(d, "<u8")


def _decode_keys(s: str) -> np.ndarray:
    d = decode_array(s, "<u8")
    with np.errstate(over="ignore"):
        return np.cumsum(d, dtype=np.uint64)


@dataclass
class Profile:
    """A loaded profile: the JSON dict plus decoded arrays."""

    data: dict[str, Any]
    heavy_keys: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint64))
    heavy_counts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    residual: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    length_hist: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def figures(self) -> dict[str, float]:
        """The baseline's diversity figures by name."""
        return self.data["figures"]

    @property
    def params(self) -> DiversityParams:
        """The sketch sizes the baseline was built with (a scan uses the same to compare)."""
        return DiversityParams.from_options(self.data.get("params", {}))

    @property
    def residual_bits(self) -> int:
        """Bits of the hashed residual partition the baseline's tail counts use."""
        return int(self.data["tokens"]["residual_bits"])

    @property
    def scores(self) -> dict | None:
        """The baseline's detector score histogram, or None when none was recorded."""
        return self.data.get("scores")

    def token_vector(self) -> np.ndarray:
        """Token counts on the profile's partition (heavy tokens, then residual buckets)."""
        return np.concatenate([self.heavy_counts, self.residual])

    @classmethod
    def from_dict(cls, data: dict, where: str = "profile") -> Profile:
        """Profile from its JSON dict; a wrong version or shape is an AuditError naming ``where``."""
        version = data.get("profile_version") if isinstance(data, dict) else None
        if version != PROFILE_VERSION:
            raise AuditError(f"{where} is not a collapse-audit profile of version {PROFILE_VERSION} "
                             f"(profile_version: {version!r}); rebuild it with `collapse-audit profile`.")
        try:
            t = data["tokens"]
            if not isinstance(data["figures"], dict) or not isinstance(data["params"], dict):
                raise TypeError("'figures' and 'params' must be objects")
            return cls(data=data, heavy_keys=_decode_keys(t["heavy_keys"]),
                       heavy_counts=decode_array(t["heavy_counts"], "<i8"),
                       residual=decode_array(t["residual"], "<i8"),
                       length_hist=decode_array(data["lengths"]["counts"], "<i8"))
        except (KeyError, TypeError, ValueError, zlib.error) as e:
            raise AuditError(f"{where} is damaged ({type(e).__name__}: {e}); rebuild it with "
                             f"`collapse-audit profile`.") from None


class ProfileBuilder:
    """Streams batches into the diversity state and freezes it as a profile."""

    def __init__(self, params: DiversityParams | None = None, seed: int = 0, source_field: str | None = None,
                 top_k: int = DEFAULT_TOP_K):
        self.params = params or DiversityParams()
        self.seed = seed
        self.source_field = source_field
        self.top_k = int(top_k)
        self.state = DiversityState(self.params)
        self.sources: dict[str, DiversityState] = {}
        self.max_sources = 50
        self.score_counts: np.ndarray | None = None
        self.detector: str | None = None

    def add(self, batch) -> None:
        """Fold one batch into the profile."""
        part = prepare_part(batch, self.params, self.seed, self.source_field)
        self.add_part(part, batch.texts)

    def add_part(self, part: dict, texts: list[str] | None = None) -> None:
        """Fold an already prepared batch part (shared with a scan's diversity work) into the profile."""
        self.state.update(part, texts)
        for name, sp in (part.get("sources") or {}).items():
            st = self.sources.get(name)
            if st is None:
                if len(self.sources) >= self.max_sources:
                    name = "(other)"
                    st = self.sources.get(name)
                if st is None:
                    st = self.sources[name] = DiversityState(self.params.small(), vocabulary_sample=True)
            st.update(sp)

    def add_scores(self, scores, detector: str | None = None) -> None:
        """Add detector scores to the profile's score histogram."""
        h = score_histogram(scores)
        self.score_counts = h if self.score_counts is None else self.score_counts + h
        self.detector = detector or self.detector

    def build(self, inputs: list[dict] | None = None, tool_version: str = "") -> dict:
        """The profile as a JSON-able dict (figures, top tokens, residual, histograms, inputs)."""
        st = self.state
        keys, counts = st.freq.top(self.top_k)
        bits = self.params.residual_bits
        mask = np.uint64((1 << bits) - 1)
        residual = st.buckets - np.bincount((keys & mask).astype(np.intp), weights=counts,
                                            minlength=1 << bits).astype(np.int64)
        residual = np.maximum(residual, 0)
        scores = None
        if self.score_counts is not None:
            scores = {"edges": [float(x) for x in score_edges()], "counts": [int(x) for x in self.score_counts],
                      "detector": self.detector}
        params = self.params.to_json()
        params["top_k"] = self.top_k
        return {
            "profile_version": PROFILE_VERSION,
            "tool": {"name": "collapse-audit", "version": tool_version},
            "tokenizer": TOKENIZER,
            "params": params,
            "seed": self.seed,
            "records": st.records,
            "inputs": inputs or [],
            "figures": st.figures(),
            "errors": st.errors(),
            "by_source": {k: self.sources[k].figures(st.freq.top(HEAVY_CANDIDATES)[0]) for k in sorted(self.sources)},
            "tokens": {"total": int(st.freq.total), "count_error": int(st.freq.error), "top_k": len(keys),
                       "heavy_mass": float(counts.sum() / st.freq.total) if st.freq.total else 0.0,
                       "heavy_keys": _encode_keys(keys), "heavy_counts": encode_array(counts, "<i8"),
                       "residual_bits": bits, "residual": encode_array(residual, "<i8")},
            "lengths": {"bins": LENGTH_BINS, "counts": encode_array(st.length_hist, "<i8")},
            "scores": scores,
        }


def save_profile(profile: dict, path: str) -> int:
    """Write the profile JSON (deterministic key order); returns its size in bytes."""
    text = json.dumps(profile, sort_keys=True, separators=(",", ":"), allow_nan=False, default=float)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return len(text.encode("utf-8"))


def load_profile(path: str) -> Profile:
    """Read a baseline profile file; a missing or malformed file is an AuditError."""
    if not os.path.isfile(path):
        raise AuditError(f"Baseline profile not found: {path}.")
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise AuditError(f"Baseline profile {path} could not be read as JSON ({e}).") from None
    return Profile.from_dict(data, where=f"Baseline profile {path}")
