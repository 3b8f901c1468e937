"""One synthetic share from two witnesses: a mixture fit on their *joint* scores, by family.

Why joint, and why families: each witness alone has a blind spot. The trained detector scores
base-model text like human text; the language-model witness is weaker on rewritten chat text.
Fitting each witness's scores alone, a blind spot is *fitted as human* and nothing looks wrong.
On the 2-D scores the families separate: human text is low on both axes, chat-model rewrites high
on the trained axis, base-model samples high on the language-model axis. So the corpus's 2-D
histogram is fitted as ``pi_human * H + pi_chat * C + pi_base * B`` with reference histograms
per family, and the synthetic share is ``pi_chat + pi_base``.

Uncertainty, all in one posterior (a data-augmentation Gibbs sampler for the mixture weights):
the corpus's sampling error; the reference histograms' counting error (Dirichlet draws); and
the spread between *generators* within a family - each draw re-weights the family's generators
at random (Dirichlet(1)), so a corpus written by one generator the reference pooled with others
still lies inside the interval. The prior is uniform on the share. The interval is never
zero-width.

What makes the estimate trustworthy (``fit_test``): the corpus's joint histogram must look like
*some* mixture of the validated families, measured against what such mixtures give on corpora of
the same size (a parametric bootstrap of the G statistic, reference uncertainty included). A
text that one witness sees and the other does not, in a way no validated family does, fails it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

FAMILIES = ("human", "chat", "base")
SYNTHETIC_FAMILIES = ("chat", "base")
#: share prior: Dirichlet(1, 1/2, 1/2) over (human, chat, base) makes the share uniform on [0, 1]
PRIOR = np.array([1.0, 0.5, 0.5])
ITERATIONS = 1000
BURN_IN = 200
#: chi-square(1) 95% point: the profile-likelihood interval's cut
LR_CUT = 3.841
LR_CUT_BOUNDARY = 2.706
PROFILE_GRID = 201
SPLIT_GRID = 41
#: reference counts weigh this much in their Dirichlet posterior (as in quantify.REFERENCE_WEIGHT)
REFERENCE_WEIGHT = 0.5
FIT_DRAWS = 100
LEVEL = 0.95


@dataclass
class FamilyReference:
    """Reference counts per generator over the cells of one binning (2-D joint, or one witness's axis).

    ``counts[family]`` is a ``(n_generators, n_cells)`` array; ``generators[family]`` names its rows.
    """

    counts: dict[str, np.ndarray]
    generators: dict[str, list[str]]

    @property
    def n_cells(self) -> int:
        """Cells of the binning."""
        return int(next(iter(self.counts.values())).shape[1])

    def mean(self) -> np.ndarray:
        """``(3, n_cells)`` pooled family histograms (generators weighted equally), smoothed."""
        rows = []
        for f in FAMILIES:
            c = self.counts[f] * REFERENCE_WEIGHT + 0.5 / self.n_cells
            rows.append((c / c.sum(axis=1, keepdims=True)).mean(axis=0))
        return np.array(rows)

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """One ``(3, n_cells)`` draw: generator weights ~ Dirichlet(1), each generator's histogram ~
        Dirichlet(its counts), mixed."""
        rows = []
        for f in FAMILIES:
            c = self.counts[f] * REFERENCE_WEIGHT + 0.5 / self.n_cells
            hist = np.array([rng.dirichlet(r) for r in c])
            w = rng.dirichlet(np.ones(len(c)))
            rows.append(w @ hist)
        return np.array(rows)

    def without(self, family: str, generator: str) -> FamilyReference:
        """The reference with one generator left out (leave-one-generator-out evaluation)."""
        keep = [i for i, g in enumerate(self.generators[family]) if g != generator]
        counts = dict(self.counts)
        counts[family] = self.counts[family][keep]
        gens = dict(self.generators)
        gens[family] = [self.generators[family][i] for i in keep]
        return FamilyReference(counts, gens)


@dataclass
class Binning:
    """Inner bin edges per witness axis; a record's cell is its row-major 2-D bin."""

    edges: list[np.ndarray]
    names: list[str] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, ...]:
        """Bins per axis."""
        return tuple(len(e) + 1 for e in self.edges)

    def cells(self, scores: np.ndarray, axes: Sequence[int] | None = None) -> np.ndarray:
        """Cell index of each row of ``scores`` ``(n, n_axes)`` over the given axes (default: all)."""
        axes = list(range(len(self.edges))) if axes is None else list(axes)
        idx = np.zeros(len(scores), dtype=np.int64)
        for a in axes:
            b = np.searchsorted(self.edges[a], scores[:, a], side="right")
            idx = idx * (len(self.edges[a]) + 1) + b
        return idx

    def n_cells(self, axes: Sequence[int] | None = None) -> int:
        """Cells over the given axes."""
        axes = list(range(len(self.edges))) if axes is None else list(axes)
        return int(np.prod([len(self.edges[a]) + 1 for a in axes]))


def counts_of(cells: np.ndarray, n_cells: int) -> np.ndarray:
    """Histogram of cell indices."""
    return np.bincount(np.asarray(cells, np.int64), minlength=n_cells).astype(np.float64)


def fit_weights(counts: np.ndarray, hists: np.ndarray, iters: int = 500) -> np.ndarray:
    """Maximum-likelihood mixture weights (EM) of ``hists`` ``(3, K)`` for the corpus ``counts``."""
    pi = np.full(len(hists), 1.0 / len(hists))
    n = counts.sum()
    if n <= 0:
        return pi
    for _ in range(iters):
        mix = pi @ hists
        resp = pi[:, None] * hists / np.maximum(mix, 1e-300)[None, :]
        new = (resp * counts[None, :]).sum(axis=1) / n
        if np.abs(new - pi).max() < 1e-9:
            return new
        pi = new
    return pi


