"""Personal data: the share of records holding an e-mail address, a phone number or an IP address.

Personal data in a training corpus is a legal liability (takedown and erasure requests) and is
memorised and regurgitated by models trained on it. The check finds the three most common kinds
with one vectorised regular-expression pass per kind over each batch (Arrow's RE2 kernel,
``pyarrow.compute.match_substring_regex``); nothing per record is kept but three bits, and the
report shows only a few *redacted* examples (``j***@e***.org``, ``***-***-**67``, ``192.168.x.x``),
never the texts.

The patterns are deliberately simple and err towards recall: a phone number is 2-4 digits then two
groups of 3-4 digits separated by a space, dot or hyphen (optionally with a ``+country`` prefix or a
bracketed area code); an IP address is a dotted quad of numbers 0-255 not inside a longer dotted
number (so a four-part version string such as ``1.2.3.4`` counts too). IPv6 is not matched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..lazy import np, pa, pc
from ..result.formatting import fmt_metric
from ..result.sections import Section, Table
from . import presenting as P
from .base import Check, CheckResult
from .registry import register_check
from .spec import Column, Metric, Rule, option

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
PATTERNS = {
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
    "phone": r"(?:^|[^0-9])(?:\+[0-9]{1,3}[ .-]?)?(?:\([0-9]{2,4}\)[ .-]?|[0-9]{2,4}[ .-])[0-9]{3,4}[ .-][0-9]{3,4}"
             r"(?:[^0-9]|$)",
    "ip": rf"(?:^|[^0-9.]){_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}(?:[^0-9.]|$)",
}
KINDS = {"email": "an e-mail address", "phone": "a phone number", "ip": "an IPv4 address"}
_FIND = {k: re.compile(p) for k, p in PATTERNS.items()}


def redact(kind: str, found: str) -> str:
    """A match made unrecognisable but still telling what was found."""
    s = found.strip(" \t\n\r[{<>}],.;:")
    if kind == "email":
        user, _, domain = s.partition("@")
        host, _, tld = domain.rpartition(".")
        return f"{user[:1]}***@{host[:1]}***.{tld}"
    if kind == "ip":
        a, b, *_ = s.split(".")
        return f"{a}.{b}.x.x"
    s = re.sub(r"^[^0-9+(]+|[^0-9]+$", "", s)          # the pattern's non-digit edge characters
    return re.sub(r"[0-9]", "*", s[:-2]) + s[-2:]


@dataclass(frozen=True)
class PiiOptions:
    """Policy options of the personal-data check (on/off, redacted examples kept)."""
    enabled: bool = option(True, "Look for personal data at all.")
    max_examples: int = option(5, "Redacted examples kept per kind.", min=0, max=100)


@register_check
class Pii(Check):
    """Counts records that contain personal data (e-mails, phone numbers, ...) by pattern."""
    name = "pii"
    title = "Personal data"
    Options = PiiOptions
    options_key = "pii"
    metrics = (
        *(m for kind, what in KINDS.items() for m in (
            Metric(f"pii.{kind}_count", "count", f"Records holding {what}.", unit="records", record_level="flagged"),
            Metric(f"pii.{kind}_share", "fraction", f"Share of records holding {what}.", record_level="flagged"),
        )),
        Metric("pii.any_count", "count", "Records holding any of the personal data looked for.", unit="records",
               record_level="flagged"),
        Metric("pii.any_share", "fraction", "Share of records holding any of the personal data looked for.",
               record_level="flagged"),
    )
    rules = tuple(
        Rule(code, f"pii-{kind}-share", f"pii.{kind}_share", "max", 0.0, "warning",
             rationale=(f"Records holding {KINDS[kind]} carry personal data: a model trained on them can "
                        "memorise and repeat it, and each one is an erasure request waiting to happen. The "
                        "pattern errs towards recall, so this is a warning; the annotations' pii column lists "
                        "the records and the report shows redacted examples."),
             example=f"{{id: {code}, metric: pii.{kind}_share, max: 0.001, severity: warning}}")
        for code, kind in (("CA601", "email"), ("CA602", "phone"), ("CA603", "ip"))
    )
    columns = (Column("pii", "string", "Kinds of personal data found in the record (e.g. 'email,ip'); null if none."),)

    @classmethod
    def active(cls, options) -> bool:
        """Whether the policy turned the check on."""
        return bool(options.enabled)

    def __init__(self, ctx=None):
        super().__init__(ctx)
        self.found: dict[str, list[np.ndarray]] = {k: [] for k in KINDS}
        self.examples: dict[str, list[dict]] = {k: [] for k in KINDS}
        self._all: dict[str, np.ndarray] | None = None

    state_attrs = ("found", "examples")

    def merge(self, other: Check) -> None:
        """Exact: the hit bits concatenate; each kind keeps its first examples in input order."""
        self._merge_guard(other)
        assert isinstance(other, Pii)
        for kind in KINDS:
            self.found[kind] += other.found[kind]
            room = max(0, self.options.max_examples - len(self.examples[kind]))
            self.examples[kind] += other.examples[kind][:room]
        self._all = None

    def prepare(self, batch):
        """Per kind of personal data, which of the batch's texts match its pattern."""
        arr = pa.array(batch.texts, type=pa.large_string())
        return {k: pc.match_substring_regex(arr, p).to_numpy(zero_copy_only=False) for k, p in PATTERNS.items()}

    def observe(self, batch, prepared) -> None:
        """Keep the batch's hit bits and the first redacted examples of each kind."""
        for kind, hit in prepared.items():
            hit = np.asarray(hit, dtype=bool)
            self.found[kind].append(hit)
            ex = self.examples[kind]
            for i in np.flatnonzero(hit)[: max(0, self.options.max_examples - len(ex))].tolist():
                m = _FIND[kind].search(batch.texts[i])
                if m is not None:
                    ex.append({**batch.locate(i), "found": redact(kind, m.group(0))})

    def _arrays(self) -> dict[str, np.ndarray]:
        if self._all is None:
            self._all = {k: np.concatenate(v) if v else np.zeros(0, bool) for k, v in self.found.items()}
            self._all["any"] = np.logical_or.reduce(list(self._all.values()))
        return self._all

    @staticmethod
    def _metrics(hits: dict[str, np.ndarray], mask: np.ndarray | None = None) -> dict[str, float]:
        out: dict[str, float] = {}
        for kind, hit in hits.items():
            sel = hit if mask is None else hit[mask]
            out[f"pii.{kind}_count"] = int(sel.sum())
            out[f"pii.{kind}_share"] = float(sel.mean()) if len(sel) else 0.0
        return out

    def finish(self) -> CheckResult:
        """Counts and fractions per kind, the pii column and redacted examples."""
        hits = self._arrays()
        labels = np.full(len(hits["any"]), None, dtype=object)
        for i in np.flatnonzero(hits["any"]).tolist():
            labels[i] = ",".join(k for k in KINDS if hits[k][i])
        flags = {f"pii.{k}_{m}": v for k, v in hits.items() for m in ("count", "share")}
        return CheckResult(metrics=self._metrics(hits), details={"examples": self.examples},
                           columns={"pii": pa.array(labels, type=pa.string())}, flags=flags)

    def metrics_for(self, mask: np.ndarray) -> dict[str, float]:
        """The personal-data metrics over the records in ``mask`` (a source's slice)."""
        return self._metrics(self._arrays(), np.asarray(mask, dtype=bool))

    @classmethod
    def section(cls, details, metrics) -> Section | None:
        """The counts per kind and the redacted examples with their locations."""
        examples = details.get("examples") if isinstance(details.get("examples"), dict) else {}
        rows = [[kind, P.location(e), str(e.get("found", ""))]
                for kind in KINDS for e in P.dicts(examples.get(kind))]
        return Section(
            key=cls.name, title=cls.title,
            facts=[(f"records with {what}", fmt_metric("fraction", metrics[f"pii.{k}_share"]))
                   for k, what in KINDS.items() if f"pii.{k}_share" in metrics],
            tables=[Table(["kind", "location", "found (redacted)"], rows, title="Examples")] if rows else [],
        )
