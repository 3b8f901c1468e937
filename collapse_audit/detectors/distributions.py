"""The two quantile functions the share estimate needs, in plain Python (no scipy at run time).

The core install must stay light (scipy alone is ~140 MB), yet the applicability test needs a
chi-square quantile (the sampling allowance of a histogram's KL misfit) and the widened interval a
Beta quantile (the Jeffreys interval of a flagged share). Both are found by bisection on the exact
regularised incomplete gamma / beta functions (series and Lentz continued fraction, as in Numerical
Recipes §6.2 and §6.4); they agree with scipy to 1e-9 (tested).
"""

from __future__ import annotations

import math

_EPS = 1e-15
_TINY = 1e-300


def _gamma_p(a: float, x: float) -> float:
    """Regularised lower incomplete gamma P(a, x)."""
    if x <= 0:
        return 0.0
    if x < a + 1:  # series
        term = total = 1.0 / a
        ap = a
        for _ in range(10_000):
            ap += 1
            term *= x / ap
            total += term
            if abs(term) < abs(total) * _EPS:
                break
        return total * math.exp(-x + a * math.log(x) - math.lgamma(a))
    # continued fraction for Q(a, x)
    b, c, d = x + 1 - a, 1 / _TINY, 1 / (x + 1 - a)
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1 / d
        h *= d * c
        if abs(d * c - 1) < _EPS:
            break
    return 1.0 - math.exp(-x + a * math.log(x) - math.lgamma(a)) * h


def _beta_cf(a: float, b: float, x: float) -> float:
    qab, qap, qam = a + b, a + 1, a - 1
    c, d = 1.0, 1 - qab * x / qap
    d = 1 / (_TINY if abs(d) < _TINY else d)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1 + aa * d
        d = 1 / (_TINY if abs(d) < _TINY else d)
        c = 1 + aa / c
        c = _TINY if abs(c) < _TINY else c
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1 + aa * d
        d = 1 / (_TINY if abs(d) < _TINY else d)
        c = 1 + aa / c
        c = _TINY if abs(c) < _TINY else c
        h *= d * c
        if abs(d * c - 1) < _EPS:
            break
    return h


def _beta_i(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta I_x(a, b)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1) / (a + b + 2):
        return front * _beta_cf(a, b, x) / a
    return 1.0 - front * _beta_cf(b, a, 1 - x) / b


def _bisect(cdf, p: float, lo: float, hi: float) -> float:
    for _ in range(200):
        mid = (lo + hi) / 2
        if cdf(mid) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-13 * max(1.0, hi):
            break
    return (lo + hi) / 2


def chi2_ppf(p: float, df: float) -> float:
    """Quantile ``p`` of the chi-square distribution with ``df`` degrees of freedom."""
    hi = max(1.0, df)
    while _gamma_p(df / 2, hi / 2) < p:
        hi *= 2
    return _bisect(lambda x: _gamma_p(df / 2, x / 2), p, 0.0, hi)


def beta_ppf(p: float, a: float, b: float) -> float:
    """Quantile ``p`` of the Beta(a, b) distribution."""
    return _bisect(lambda x: _beta_i(a, b, x), p, 0.0, 1.0)
