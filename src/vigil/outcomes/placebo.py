"""Placebo-in-space inference: the primary test of whether a deployment changed anything.

Why this and not a model's standard error. On real counts the quasi-Poisson interval of
:mod:`~vigil.outcomes.did` did not hold its level (issue 17: 8-13 % of placebo deployments
"found" an effect at a nominal 5 %): counts are over-dispersed and bursty, and deployments go
where recent counts were high, so they regress to the mean afterwards. Both are properties of
the data, not of a model, so the reference distribution is taken from the data: the same
statistic computed on *comparable undeployed areas* over the same periods.

For one deployment the statistic is the log ratio of incidents after to before in the deployed
area, ``s = log((A + 1/2) / (B + 1/2))``. Its reference set is the ``donors`` undeployed units
(single areas, or compact groups of as many areas as were deployed) closest to the deployed
unit on **before-period count and before-period trend** (log ratio of the second half of the
before period to the first), away from every deployed area and its surroundings. Matching on
the counts the forecast selected on puts the donors through the same regression to the mean
as the deployed area; a force-wide shock moves them alike. The estimate is ``s`` minus the
donors' median (a rate ratio against what comparable areas did); the 95 % interval is the set
of effects the rank test does not reject (test inversion), so under exchangeability its level
is exact by construction, whatever the dispersion.

A season pools its deployments by the mean of their centred statistics; its reference is the
same mean over placebo seasons, one donor drawn for each deployment (``SEASON_DRAWS`` draws).
Each deployment is also left out in turn, so one bursty cell cannot decide a season: a season
verdict that depends on a single deployment says so.

Displacement uses the same machinery on the ring of areas around each deployment against the
rings around matched donor areas (see :func:`ring_test`).

Everything is computed for all areas at once (sums over period slices, sparse neighbour
matrices, one ``argpartition`` for the matching), so a calibration run of hundreds of placebo
deployments takes seconds on two cores (:mod:`vigil.outcomes.calibrate`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

from vigil.outcomes.did import OutcomeInputError, RateEstimate, Verdict

#: Matched donors per deployment. With K donors the two-sided rank test at 5 % rejects when the
#: deployed unit is among the ``0.025 (K + 1)`` most extreme of ``K + 1``: 79 makes that a whole
#: number (2), so the level is exactly 5 % rather than rounded.
DONORS = 79
#: Fewest comparable undeployed units for a test at all (one rejected on each side of 40).
MIN_DONORS = 39
#: Placebo seasons drawn for a pooled season's reference distribution.
SEASON_DRAWS = 1999
#: Fewest incidents in the deployed unit before, and expected during/after (from the before
#: count and the donors' trend, never the outcome), for an estimate to be given.
MIN_BEFORE = 10
MIN_EXPECTED_AFTER = 5
#: Weight of the before-period trend against the before-period level in the matching distance.
TREND_WEIGHT = 0.5
ALPHA = 0.05
#: Least distance between two placebo rings' centres, in buffer widths (rings may not share
#: most of their areas: near-copies make the reference set too narrow).
RING_SEPARATION = 1.0
#: Seed of the placebo-season draws: a published result must be reproducible.
SEED = 20170


@dataclass(frozen=True)
class Window:
    """A deployment in index terms: the areas (indices into the cube) and the period slices."""

    label: str
    areas: tuple[int, ...]
    before: tuple[int, int]
    after: tuple[int, int]

    def __post_init__(self) -> None:
        b0, b1 = self.before
        a0, a1 = self.after
        if not (0 <= b0 < b1 <= a0 < a1):
            raise OutcomeInputError(
                f"deployment {self.label}: needs before periods then after periods, got "
                f"before {self.before}, after {self.after}"
            )
        if not self.areas:
            raise OutcomeInputError(f"deployment {self.label} has no area")


@dataclass
class CountCube:
    """Incident counts per area and period, with the areas' centres (metres)."""

    counts: np.ndarray  # (areas, periods), integers
    x: np.ndarray
    y: np.ndarray
    _cum: np.ndarray | None = field(default=None, repr=False)
    _groups: dict[int, np.ndarray] = field(default_factory=dict, repr=False)
    _tree: cKDTree | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.counts = np.asarray(self.counts)
        if self.counts.ndim != 2 or len(self.x) != self.counts.shape[0]:
            raise OutcomeInputError("count cube must be (areas, periods) with one centre per area")

    @property
    def n_areas(self) -> int:
        return int(self.counts.shape[0])

    @property
    def tree(self) -> cKDTree:
        if self._tree is None:
            self._tree = cKDTree(np.column_stack([self.x, self.y]))
        return self._tree

    def sums(self, lo: int, hi: int) -> np.ndarray:
        """Each area's total over periods ``[lo, hi)`` (cumulative sums: O(areas))."""
        if self._cum is None:
            c = np.zeros((self.n_areas, self.counts.shape[1] + 1), dtype=np.int64)
            np.cumsum(self.counts, axis=1, out=c[:, 1:])
            self._cum = c
        return self._cum[:, hi] - self._cum[:, lo]

    def groups(self, k: int) -> np.ndarray:
        """(areas, k): for each area, itself and its ``k - 1`` nearest areas (a compact unit
        the size of a ``k``-area deployment)."""
        if k not in self._groups:
            if k == 1:
                self._groups[k] = np.arange(self.n_areas)[:, None]
            else:
                _, idx = self.tree.query(np.column_stack([self.x, self.y]), k=k)
                self._groups[k] = np.asarray(idx).reshape(self.n_areas, k)
        return self._groups[k]

    def near(self, areas: Sequence[int], radius: float) -> np.ndarray:
        """Boolean mask of areas whose centre is within ``radius`` of any of ``areas``."""
        mask = np.zeros(self.n_areas, dtype=bool)
        for hits in self.tree.query_ball_point(
            np.column_stack([self.x[list(areas)], self.y[list(areas)]]), r=radius
        ):
            mask[hits] = True
        return mask

    def ring_matrix(self, radius: float) -> sparse.csr_matrix:
        """(areas, areas): row i marks the areas within ``radius`` of area i, i excluded."""
        pairs = self.tree.query_pairs(r=radius, output_type="ndarray")
        n = self.n_areas
        if len(pairs) == 0:
            return sparse.csr_matrix((n, n), dtype=np.int64)
        r = np.concatenate([pairs[:, 0], pairs[:, 1]])
        c = np.concatenate([pairs[:, 1], pairs[:, 0]])
        return sparse.csr_matrix((np.ones(len(r), dtype=np.int64), (r, c)), shape=(n, n))


