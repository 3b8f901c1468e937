"""A check written outside the package, as a plugin would be: the share of records holding a URL.

It is one file and one registration (``@register_check``); nothing else in collapse-audit names it.
``tests/plugins/test_url_share.py`` shows that it then appears everywhere a built-in check does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from collapse_audit import register_check
from collapse_audit.checks.base import Check, CheckResult
from collapse_audit.checks.spec import Column, Metric, Rule, option
from collapse_audit.result.formatting import fmt_metric
from collapse_audit.result.sections import Section, Table

URL = r"https?://[^\s/$.?#][^\s]*"


@dataclass(frozen=True)
class UrlOptions:
    """Policy options of the link check (examples kept)."""
    max_examples: int = option(3, "Record locations kept as examples.", min=0, max=50)


@register_check
class UrlShare(Check):
    """Counts records that contain a web link (spam, boilerplate and scraped navigation carry them)."""
    name = "url_share"
    title = "Links"
    Options = UrlOptions
    options_key = "links"
    metrics = (
        Metric("links.url_count", "count", "Records holding a URL.", unit="records", record_level="flagged"),
        Metric("links.url_share", "fraction", "Share of records holding a URL.", record_level="flagged"),
    )
    rules = (
        Rule("CA901", "url-share", "links.url_share", "max", 0.0, "warning",
             rationale="Records holding links are often navigation, spam or boilerplate scraped with the page; "
                       "a model trained on them learns to emit links.",
             example="{id: CA901, metric: links.url_share, max: 0.01}"),
    )
    columns = (Column("has_url", "bool", "Whether the record holds a URL."),)
    state_attrs = ("found", "examples")

    def __init__(self, ctx=None):
        super().__init__(ctx)
        self.found: list[np.ndarray] = []
        self.examples: list[dict] = []

    def prepare(self, batch):
        """Which texts of the batch hold a URL (one vectorised regex pass)."""
        arr = pa.array(batch.texts, type=pa.large_string())
        return pc.match_substring_regex(arr, URL).to_numpy(zero_copy_only=False)

    def observe(self, batch, prepared) -> None:
        """Keep the hit bits and the first few locations."""
        hit = np.asarray(prepared, dtype=bool)
        self.found.append(hit)
        room = max(0, self.options.max_examples - len(self.examples))
        self.examples += [{"file": batch.file, "row": batch.rows[i]} for i in np.flatnonzero(hit)[:room].tolist()]

    def merge(self, other: Check) -> None:
        """Exact: the bits concatenate; the first examples in input order are kept."""
        self._merge_guard(other)
        assert isinstance(other, UrlShare)
        self.found += other.found
        self.examples = (self.examples + other.examples)[: self.options.max_examples]

    def finish(self) -> CheckResult:
        """The count and share, the per-record column and the flags the filter acts on."""
        hit = np.concatenate(self.found) if self.found else np.zeros(0, bool)
        metrics = {"links.url_count": int(hit.sum()), "links.url_share": float(hit.mean()) if len(hit) else 0.0}
        return CheckResult(metrics=metrics, details={"examples": list(self.examples)},
                           columns={"has_url": hit}, flags={"links.url_count": hit, "links.url_share": hit})

    @classmethod
    def section(cls, details, metrics) -> Section | None:
        """The share and a few locations."""
        rows = [[f"{e.get('file')}:{e.get('row')}"] for e in details.get("examples") or []]
        return Section(key=cls.name, title=cls.title,
                       facts=[("records with a link", fmt_metric("fraction", metrics.get("links.url_share")))],
                       tables=[Table(["location"], rows, title="Examples")] if rows else [])
