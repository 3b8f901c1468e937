"""Diversity: how varied the corpus's language is — the first thing model collapse erodes.

Per corpus and per source: unigram token entropy, distinct-n ratios (n = 1..4), tail mass, token
types, token-length statistics and the mean MinHash similarity of a seeded record sample. All from
bounded sketches (see ``collapse_audit.signals.figures`` and ``docs/collapse-signals.md``).
"""

from __future__ import annotations

import numpy as np

from ..signals.figures import OTHER, DiversityParams, DiversityState, prepare_part
from .base import Check, CheckResult

PREFIX = "diversity."


class Diversity(Check):
    name = "diversity"
    produces = ("diversity.*",)

    def __init__(self, config, resources=None):
        super().__init__(config, resources)
        opts = dict(config.diversity or {})
        self.params = DiversityParams.from_options(opts)
        self.max_sources = int(opts.get("max_sources", 50))
        self.source_field = config.fields.source
        self.state = DiversityState(self.params)
        self.sources: dict[str, DiversityState] = {}
        self._source_ids: dict[str, int] = {}
        self._codes: list[np.ndarray] = []     # per record: tracked-source id (int16), for metrics_for
        self._by_source: dict[str, dict[str, float]] = {}

    @classmethod
    def enabled(cls, config) -> bool:
        return bool((config.diversity or {}).get("enabled", True))

    def prepare(self, batch):
        return prepare_part(batch, self.params, self.config.seed, self.source_field)

    def _source_state(self, name: str) -> tuple[str, DiversityState]:
        if name not in self.sources and len(self.sources) >= self.max_sources:
            name = OTHER
        st = self.sources.get(name)
        if st is None:
            st = self.sources[name] = DiversityState(self.params.small())
            self._source_ids[name] = len(self._source_ids)
        return name, st

    def observe(self, batch, prepared) -> None:
        self.state.update(prepared)
        sources = prepared.get("sources")
        if sources is None:
            return
        batch_ids = np.zeros(len(prepared["names"]), dtype=np.int16)
        for ci, name in enumerate(prepared["names"]):
            tracked, st = self._source_state(name)
            st.update(sources[name])
            batch_ids[ci] = self._source_ids[tracked]
        self._codes.append(batch_ids[prepared["codes"]])

    def finish(self) -> CheckResult:
        figures = self.state.figures()
        metrics = {PREFIX + k: float(v) for k, v in figures.items() if k != "records"}
        self._by_source = {name: self.sources[name].figures() for name in sorted(self.sources)}
        details = {
            "params": self.params.to_json(),
            "errors": self.state.errors(),
            "self_similarity_sample": int(self.state.sample_valid.sum()),
            "by_source": {k: {m: round(float(v), 6) for m, v in f.items()} for k, f in self._by_source.items()},
        }
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
        figs = self._by_source.get(name) or self.sources[name].figures()
        return {PREFIX + k: float(v) for k, v in figs.items() if k != "records"}
