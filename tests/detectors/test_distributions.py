"""The run-time quantile functions agree with scipy's (scipy is a test/training dependency only)."""

from __future__ import annotations

import pytest

from collapse_audit.detectors.distributions import beta_ppf, chi2_ppf

stats = pytest.importorskip("scipy.stats")


@pytest.mark.parametrize("df", [1, 2, 3, 7, 10, 19, 40])
@pytest.mark.parametrize("p", [0.01, 0.5, 0.95, 0.99])
def test_chi2_quantiles_match_scipy(p, df):
    assert chi2_ppf(p, df) == pytest.approx(float(stats.chi2.ppf(p, df)), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(("a", "b"), [(0.5, 0.5), (0.5, 100.5), (3.5, 97.5), (50.5, 50.5), (999.5, 0.5),
                                      (12.5, 4000.5)])
@pytest.mark.parametrize("p", [0.025, 0.5, 0.975])
def test_beta_quantiles_match_scipy(p, a, b):
    assert beta_ppf(p, a, b) == pytest.approx(float(stats.beta.ppf(p, a, b)), rel=1e-8, abs=1e-12)