def g_statistic(counts: np.ndarray, expected_share: np.ndarray) -> float:
    """G = 2 sum n log(n / (N e)): misfit of the corpus histogram to a fitted mixture."""
    n = counts.sum()
    e = np.maximum(expected_share * n, 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(2.0 * np.nansum(np.where(counts > 0, counts * np.log(counts / e), 0.0)))


def posterior_share(counts: np.ndarray, ref: FamilyReference, seed: int = 0) -> dict[str, Any]:
    """Share of the synthetic families with a 95% HPD interval, and the family weights.

    Returns ``estimate`` (maximum likelihood under the pooled references), ``ci_low``/``ci_high``,
    ``families`` (ML weight per family) and ``draws`` (posterior share draws, for combining).
    """
    rng = np.random.default_rng(seed)
    n = counts.astype(np.int64)
    pi = np.array([0.5, 0.25, 0.25])
    draws = np.empty(ITERATIONS - BURN_IN)
    for it in range(ITERATIONS):
        hists = ref.draw(rng)
        q = pi[:, None] * hists
        q = q / np.maximum(q.sum(axis=0, keepdims=True), 1e-300)
        alloc = rng.multinomial(n, q.T)                     # (K, 3): each cell's records by family
        pi = rng.dirichlet(PRIOR + alloc.sum(axis=0))
        if it >= BURN_IN:
            draws[it - BURN_IN] = pi[1] + pi[2]
    ml = fit_weights(counts, ref.mean())
    est = float(ml[1] + ml[2])
    lo, hi = hpd(draws)
    p_lo, p_hi = profile_interval(counts, ref.mean())
    lo, hi = min(lo, p_lo, est), max(hi, p_hi, est)
    step = 1.0 / max(float(counts.sum()), 1.0) / 4.0
    if hi - lo < step:                                       # never zero-width
        lo, hi = max(0.0, lo - step), min(1.0, hi + step)
    return {"estimate": est, "ci_low": lo, "ci_high": hi,
            "families": {f: float(w) for f, w in zip(FAMILIES, ml, strict=True)}, "draws": draws}


def profile_interval(counts: np.ndarray, hists: np.ndarray) -> tuple[float, float]:
    """The 95% profile-likelihood interval of the share: every share whose best split between the
    synthetic families fits within ``LR_CUT`` of the best fit.

    Why beside the posterior: where a witness cannot tell two families apart (the trained detector
    and base-model text), the likelihood is flat along that direction and the honest interval is
    the whole flat stretch; a posterior summary picks an arbitrary part of it. It also reaches 0
    or 1 exactly when the boundary fits.
    """
    p = np.linspace(0.0, 1.0, PROFILE_GRID)[:, None]
    split = np.linspace(0.0, 1.0, SPLIT_GRID)[None, :]
    mix = ((1 - p)[..., None] * hists[0] + (p * split)[..., None] * hists[1]
           + (p * (1 - split))[..., None] * hists[2])
    ll = (counts * np.log(np.maximum(mix, 1e-300))).sum(-1).max(axis=1)
    lr = 2.0 * (ll.max() - ll)
    ok = np.flatnonzero(lr <= LR_CUT)
    grid = p[:, 0]
    lo, hi = float(grid[ok[0]]), float(grid[ok[-1]])
    # at a boundary the statistic is half chi-square(0), half chi-square(1): the one-sided cut applies
    return (0.0 if lr[0] <= LR_CUT_BOUNDARY else lo), (1.0 if lr[-1] <= LR_CUT_BOUNDARY else hi)


def hpd(draws: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """Shortest interval holding ``level`` of the draws (boundaries reached when plausible)."""
    s = np.sort(np.asarray(draws, np.float64))
    k = max(1, int(np.ceil(level * len(s))))
    widths = s[k - 1:] - s[: len(s) - k + 1]
    i = int(np.argmin(widths))
    lo, hi = float(s[i]), float(s[i + k - 1])
    return (0.0 if lo < 2e-3 else lo), (1.0 if hi > 1 - 2e-3 else hi)


def fit_test(counts: np.ndarray, ref: FamilyReference, seed: int = 0,
             project: Any = None) -> dict[str, float]:
    """Does the corpus look like a mixture of the validated families? ``p_value`` of its G statistic
    against corpora of the same size drawn from the fitted mixture (reference uncertainty included).

    ``project`` maps joint cell counts (or shares) to the cells a test looks at - one witness's axis,
    say - so the same bootstrap asks whether *that witness's* scores look like what the joint fit
    predicts for it. None tests the joint histogram itself.
    """
    proj = project or (lambda x: x)
    mean = ref.mean()
    pi = fit_weights(counts, mean)
    g = g_statistic(proj(counts), proj(pi @ mean))
    rng = np.random.default_rng(seed + 1)
    n = int(counts.sum())
    sims = np.empty(FIT_DRAWS)
    for b in range(FIT_DRAWS):
        truth = pi @ ref.draw(rng)
        c = rng.multinomial(n, truth / truth.sum()).astype(np.float64)
        sims[b] = g_statistic(proj(c), proj(fit_weights(c, mean, iters=200) @ mean))
    p = float((1 + (sims >= g).sum()) / (FIT_DRAWS + 1))
    return {"g": g, "p_value": p, "g_median_null": float(np.median(sims))}
