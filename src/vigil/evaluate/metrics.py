"""Forecast accuracy metrics over areas of unequal (clipped) size.

Every coverage metric here answers "if we patrolled the top ``fraction`` of the *land* area,
ranked by the forecast, what share of what then happened would fall inside it?". Fractions are
of the clipped area (``RiskSurface.area_m2`` / ``Grid.clipped_area``), never of raw squares: a
cell that is half river or half outside the city counts for half.

How the selection is made, exactly:

* areas are taken in decreasing order of ``risk`` until their cumulative area reaches
  ``fraction * total_area``;
* polygons of unequal size (wards, LSOAs) are ranked by risk per m^2 instead (``by_density``);
* the area straddling the boundary is taken *pro rata* (a share of its area and of its
  incidents), so the selected area is exactly the fraction asked for;
* areas with *equal* risk (to within ``TIE_RTOL``) form one block that is taken pro rata as a
  whole, which is the expectation over random tie-breaking. A naive count model ties
  thousands of cells at 0 or 1; breaking those ties by cell order would make its score depend
  on where the grid starts.

Definitions and sources:

* hit rate: share of observed incidents inside the selection (Chainey, Tompson & Uhlig 2008).
* PAI, predictive accuracy index: hit rate / area share (Chainey, Tompson & Uhlig 2008,
  "The utility of hotspot mapping for predicting spatial patterns of crime", Security Journal
  21, 4-28). With exact pro-rata selection the area share equals ``fraction``.
* PEI, predictive efficiency index: hits / the most hits any selection of the same area could
  have had (Hunt 2016, "Do crime hot spots move? Exploring the effects of the modifiable areal
  unit problem and modifiable temporal unit problem on crime hot spot stability", PhD thesis,
  American University). The best selection is a fractional knapsack: areas by observed density.
* PEI*: PAI / PAI*, where PAI* is the PAI of the *smallest* area that captures those most
  possible hits (Joshi, Curtis-Ham, D'Ath & Searle 2021, "Considerations for developing
  predictive spatial models of crime and new methods for measuring their accuracy", ISPRS Int.
  J. Geo-Inf. 10(9), 597). It differs from PEI only when fewer areas saw incidents than the
  selection holds: then a perfect forecast would not need the whole area, and PEI would wrongly
  reward a forecast that fills the rest with anything.
* Poisson log-likelihood of the observed counts under the forecast expected counts.
* top-area stability: (area-weighted, fuzzy) Jaccard index of two selections.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import gammaln

from vigil.errors import VigilError

if TYPE_CHECKING:
    from vigil.forecast.surface import RiskSurface

#: Fractions of the clipped area at which coverage metrics are reported.
FRACTIONS: tuple[float, ...] = (0.005, 0.01, 0.02, 0.05, 0.10)

#: Smallest expected count used in the log-likelihood: a zero forecast where something happened
#: would otherwise give -inf and hide every other difference between models.
RISK_FLOOR = 1e-9


#: Relative difference below which two risks (or densities) count as a tie: polygon areas
#: from shapely carry errors of about 1e-8 at British National Grid coordinates.
TIE_RTOL = 1e-6


class MetricInputError(VigilError):
    """Arrays given to a metric do not line up or hold impossible values."""


def _check(
    risk: np.ndarray | Sequence[float],
    observed: np.ndarray | Sequence[float],
    area_m2: np.ndarray | Sequence[float] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r = np.asarray(risk, dtype=float)
    o = np.asarray(observed, dtype=float)
    a = np.ones_like(r) if area_m2 is None else np.asarray(area_m2, dtype=float)
    if r.ndim != 1 or o.shape != r.shape or a.shape != r.shape:
        raise MetricInputError(
            f"risk, observed and area_m2 must be 1-d arrays of one length; got shapes "
            f"{r.shape}, {o.shape}, {a.shape}"
        )
    for name, arr in (("risk", r), ("observed", o), ("area_m2", a)):
        bad = ~np.isfinite(arr) | (arr < 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise MetricInputError(
                f"{name} must be finite and non-negative; area index {i} holds {arr[i]!r}"
            )
    if r.size and a.sum() <= 0:
        raise MetricInputError("area_m2 sums to zero: there is no area to select from")
    return r, o, a


def _check_fraction(fraction: float) -> float:
    f = float(fraction)
    if not 0.0 < f <= 1.0:
        raise MetricInputError(f"fraction must be in (0, 1], got {fraction!r}")
    return f


class _Ranked:
    """Areas ranked by a key, with equal keys grouped into blocks: sort once, select often.

    Taking ``target`` m^2 in decreasing key order takes whole blocks until the target is
    reached and the straddling block pro rata; every fraction and every metric of one forecast
    reuses the one sort.
    """

    def __init__(self, key: np.ndarray, area: np.ndarray) -> None:
        n = key.size
        self.n = n
        self.order = np.argsort(-key, kind="stable")
        ks = key[self.order]
        # keys equal to within rounding (relative TIE_RTOL) are ties: a sum over cells in a
        # different order must not decide which of two equal areas comes first
        step = ks[:-1] - ks[1:]
        changes = step > TIE_RTOL * np.abs(ks[:-1])
        self.starts = np.flatnonzero(np.r_[True, changes]) if n else np.zeros(0, int)
        self.block_area = np.add.reduceat(area[self.order], self.starts) if n else np.zeros(0)
        self.cum_before = np.concatenate(([0.0], np.cumsum(self.block_area)[:-1]))
        self.cum_before = self.cum_before[: self.starts.size]  # empty when there are no areas

    def shares(self, target: float) -> np.ndarray:
        """Share of each block taken."""
        taken = np.clip(target - self.cum_before, 0.0, self.block_area)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(self.block_area > 0, taken / self.block_area, 0.0)
        # a block of zero area before the target is reached counts as fully taken
        return np.where((self.block_area == 0) & (self.cum_before < target), 1.0, share)

    def weights(self, target: float) -> np.ndarray:
        """Share of each area taken, in the areas' own order."""
        out = np.zeros(self.n)
        if self.n == 0 or target <= 0:
            return out
        sizes = np.diff(np.r_[self.starts, self.n])
        out[self.order] = np.repeat(self.shares(target), sizes)
        return out

    def block_sums(self, values: np.ndarray) -> np.ndarray:
        if self.n == 0:
            return np.zeros(0)
        return np.add.reduceat(values[self.order], self.starts)

    def captured(self, block_values: np.ndarray, target: float) -> float:
        """Sum of the values (given as :meth:`block_sums`) inside the selection."""
        if self.n == 0 or target <= 0:
            return 0.0
        return float((self.shares(target) * block_values).sum())