@dataclass(frozen=True)
class Features:
    """Before count, before trend and after count of every candidate unit (one per area)."""

    before: np.ndarray
    trend: np.ndarray
    after: np.ndarray

    @property
    def stat(self) -> np.ndarray:
        return np.log((self.after + 0.5) / (self.before + 0.5))


def unit_features(cube: CountCube, w: Window, k: int | None = None) -> Features:
    """Features of every compact ``k``-area unit (one centred on each area) in ``w``'s periods."""
    k = len(w.areas) if k is None else k
    b0, b1 = w.before
    mid = (b0 + b1) // 2 if b1 - b0 >= 2 else b0
    first, second = cube.sums(b0, mid), cube.sums(mid, b1)
    after = cube.sums(*w.after)
    g = cube.groups(k)
    first, second, after = first[g].sum(1), second[g].sum(1), after[g].sum(1)
    return Features(first + second, _trend(first, second), after)


def _trend(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    return np.log((second + 0.5) / (first + 0.5))


def deployed_features(cube: CountCube, w: Window, rows: np.ndarray | None = None) -> Features:
    """Features of the deployed unit (``rows``: a sparse row selecting areas, else its areas)."""
    b0, b1 = w.before
    mid = (b0 + b1) // 2 if b1 - b0 >= 2 else b0
    idx = list(w.areas)

    def total(lo: int, hi: int) -> np.ndarray:
        s = cube.sums(lo, hi)
        return np.array([s[idx].sum() if rows is None else (rows @ s).sum()])

    first, second = total(b0, mid), total(mid, b1)
    return Features(first + second, _trend(first, second), total(*w.after))


def match(
    candidates: Features,
    target_before: np.ndarray,
    target_trend: np.ndarray,
    eligible: np.ndarray,
    donors: int,
    *,
    extra: Sequence[tuple[np.ndarray, float]] = (),
    spread: tuple[np.ndarray, float] | None = None,
) -> np.ndarray:
    """(targets, donors) indices of the eligible candidates closest on before-period level and
    trend, and on ``extra`` covariates (candidates' values, target's value; log scale: the
    forecast risk the deployment was selected on); rows padded with -1 where fewer are
    eligible. One ``argpartition`` for all targets, or a spread-out pick (``spread``: centres
    and the least distance between two donors)."""
    lvl = np.log1p(candidates.before)
    d = (np.log1p(target_before)[:, None] - lvl[None, :]) ** 2
    d += (TREND_WEIGHT * (target_trend[:, None] - candidates.trend[None, :])) ** 2
    for values, target in extra:
        d += (target - values[None, :]) ** 2
    d = np.where(eligible, d, np.inf)
    if spread is not None:
        xy, min_sep = spread
        return np.array([_spread_pick(row, xy, donors, min_sep) for row in d])
    k = min(donors, d.shape[1])
    part = np.argpartition(d, k - 1, axis=1)[:, :k]
    ok = np.isfinite(np.take_along_axis(d, part, axis=1))
    return np.where(ok, part, -1)


def _spread_pick(dist: np.ndarray, xy: np.ndarray, k: int, min_sep: float) -> np.ndarray:
    """The ``k`` closest candidates (by ``dist``) no two of which are within ``min_sep``
    metres: overlapping donors (two rings sharing most of their areas) are one donor twice,
    and a reference set of near-copies is too narrow."""
    n_look = min(len(dist), max(50 * k, 2000))
    order = np.argpartition(dist, n_look - 1)[:n_look]
    order = order[np.argsort(dist[order], kind="stable")]
    order = order[np.isfinite(dist[order])]
    chosen: list[int] = []
    for i in order:
        if chosen:
            gap = np.hypot(*(xy[chosen] - xy[i]).T)
            if gap.min() <= min_sep:
                continue
        chosen.append(int(i))
        if len(chosen) == k:
            break
    out = np.full(k, -1)
    out[: len(chosen)] = chosen
    return out


def rank_interval(stat: np.ndarray, ref: np.ndarray, alpha: float = ALPHA) -> dict[str, Any]:
    """Estimate, interval and p-value of a shift in ``stat`` against reference draws ``ref``.

    ``stat``: (n,) statistics of deployed units; ``ref``: (n, K) their reference draws (NaN
    where a row has fewer). Effect ``theta`` is rejected when ``stat - theta`` lies among the
    ``alpha/2 (K + 1)`` most extreme of the ``K + 1`` values on either side; the interval is the
    effects not rejected.
    """
    ref = np.sort(ref, axis=1)  # NaNs last
    k = np.sum(np.isfinite(ref), axis=1)
    r = np.floor(alpha / 2 * (k + 1)).astype(int)
    ok = r >= 1
    ri = np.clip(r - 1, 0, ref.shape[1] - 1)
    hi_i = np.clip(k - r, 0, ref.shape[1] - 1)
    lo_q = np.take_along_axis(ref, ri[:, None], axis=1)[:, 0]
    hi_q = np.take_along_axis(ref, hi_i[:, None], axis=1)[:, 0]
    med = np.nanmedian(np.where(np.isfinite(ref), ref, np.nan), axis=1)
    below = np.sum(ref <= stat[:, None], axis=1)
    above = np.sum(ref >= stat[:, None], axis=1)
    p = np.minimum(1.0, 2 * (np.minimum(below, above) + 1) / (k + 1))
    return {
        "estimate": np.where(ok, stat - med, np.nan),
        "low": np.where(ok, stat - hi_q, np.nan),
        "high": np.where(ok, stat - lo_q, np.nan),
        "p": np.where(ok, p, np.nan),
        "n_ref": k,
    }


def log_risk(values: np.ndarray, target: float) -> tuple[np.ndarray, float]:
    """Forecast risk on a log scale (floored at a thousandth of the mean), for matching."""
    floor = max(float(np.mean(values)) * 1e-3, 1e-12)
    return np.log(np.maximum(values, floor)), float(np.log(max(target, floor)))


def bias_corrected(stats: np.ndarray, cov: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Donors' statistics moved to the deployed unit's covariates (bias-corrected matching,
    Abadie and Imbens 2011): a least-squares slope of the statistic on the matching covariates
    within the donor set, times each donor's gap to the deployed unit. Matching alone leaves
    the most extreme deployed areas (the forecast's top cells) above their donors; the slope
    carries the donors the rest of the way. Left alone when there are too few donors for it."""
    if len(stats) < 4 * (cov.shape[1] + 1):
        return stats
    x = np.column_stack([np.ones(len(stats)), cov - cov.mean(axis=0)])
    beta, *_ = np.linalg.lstsq(x, stats, rcond=None)
    return stats + (target - cov) @ beta[1:]


def corrected(
    cand: Features, idx: np.ndarray, mine: Features, extra: Sequence[tuple[np.ndarray, float]]
) -> np.ndarray:
    """The matched donors' statistics, bias-corrected on every matching covariate."""
    cov = np.column_stack(
        [np.log1p(cand.before[idx]), cand.trend[idx]] + [v[idx] for v, _ in extra]
    )
    target = np.array(
        [float(np.log1p(mine.before[0])), float(mine.trend[0])] + [t for _, t in extra]
    )
    return bias_corrected(cand.stat[idx], cov, target)


def verdict_of(low: float, high: float) -> Verdict:
    if high < 0:
        return Verdict.REDUCTION
    if low > 0:
        return Verdict.INCREASE
    return Verdict.NO_DETECTABLE_EFFECT


@dataclass(frozen=True)
class UnitResult:
    """One deployment's placebo test (or the reason none was made)."""

    label: str
    verdict: Verdict
    rate_ratio: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    before: int
    after: int
    expected_after: float
    n_donors: int
    pre_trend_p: float | None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["verdict"] = str(self.verdict)
        return d


@dataclass(frozen=True)
class Prepared:
    """A deployment's statistic, its donors' statistics and the pre-decided refusal, if any."""

    label: str
    stat: float
    donor_stats: np.ndarray
    donors: np.ndarray
    before: int
    after: int
    expected_after: float
    trend: float
    donor_trends: np.ndarray
    refusal: str


def prepare(
    cube: CountCube,
    w: Window,
    excluded: np.ndarray,
    *,
    donors: int = DONORS,
    after_counts: np.ndarray | None = None,
    risk: np.ndarray | None = None,
) -> Prepared:
    """Match donors to one deployment and compute the statistics. ``excluded`` masks areas
    that may not be (part of) a donor: deployed areas, their buffers and exclusion zones.
    ``after_counts`` replaces the deployed unit's after count (an injected effect); ``risk``
    (per area, the forecast the deployment was chosen from) is matched on as well."""
    k = len(w.areas)
    cand = unit_features(cube, w, k)
    mine = deployed_features(cube, w)
    g = cube.groups(k)
    eligible = ~excluded[g].any(axis=1)
    extra: list[tuple[np.ndarray, float]] = []
    if risk is not None:
        r = np.asarray(risk, float)
        extra.append(log_risk(r[g].sum(axis=1), float(r[list(w.areas)].sum())))
    idx = match(cand, mine.before, mine.trend, eligible[None, :], donors, extra=extra)[0]
    idx = idx[idx >= 0]
    after = int(mine.after[0]) if after_counts is None else int(after_counts)
    before = int(mine.before[0])
    donor_ratio = (
        float(np.median((cand.after[idx] + 0.5) / (cand.before[idx] + 0.5))) if len(idx) else 0
    )
    expected = before * donor_ratio
    refusal = []
    if len(idx) < MIN_DONORS:
        refusal.append(f"{len(idx)} comparable undeployed areas (minimum {MIN_DONORS})")
    if before < MIN_BEFORE:
        refusal.append(f"{before} incidents in the deployed area before (minimum {MIN_BEFORE})")
    if expected < MIN_EXPECTED_AFTER:
        refusal.append(
            f"{expected:.0f} incidents expected during/after from the before-period and the "
            f"comparable areas' trend (minimum {MIN_EXPECTED_AFTER})"
        )
    return Prepared(
        w.label,
        float(np.log((after + 0.5) / (before + 0.5))),
        corrected(cand, idx, mine, extra),
        idx,
        before,
        after,
        expected,
        float(mine.trend[0]),
        cand.trend[idx],
        "; ".join(refusal),
    )


def single_result(p: Prepared) -> UnitResult:
    """The placebo test of one prepared deployment."""
    if p.refusal:
        return UnitResult(
            p.label,
            Verdict.TOO_FEW,
            None,
            None,
            None,
            None,
            p.before,
            p.after,
            p.expected_after,
            len(p.donors),
            None,
            f"Too few to tell: {p.refusal}.",
        )
    r = rank_interval(np.array([p.stat]), p.donor_stats[None, :])
    pt = rank_interval(np.array([p.trend]), p.donor_trends[None, :])
    lo, hi = float(r["low"][0]), float(r["high"][0])
    return UnitResult(
        p.label,
        verdict_of(lo, hi),
        float(np.exp(r["estimate"][0])),
        float(np.exp(lo)),
        float(np.exp(hi)),
        float(r["p"][0]),
        p.before,
        p.after,
        p.expected_after,
        len(p.donors),
        float(pt["p"][0]),
    )


#: Power the stated minimum detectable reduction is computed for.
MDE_POWER = 0.8


def _smallest_detectable(
    power_at: Callable[[float], float], power: float, steps: int
) -> float | None:
    """The smallest reduction ``1 - keep`` whose power reaches ``power``, by bisection on the
    kept share (power falls as more is kept); None when even removing everything falls short.
    One search for single deployments and seasons, so both figures mean the same thing."""
    if power_at(1e-9) < power:
        return None
    lo, hi = 1e-9, 1.0  # power at lo is enough, at hi (no reduction) it is not
    for _ in range(steps):
        mid = (lo + hi) / 2
        if power_at(mid) >= power:
            lo = mid
        else:
            hi = mid
    return float(1.0 - lo)


def detectable_reduction(p: Prepared, *more: Prepared, power: float = MDE_POWER) -> float | None:
    """The smallest reduction (a fraction, 0.3 = 30 %) this deployment's placebo test detects
    with ``power``, from the spread of its matched donors: the same donors and statistic the
    evaluation uses, so it is as pessimistic as the data (over-dispersion, bursts) and not
    the Poisson optimum (:mod:`vigil.outcomes.power` stated about 32 % for London's top cell
    while a 40 % cut was called in only 22 % of placebos).

    Under no effect the deployed statistic is distributed like its donors' ``d``: an after
    count ``N = (B + 1/2) e^d - 1/2`` for each donor. A reduction to ``r`` removes each incident
    with probability ``1 - r``, so the after count becomes ``Binomial(N, r)``, and the test
    calls a reduction when the statistic falls below the ``alpha/2 (K + 1)``-th smallest donor
    value ``q_lo``. The power is the binomial probability of that, averaged over the donors;
    the smallest ``1 - r`` with 80 % power is found by bisection. Exact thinning, not a shift
    of ``log r``: at a few dozen incidents the thinning's own noise is as large as the donors'
    spread, and the shift alone overstated the power (stated 80 %, measured 70 % London 2022,
    58 % Chicago 2016). None when the deployment is refused (too few to tell) or no reduction
    short of 100 % is detectable.

    Stated from history before a deployment (:mod:`vigil.outcomes.detectable`), one window's
    figure rests on the second-smallest of 79 donor values, which the evaluation will not see
    again (its donors are other areas over other periods). ``more`` steadies it: the same
    deployment laid over earlier windows of history, the power averaged over all of them
    (windows refused or without enough donors are left out). Measured on the same placebos
    in benchmarks/README.md, "Minimum detectable reduction stated before deploying".
    (Weighing every donor value by its chance of being that order statistic of fresh draws
    was tried: the lowest donor then carries a quarter of the weight, and one outlier took a
    London cell's figure from 68 % to 97 %.)"""
    curves = [c for c in (_power_curve(q) for q in (p, *more)) if c is not None]
    if not curves:
        return None

    def power_at(keep: float) -> float:
        return float(np.mean([c(keep) for c in curves]))

    return _smallest_detectable(power_at, power, steps=40)


def season_detectable_reduction(
    preps: Sequence[Prepared],
    *,
    power: float = MDE_POWER,
    draws: int = 4000,
    seed: int = SEED,
) -> float | None:
    """The smallest reduction, in every deployment alike, that the pooled season test
    (:func:`season_result`) detects with ``power``: "and for the season it would join" (issue
    17). Refused deployments are left out, as the season test leaves them out.

    The season test compares the mean of the deployments' centred statistics with the means
    of placebo seasons (one donor each). Its power is simulated: each placebo season draws one
    donor per deployment, turns it into an after count ``N = (B + 1/2) e^d - 1/2`` as
    :func:`detectable_reduction` does, thins it to ``Binomial(N, r)`` (the same uniform draws
    for every ``r``, so the power falls steadily with ``r`` and bisection finds it), and counts
    how often the mean falls below the placebo seasons' ``alpha/2`` quantile, widened as the
    season test widens it (without the widening the stated figure was called in 62 of 100
    London 2022 placebo seasons, not 80). Pooling is why
    seasons detect what single deployments cannot: London 2022 placebo seasons of 8 called a
    40 % cut 85 % of the time, single cells 22 % (benchmarks/README.md)."""

    kept = [p for p in preps if not p.refusal and len(p.donor_stats) >= MIN_DONORS]
    if not kept:
        return None
    meds = np.array([np.median(p.donor_stats) for p in kept])
    null = season_draws([p.donor_stats - m for p, m in zip(kept, meds, strict=True)], draws, seed)
    threshold = float(np.quantile(null.mean(axis=1), ALPHA / 2))
    rng = np.random.default_rng(seed + 1)
    b = np.array([p.before + 0.5 for p in kept])
    pick = np.column_stack(
        [p.donor_stats[rng.integers(0, len(p.donor_stats), draws)] for p in kept]
    )
    n = np.maximum(np.rint(b * np.exp(pick) - 0.5), 0)
    u = rng.random(n.shape)
    thinned = _BinomialQuantiles(u, n)

    # from three deployments on, the season's interval is widened by how much more its own
    # estimates scatter than placebo deployments do (never narrowed; see _pooled)
    spread = float(np.sqrt(np.mean(null.var(axis=0))))

    def power_at(keep: float) -> float:
        x = thinned(keep)
        centred = np.log((x + 0.5) / b) - meds
        widen = np.ones(draws)
        if len(kept) >= 3 and spread > 0:
            widen = np.maximum(1.0, centred.std(axis=1, ddof=1) / spread)
        return float(np.mean(centred.mean(axis=1) < widen * threshold))

    return _smallest_detectable(power_at, power, steps=30)


class _BinomialQuantiles:
    """``stats.binom.ppf(u, n, keep)`` for fixed ``u`` and ``n`` at one ``keep`` after another.

    The season's bisection asks for the same (draws, deployments) cells at about 30 values of
    ``keep``; scipy's quantile searches each cell alone (about 11 ms a call for 4,000 x 6
    cells, a third of a minute for the 100 placebo seasons of tests/outcomes/test_placebo.py).
    The after counts take a few hundred distinct values, so one binomial CDF per distinct
    count (scipy's own, the same numbers its quantile rounds against) and a search of it per
    cell give the same quantiles, the smallest ``x`` with ``cdf(x) >= u``, in about a quarter
    of the time. The cells are grouped by count once, since only ``keep`` changes.
    """

    def __init__(self, u: np.ndarray, n: np.ndarray) -> None:
        self.counts, which = np.unique(n, return_inverse=True)
        which = which.reshape(-1)
        order = np.argsort(which, kind="stable")
        bounds = np.searchsorted(which[order], np.arange(len(self.counts) + 1))
        self.cells = [order[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        self.u = [u.reshape(-1)[c] for c in self.cells]
        self.shape = n.shape
        self.x = np.arange(int(self.counts.max()) + 1 if len(self.counts) else 1)

    def __call__(self, keep: float) -> np.ndarray:
        from scipy import stats

        cdf = stats.binom.cdf(self.x[None, :], self.counts[:, None], keep)
        out = np.empty(int(np.prod(self.shape)))
        for count, cells, u, row in zip(self.counts, self.cells, self.u, cdf, strict=True):
            found = np.searchsorted(row[: int(count) + 1], u, side="left")
            out[cells] = np.minimum(found, count)
        return out.reshape(self.shape)


def _power_curve(p: Prepared) -> Callable[[float], float] | None:
    """The probability that ``p``'s test calls a reduction when a share ``keep`` of the after
    incidents is kept (see :func:`detectable_reduction`); None when it cannot call one."""
    from scipy import stats

    if p.refusal or len(p.donor_stats) < MIN_DONORS:
        return None
    d = np.sort(p.donor_stats)
    r = int(np.floor(ALPHA / 2 * (len(d) + 1)))
    if r < 1:
        return None
    b = p.before + 0.5
    n = np.maximum(np.rint(b * np.exp(d) - 0.5), 0).astype(np.int64)
    # called when the thinned count x has log((x + 1/2) / b) < q_lo: x at most k
    k = np.ceil(b * np.exp(d) - 0.5) - 1
    if k[r - 1] < 0:
        return None
    k0 = float(k[r - 1])
    return lambda keep: float(np.mean(stats.binom.cdf(k0, n, keep)))


@dataclass(frozen=True)
class SeasonResult:
    """A pooled season: the mean effect over its deployments against placebo seasons."""

    verdict: Verdict
    rate_ratio: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    n_deployments: int
    refused: tuple[str, ...]
    #: the season's verdict with each deployment left out in turn
    leave_one_out: dict[str, str]
    #: deployments without which the verdict changes (empty: no single one decides it)
    decisive: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["verdict"] = str(self.verdict)
        return d


def season_draws(
    centred: Sequence[np.ndarray], draws: int = SEASON_DRAWS, seed: int = SEED
) -> np.ndarray:
    """(draws, deployments): one centred donor statistic per deployment per placebo season."""
    rng = np.random.default_rng(seed)
    return np.column_stack(
        [c[rng.integers(0, len(c), size=draws)] if len(c) else np.zeros(draws) for c in centred]
    )


def season_result(preps: Sequence[Prepared], *, draws: int = SEASON_DRAWS) -> SeasonResult:
    """Pool prepared deployments (refused ones are left out and named) into a season test."""
    kept = [p for p in preps if not p.refusal]
    refused = tuple(p.label for p in preps if p.refusal)
    if not kept:
        return SeasonResult(Verdict.TOO_FEW, None, None, None, None, 0, refused, {}, ())
    meds = np.array([np.median(p.donor_stats) for p in kept])
    obs = np.array([p.stat for p in kept]) - meds
    null = season_draws([p.donor_stats - m for p, m in zip(kept, meds, strict=True)], draws)
    labels = [p.label for p in kept]
    full = _pooled(obs, null, np.ones(len(kept), dtype=bool))
    loo: dict[str, str] = {}
    if len(kept) > 1:
        for j, lab in enumerate(labels):
            mask = np.ones(len(kept), dtype=bool)
            mask[j] = False
            loo[lab] = str(_pooled(obs, null, mask)[0])
    decisive = tuple(lab for lab, v in loo.items() if v != str(full[0]))
    verdict, est, lo, hi, p = full
    return SeasonResult(
        verdict, float(np.exp(est)), float(np.exp(lo)), float(np.exp(hi)), p, len(kept),
        refused, loo, decisive,
    )  # fmt: skip


def _pooled(
    obs: np.ndarray, null: np.ndarray, mask: np.ndarray, *, studentise: bool = False
) -> tuple[Verdict, float, float, float, float]:
    o, nl = obs[mask], null[:, mask]
    s = float(o.mean())
    if len(o) < 3:
        ref = nl.mean(axis=1)
        r = rank_interval(np.array([s]), ref[None, :])
        lo, hi = float(r["low"][0]), float(r["high"][0])
        return verdict_of(lo, hi), s, lo, hi, float(r["p"][0])
    if not studentise:
        # Deployments may differ more than their donors do (a month's local season, a burst):
        # when the season's own estimates scatter more than placebo deployments', the interval
        # is widened by that ratio (never narrowed). Conservative (Chicago 2016 seasons: 1.8 %
        # false alarms), but the studentised test below over-rejects there (9.5 %): Chicago's
        # forecast-selected cells fall more than their matched donors (mean log ratio -0.13),
        # which a season's small standard error turns into a "reduction". Kept for the main
        # verdict until that regression to the mean is matched away.
        ref = nl.mean(axis=1)
        r = rank_interval(np.array([s]), ref[None, :])
        spread = float(np.sqrt(np.mean(nl.var(axis=0))))
        widen = max(1.0, float(o.std(ddof=1)) / spread) if spread > 0 else 1.0
        lo = s - widen * (s - float(r["low"][0]))
        hi = s + widen * (float(r["high"][0]) - s)
        p = float(r["p"][0]) if widen == 1.0 else min(1.0, float(r["p"][0]) * widen)
        return verdict_of(lo, hi), s, lo, hi, float(p)
    # Displacement: the ring is not what the forecast selected, so it is close to exchangeable
    # with its donors' rings, and the season is studentised: its mean over its own standard
    # error against the same ratio in every placebo season (each with its own standard
    # error), interval by inversion. Exact under exchangeability, robust to excess scatter,
    # and without the widening's max(1, noisy ratio), which made Chicago 2016's displacement
    # seasons conservative (0.8 % false alarms; 3.2 % studentised).
    n = len(o)
    se = float(o.std(ddof=1)) / np.sqrt(n)
    null_se = nl.std(axis=1, ddof=1) / np.sqrt(n)
    ok = null_se > 0
    if se <= 0 or ok.sum() < MIN_DONORS:
        ref = nl.mean(axis=1)
        r = rank_interval(np.array([s]), ref[None, :])
        lo, hi = float(r["low"][0]), float(r["high"][0])
        return verdict_of(lo, hi), s, lo, hi, float(r["p"][0])
    t_null = nl.mean(axis=1)[ok] / null_se[ok]
    r = rank_interval(np.array([s / se]), t_null[None, :])
    # effect theta is accepted while t(theta) = (s - theta) / se lies between the reference
    # quantiles: the interval in t units, times se
    lo, hi = se * float(r["low"][0]), se * float(r["high"][0])
    return verdict_of(lo, hi), s, lo, hi, float(r["p"][0])


# ---------------------------------------------------------------------------- displacement


@dataclass(frozen=True)
class RingPrepared:
    """The ring around a deployment and the rings around matched donor areas, each with the
    scale of its statistic's noise estimated from its own before period (:func:`noise_scale`)."""

    label: str
    stat: float
    donor_stats: np.ndarray
    before: int
    after: int
    refusal: str
    scale: float = 1.0
    donor_scales: np.ndarray | None = None


#: Least dispersion (variance over mean of a unit's before-period blocks) a ring is credited
#: with: a few blocks can show almost no scatter by chance, and an unfloored near-zero would
#: make one quiet ring's studentised statistic enormous.
PHI_FLOOR = 0.25


def noise_scale(blocks: np.ndarray, before: np.ndarray, ratio: float) -> np.ndarray:
    """Each unit's standard error of ``log((after + 1/2) / (before + 1/2))``, from its own
    before period only: Poisson ``1/B + 1/(B ratio)`` (``ratio``: after length over before
    length, so ``B ratio`` is the after count expected without change) times the unit's own
    dispersion, the variance of its consecutive before-period blocks (each as long as the after
    window; first differences, so a steady trend does not count as scatter) over their mean.

    Why (issue 17): the surroundings of the forecast's top cells are not as steady as rings of
    the same size elsewhere. London 2022: placebo deployments' rings scattered around their
    donors' median with a standard deviation of 0.27 where the donors' own was 0.18 (police.uk
    snap points moving between neighbouring cells, bursts), so 9.1 % of placebos claimed
    displacement; Chicago 2016's spread-out donors hold quieter rings than the deployed one, so
    they scattered more (0.33 against 0.26) and only 1.8 % did. Dividing every ring's statistic
    by its own scale puts them on one footing; the rank test among them stays exact when they
    are exchangeable."""
    blocks = np.asarray(blocks, float)
    mean = blocks.mean(axis=1) + 0.5
    # one block: no scatter to measure, Poisson assumed
    var = (np.diff(blocks, axis=1) ** 2).mean(axis=1) / 2 if blocks.shape[1] > 1 else mean
    phi = np.maximum(var / mean, PHI_FLOOR)
    b = np.asarray(before, float)
    return np.sqrt(phi * (1 / (b + 0.5) + 1 / (b * ratio + 0.5)))


def before_blocks(cube: CountCube, w: Window) -> np.ndarray:
    """(areas, blocks) counts of ``w``'s before period in consecutive blocks as long as its
    after window (the last blocks; the first few periods are dropped when it does not divide),
    or single periods when the before period holds fewer than two such blocks."""
    b0, b1 = w.before
    length = w.after[1] - w.after[0]
    n = b1 - b0
    per = cube.counts[:, b0:b1]
    k = n // length
    if k < 2:
        return per
    return per[:, n - k * length :].reshape(per.shape[0], k, length).sum(axis=2)


def ring_rows(cube: CountCube, areas: Sequence[int], radius: float) -> np.ndarray:
    """Indices of the areas within ``radius`` of ``areas``, ``areas`` themselves excluded."""
    near = cube.near(areas, radius)
    near[list(areas)] = False
    return np.flatnonzero(near)


def prepare_ring(
    cube: CountCube,
    w: Window,
    excluded: np.ndarray,
    ring: sparse.csr_matrix,
    *,
    buffer_m: float,
    donors: int = DONORS,
    after_counts: np.ndarray | None = None,
    risk: np.ndarray | None = None,
) -> RingPrepared:
    """Statistics of the ring (buffer) around ``w`` and of rings around matched single donor
    areas whose ring touches nothing ``excluded``. ``ring`` is ``cube.ring_matrix(buffer_m)``;
    ``after_counts`` (per area, optional) replaces the after-period sums (an injected move)."""
    b0, b1 = w.before
    mid = (b0 + b1) // 2 if b1 - b0 >= 2 else b0
    first, second = cube.sums(b0, mid), cube.sums(mid, b1)
    after = cube.sums(*w.after) if after_counts is None else after_counts
    rf, rs, ra = ring @ first, ring @ second, ring @ after
    mine = ring_rows(cube, w.areas, buffer_m)
    mf, ms, ma = first[mine].sum(), second[mine].sum(), after[mine].sum()
    touched = (ring @ excluded.astype(np.int64)) > 0
    eligible = ~excluded & ~touched
    cand = Features(rf + rs, _trend(rf, rs), ra)
    mine_f = Features(np.array([mf + ms]), _trend(np.array([mf]), np.array([ms])), np.array([ma]))
    extra: list[tuple[np.ndarray, float]] = []
    if risk is not None:
        r = np.asarray(risk, float)
        extra.append(log_risk(ring @ r, float(r[mine].sum())))
        # the deployed centre was selected on its own risk: so are the donor rings' centres
        extra.append(log_risk(r, float(r[list(w.areas)].mean())))
    idx = match(
        cand, mine_f.before, mine_f.trend, eligible[None, :], donors, extra=extra,
        spread=(np.column_stack([cube.x, cube.y]), RING_SEPARATION * buffer_m),
    )[0]  # fmt: skip
    idx = idx[idx >= 0]
    blocks = before_blocks(cube, w)
    ratio = (w.after[1] - w.after[0]) / (b1 - b0)
    scale = noise_scale(blocks[mine].sum(axis=0)[None, :], np.array([mf + ms]), ratio)
    donor_scales = noise_scale(ring[idx] @ blocks, cand.before[idx], ratio)
    refusal = []
    if len(idx) < MIN_DONORS:
        refusal.append(f"{len(idx)} comparable surrounding areas (minimum {MIN_DONORS})")
    if mf + ms < MIN_BEFORE:
        refusal.append(
            f"{mf + ms} incidents around the deployed area before (minimum {MIN_BEFORE})"
        )
    return RingPrepared(
        w.label,
        float(np.log((ma + 0.5) / (mf + ms + 0.5))),
        corrected(cand, idx, mine_f, extra),
        int(mf + ms),
        int(ma),
        "; ".join(refusal),
        float(scale[0]),
        donor_scales,
    )


class Displacement:
    """Verdicts of the displacement test (the surrounding area against placebo surroundings)."""

    NONE = "no evidence of displacement"
    DISPLACEMENT = "displacement: the surrounding area rose beyond chance"
    DIFFUSION = "diffusion of benefit: the surrounding area fell beyond chance"
    TOO_FEW = "too few incidents to tell"


@dataclass(frozen=True)
class RingResult(RateEstimate):
    """The surrounding area's change against placebo surroundings, as a rate ratio."""

    n_deployments: int
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def alarm(self) -> bool:
        """Whether the verdict claims displacement or diffusion."""
        return self.verdict in (Displacement.DISPLACEMENT, Displacement.DIFFUSION)


def ring_result(preps: Sequence[RingPrepared], *, draws: int = SEASON_DRAWS) -> RingResult:
    """One deployment's ring test, or a season's pooled over its deployments."""
    kept = [p for p in preps if not p.refusal]
    if not kept:
        why = "; ".join(p.refusal for p in preps)
        return RingResult(Displacement.TOO_FEW, None, None, None, None, 0, why)
    meds = np.array([np.median(p.donor_stats) for p in kept])
    obs = np.array([p.stat for p in kept]) - meds
    if len(kept) == 1:
        est, lo, hi, p = _studentised_single(kept[0], float(obs[0]), float(meds[0]))
    else:
        null = season_draws([q.donor_stats - m for q, m in zip(kept, meds, strict=True)], draws)
        _, est, lo, hi, p = _pooled(obs, null, np.ones(len(kept), dtype=bool), studentise=True)
    v = verdict_of(lo, hi)
    text = {
        Verdict.INCREASE: Displacement.DISPLACEMENT,
        Verdict.REDUCTION: Displacement.DIFFUSION,
    }.get(v, Displacement.NONE)
    return RingResult(text, float(np.exp(est)), float(np.exp(lo)), float(np.exp(hi)), p, len(kept))


def _studentised_single(q: RingPrepared, centred: float, median: float) -> tuple[float, ...]:
    """One ring against its donors, each centred statistic over its own noise scale
    (:func:`noise_scale`): the estimate is the centred log ratio; effect ``theta`` is accepted
    while ``(centred - theta) / scale`` lies between the donors' studentised quantiles, so the
    interval is the rank test's in scale units, times the ring's own scale."""
    scales = q.donor_scales if q.donor_scales is not None else np.ones(len(q.donor_stats))
    ref = (q.donor_stats - median) / scales
    r = rank_interval(np.array([centred / q.scale]), ref[None, :])
    lo, hi = q.scale * float(r["low"][0]), q.scale * float(r["high"][0])
    return centred, lo, hi, float(r["p"][0])
