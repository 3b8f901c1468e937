"""The one place numbers become text, so "35.0%" in the console is "35.0%" in HTML, JUnit and SARIF.

A metric is formatted by its declared *kind* (``count``, ``fraction``, ``value``, ``interval``;
see ``checks.spec.Metric``), never by guessing from its name.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

MISSING = "—"


def _finite(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _round(v: float, digits: int) -> str:
    """Decimal round-half-up: the same text on every platform and in every format."""
    q = Decimal(1).scaleb(-digits)
    return str(Decimal(repr(float(v))).quantize(q, rounding=ROUND_HALF_UP))


def fmt_percent(v: object, digits: int = 1) -> str:
    """A share in [0, 1] as a percentage; tiny non-zero shares read "<0.1%" rather than "0.0%"."""
    if not _finite(v):
        return MISSING
    f = float(v)  # type: ignore[arg-type]
    if f != 0 and abs(f) < 0.5 * 10 ** (-digits - 2):
        return f"<{_round(10 ** -digits, digits)}%"
    return f"{_round(f * 100, digits)}%"


def fmt_number(v: object) -> str:
    """Counts with thousands separators, other values with four significant digits."""
    if isinstance(v, bool):
        return str(v).lower()
    if not _finite(v):
        return MISSING if v is None else str(v)
    f = float(v)  # type: ignore[arg-type]
    if f.is_integer() and abs(f) < 1e15:
        return f"{int(f):,}"
    if abs(f) >= 1000:
        return f"{f:,.1f}"
    return f"{f:.4g}" if abs(f) >= 0.001 else f"{f:.3g}"


def fmt_metric(kind: str, v: object) -> str:
    """A metric value as a person reads it, by the metric's declared kind."""
    if kind in ("fraction", "interval"):
        return fmt_percent(v)
    return fmt_number(v)


def fmt_interval(kind: str, lo: object, hi: object) -> str:
    """"29.7%–39.1%" for an interval metric's bounds."""
    return f"{fmt_metric(kind, lo)}–{fmt_metric(kind, hi)}"