def _prorata_take(order_key: np.ndarray, area: np.ndarray, target: float) -> np.ndarray:
    """Weight in [0, 1] of each area when taking ``target`` m^2 in decreasing ``order_key``."""
    return _Ranked(order_key, area).weights(target)


def _hits(order_key: np.ndarray, observed: np.ndarray, area: np.ndarray, fraction: float) -> Any:
    """Incidents inside the top ``fraction`` of the area taken in decreasing ``order_key``."""
    return (_prorata_take(order_key, area, fraction * area.sum()) * observed).sum()


def _rank_key(risk: np.ndarray, area: np.ndarray, by_density: bool) -> np.ndarray:
    """What areas are ranked by: risk, or risk per m^2 when areas differ in size by design.

    Grid cells share one size, so risk is the natural key (and edge cells are not promoted
    for being mostly outside the boundary). Polygons such as wards differ tenfold in size:
    ranking them by risk would just pick the biggest, so they are ranked by risk density,
    which is what maximises the hits an area budget can buy.
    """
    return _density(risk, area) if by_density else risk


def _density(observed: np.ndarray, area: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(area > 0, observed / area, np.where(observed > 0, np.inf, 0.0))


def selection_weights(
    risk: np.ndarray | Sequence[float],
    area_m2: np.ndarray | Sequence[float],
    fraction: float,
) -> np.ndarray:
    """Share of each area inside the top ``fraction`` of the clipped area, ranked by risk."""
    r, _, a = _check(risk, np.zeros(len(risk)), area_m2)
    f = _check_fraction(fraction)
    return _prorata_take(r, a, f * a.sum())


def hit_rate(
    risk: np.ndarray | Sequence[float],
    observed: np.ndarray | Sequence[float],
    area_m2: np.ndarray | Sequence[float],
    fraction: float,
) -> float:
    """Share of observed incidents in the top ``fraction`` of the area; NaN if none occurred."""
    r, o, a = _check(risk, observed, area_m2)
    f = _check_fraction(fraction)
    total = o.sum()
    if total <= 0:
        return float("nan")
    return float(_hits(r, o, a, f) / total)


def pai(
    risk: np.ndarray | Sequence[float],
    observed: np.ndarray | Sequence[float],
    area_m2: np.ndarray | Sequence[float],
    fraction: float,
) -> float:
    """Predictive accuracy index: hit rate divided by the area share selected (``fraction``)."""
    return hit_rate(risk, observed, area_m2, fraction) / _check_fraction(fraction)


def max_hits(
    observed: np.ndarray | Sequence[float], area_m2: np.ndarray | Sequence[float], fraction: float
) -> float:
    """Most incidents any selection of ``fraction`` of the area could hold (perfect hindsight)."""
    _, o, a = _check(np.zeros(len(observed)), observed, area_m2)
    f = _check_fraction(fraction)
    # zero-count areas tie at density 0 and add nothing, so tie handling cannot change the sum
    return float(_hits(_density(o, a), o, a, f))


def pei(
    risk: np.ndarray | Sequence[float],
    observed: np.ndarray | Sequence[float],
    area_m2: np.ndarray | Sequence[float],
    fraction: float,
) -> float:
    """Hunt's (2016) PEI: hits over the most hits possible in the same area. NaN if no hits."""
    r, o, a = _check(risk, observed, area_m2)
    best = max_hits(o, a, fraction)
    if best <= 0:
        return float("nan")
    return float(_hits(r, o, a, _check_fraction(fraction)) / best)


def pei_star(
    risk: np.ndarray | Sequence[float],
    observed: np.ndarray | Sequence[float],
    area_m2: np.ndarray | Sequence[float],
    fraction: float,
) -> float:
    """Joshi et al.'s (2021) PEI*: PAI over the PAI of the smallest area holding the most hits.

    PAI* = (n*/N) / (a*/A): n* = :func:`max_hits` at this fraction; a* the smallest area that
    holds n* incidents, which is the whole selected area unless every area with incidents fits
    inside it, in which case it is just the area of those areas.
    """
    r, o, a = _check(risk, observed, area_m2)
    f = _check_fraction(fraction)
    total_n, total_a = o.sum(), a.sum()
    if total_n <= 0:
        return float("nan")
    target = f * total_a
    positive_area = float(a[o > 0].sum())
    a_star = min(target, positive_area)
    n_star = max_hits(o, a, f)
    if a_star <= 0 or n_star <= 0:
        return float("nan")
    pai_star = (n_star / total_n) / (a_star / total_a)
    pai_value = (_hits(r, o, a, f) / total_n) / f
    return float(pai_value / pai_star)


def poisson_log_likelihood(
    risk: np.ndarray | Sequence[float],
    observed: np.ndarray | Sequence[float],
    floor: float = RISK_FLOOR,
) -> float:
    """Sum over areas of log P(observed | Poisson(risk)), risk floored at ``floor``.

    Observed counts may be fractional only in the sense of gamma(k+1); they are counts here.
    """
    r, o, _ = _check(risk, observed)
    lam = np.maximum(r, floor)
    return float((o * np.log(lam) - lam - gammaln(o + 1.0)).sum())


def top_area_stability(
    surface_a: RiskSurface,
    surface_b: RiskSurface,
    fraction: float,
) -> float:
    """Area-weighted Jaccard index of the top ``fraction`` of two surfaces over the same areas.

    Selections are fuzzy (pro-rata boundary and tie blocks), so the index is
    sum(min(w_a, w_b) * area) / sum(max(w_a, w_b) * area); for crisp selections it is the
    ordinary Jaccard index of the selected land. 1 means the same places both weeks.
    """
    ids_a = np.asarray(surface_a.area_id).astype(str)
    ids_b = np.asarray(surface_b.area_id).astype(str)
    if ids_a.shape != ids_b.shape or not np.array_equal(np.sort(ids_a), np.sort(ids_b)):
        raise MetricInputError(
            "top_area_stability needs two surfaces over the same areas "
            f"({surface_a.model} has {ids_a.size}, {surface_b.model} has {ids_b.size})"
        )
    pos_b = {aid: i for i, aid in enumerate(ids_b)}
    idx = np.fromiter((pos_b[aid] for aid in ids_a), dtype=np.int64, count=ids_a.size)
    risk_b = np.asarray(surface_b.risk, float)[idx]
    return selection_jaccard(surface_a.risk, risk_b, _area_of(surface_a), fraction)


def selection_jaccard(
    risk_a: np.ndarray | Sequence[float],
    risk_b: np.ndarray | Sequence[float],
    area_m2: np.ndarray | Sequence[float],
    fraction: float,
) -> float:
    """Area-weighted Jaccard index of the top ``fraction`` selections of two risk arrays."""
    wa = selection_weights(risk_a, area_m2, fraction)
    wb = selection_weights(risk_b, area_m2, fraction)
    area = np.asarray(area_m2, float)
    den = (np.maximum(wa, wb) * area).sum()
    return float((np.minimum(wa, wb) * area).sum() / den) if den > 0 else float("nan")


def _area_of(surface: RiskSurface) -> np.ndarray:
    if surface.area_m2 is None:
        raise MetricInputError(
            f"RiskSurface from model {surface.model!r} has no area_m2 (no grid, no polygons): "
            "area-normalised metrics need the land area of each area"
        )
    return np.asarray(surface.area_m2, dtype=float)


def score(
    risk: np.ndarray | Sequence[float],
    observed: np.ndarray | Sequence[float],
    area_m2: np.ndarray | Sequence[float],
    fractions: Iterable[float] = FRACTIONS,
    by_density: bool = False,
) -> dict[str, float]:
    """Every metric for one forecast window, as a flat dict (keys like ``hit_rate@0.01``).

    Same definitions as the single functions above, computed from one sort of the forecast
    and one of the observed densities. ``by_density`` ranks areas by risk per m^2 (for
    polygons of unequal size; see :func:`_rank_key`).
    """
    r, o, a = _check(risk, observed, area_m2)
    total_n, total_a = float(o.sum()), float(a.sum())
    out: dict[str, float] = {
        "observed": total_n,
        "expected": float(r.sum()),
        "log_likelihood": poisson_log_likelihood(r, o),
    }
    ranked, best = _Ranked(_rank_key(r, a, by_density), a), _Ranked(_density(o, a), a)
    hits_blocks, best_blocks = ranked.block_sums(o), best.block_sums(o)
    positive_area = float(a[o > 0].sum())
    nan = float("nan")
    for f in fractions:
        f = _check_fraction(f)
        target = f * total_a
        hits = ranked.captured(hits_blocks, target)
        n_star = best.captured(best_blocks, target)
        a_star = min(target, positive_area)
        hr = hits / total_n if total_n > 0 else nan
        out[f"hit_rate@{f:g}"] = hr
        out[f"pai@{f:g}"] = hr / f
        out[f"pei@{f:g}"] = hits / n_star if n_star > 0 else nan
        pai_star = (n_star / total_n) / (a_star / total_a) if n_star > 0 and a_star > 0 else nan
        out[f"pei_star@{f:g}"] = (hr / f) / pai_star if n_star > 0 and a_star > 0 else nan
    return out


def hit_rate_curve(
    risk: np.ndarray | Sequence[float],
    observed: np.ndarray | Sequence[float],
    area_m2: np.ndarray | Sequence[float],
    fractions: Iterable[float],
    by_density: bool = False,
) -> np.ndarray:
    """Hit rate at each of ``fractions`` (one sort): the hit-rate-vs-area curve."""
    r, o, a = _check(risk, observed, area_m2)
    total = o.sum()
    fr = [_check_fraction(f) for f in fractions]
    if total <= 0:
        return np.full(len(fr), np.nan)
    ranked = _Ranked(_rank_key(r, a, by_density), a)
    blocks = ranked.block_sums(o)
    return np.array([ranked.captured(blocks, f * a.sum()) / total for f in fr])


def selection_jaccards(
    risk_a: np.ndarray | Sequence[float],
    risk_b: np.ndarray | Sequence[float],
    area_m2: np.ndarray | Sequence[float],
    fractions: Iterable[float],
    by_density: bool = False,
) -> list[float]:
    """:func:`selection_jaccard` at each of ``fractions``, sorting each forecast once."""
    ra, _, a = _check(risk_a, np.zeros(len(risk_a)), area_m2)
    rb, _, _ = _check(risk_b, np.zeros(len(risk_b)), area_m2)
    xa = _Ranked(_rank_key(ra, a, by_density), a)
    xb = _Ranked(_rank_key(rb, a, by_density), a)
    out = []
    for f in fractions:
        target = _check_fraction(f) * a.sum()
        wa, wb = xa.weights(target), xb.weights(target)
        den = (np.maximum(wa, wb) * a).sum()
        out.append(float((np.minimum(wa, wb) * a).sum() / den) if den > 0 else float("nan"))
    return out


def score_surface(
    surface: RiskSurface,
    observed: np.ndarray | Sequence[float],
    fractions: Iterable[float] = FRACTIONS,
) -> dict[str, float]:
    """:func:`score` for a RiskSurface, using its clipped areas."""
    return score(surface.risk, observed, _area_of(surface), fractions)


#: Bin edges of an area's expected count in one window, for the reliability table: from the
#: quietest cells (a thousandth of an incident) to the busiest (several).
RELIABILITY_EDGES: tuple[float, ...] = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, np.inf)


def reliability(
    risk: np.ndarray | Sequence[float],
    observed: np.ndarray | Sequence[float],
    edges: Sequence[float] = RELIABILITY_EDGES,
) -> dict[str, np.ndarray]:
    """Reliability (calibration) table of one window: areas binned by their expected count,
    with per bin the number of areas, the expected and the observed incidents. A calibrated
    forecast has observed close to expected in every bin; summed over windows this is the
    reliability diagram. Bins are half-open, ``[lo, hi)``."""
    r, o, _ = _check(risk, observed)
    e = np.asarray(edges, dtype=float)
    if e.ndim != 1 or e.size < 2 or np.any(np.diff(e) <= 0):
        raise MetricInputError(f"edges must be increasing; got {list(e)}")
    b = np.clip(np.searchsorted(e, r, side="right") - 1, 0, e.size - 2)
    k = e.size - 1
    return {
        "lo": e[:-1],
        "hi": e[1:],
        "n": np.bincount(b, minlength=k).astype(float),
        "expected": np.bincount(b, weights=r, minlength=k),
        "observed": np.bincount(b, weights=o, minlength=k),
    }
