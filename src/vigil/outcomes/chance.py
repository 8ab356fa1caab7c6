"""Is a change in a count beyond chance? Intervals and tests for the changes reports print.

"Up 12 %" on about 130 homicides is well within what chance alone produces; "+500 %" on a
borough's 1 -> 6 says nothing at all. Every change Vigil prints (year on year, same months a
year earlier, a borough against the rest of London, before against after) goes through this
module, which gives it a 95 % interval, a p-value, the method used and a plain sentence.

Methods, chosen by what the data support:

* **exact conditional binomial** (two Poisson counts, no extra-Poisson variation): given the
  total ``n = a + b``, ``a`` is Binomial(``n``, ``e_a / (e_a + e_b)``) under "no change", so the
  p-value is the exact binomial test and the interval for the rate ratio is the Clopper-Pearson
  interval for that proportion, mapped to the ratio. Checked against scipy and statsmodels
  (``test_poisson_2indep(method="exact-cond")``) in tests/outcomes/test_chance.py.
* **quasi-Poisson** when the series is over-dispersed (its usual year-to-year change is larger
  than Poisson counts would show): the dispersion ``phi`` is estimated from the data. For a
  monthly series it is the Pearson chi-square over residual df of a Poisson GLM with year and
  month-of-year effects (:func:`dispersion_year_month`); for a yearly-only series (homicide
  victims) it is taken from the series' usual change between consecutive years
  (:func:`dispersion_from_history`). The log rate ratio's variance is ``phi * (1/a + 1/b)``
  (a Wald interval); ``phi`` is never taken below 1.

The small-count rule is stated once, here: when either count is below :data:`SMALL_COUNT`, the
percentage change is not shown (``pct`` is None) and the sentence says why.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

#: Below this many in either period, the percentage change is suppressed: with fewer than ten
#: events a Poisson count is uncertain by more than +/- 60 %, so "+500 %" means nothing.
SMALL_COUNT = 10
Z95 = 1.959963984540054
BEYOND = "a change beyond chance"
WITHIN = "within normal variation"
TOO_FEW = "too few to tell"


@dataclass(frozen=True)
class Change:
    """A change between two counts with its 95 % interval and what it means."""

    current: int
    previous: int
    #: rate ratio current / previous, per unit of exposure (None when previous is 0)
    rate_ratio: float | None
    #: change in % (None when suppressed by the small-count rule or not estimable)
    pct: float | None
    ci_low_pct: float | None
    ci_high_pct: float | None
    p_value: float | None
    method: str
    dispersion: float
    #: "a change beyond chance", "within normal variation" or "too few to tell"
    verdict: str
    sentence: str

    @property
    def small(self) -> bool:
        return self.verdict == TOO_FEW

    @property
    def beyond_chance(self) -> bool:
        return self.verdict == BEYOND

    def covers_pct(self, pct: float) -> bool:
        """Whether the interval contains a change of ``pct`` % (False when there is none)."""
        if self.ci_low_pct is None or self.ci_high_pct is None:
            return False
        return self.ci_low_pct <= pct <= self.ci_high_pct

    def short(self) -> str:
        """``+10.9% (95% -13% to +40%), within normal variation`` for a table cell."""
        if self.pct is None:
            return self.sentence
        return (
            f"{self.pct:+.1f}% (95% {_p(self.ci_low_pct)} to {_p(self.ci_high_pct)}), "
            f"{self.verdict}"
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["short"] = self.short()
        return d


def _p(v: float | None) -> str:
    if v is None:
        return "?"
    if math.isinf(v):
        return "+inf%"
    if round(v) == 0:
        return "0%"
    return f"{v:+.0f}%"


def exact_rate_ratio_interval(
    a: int, b: int, exposure_a: float = 1.0, exposure_b: float = 1.0, level: float = 0.95
) -> tuple[float, float]:
    """Exact (conditional, Clopper-Pearson) interval for the rate ratio of two Poisson counts."""
    from scipy import stats

    n = a + b
    if n == 0:
        return 0.0, math.inf
    alpha = 1.0 - level
    lo_p = 0.0 if a == 0 else float(stats.beta.ppf(alpha / 2, a, b + 1))
    hi_p = 1.0 if b == 0 else float(stats.beta.ppf(1 - alpha / 2, a + 1, b))
    scale = exposure_b / exposure_a

    def ratio(p: float) -> float:
        return math.inf if p >= 1.0 else p / (1.0 - p) * scale

    return ratio(lo_p), ratio(hi_p)


def exact_p_value(a: int, b: int, exposure_a: float = 1.0, exposure_b: float = 1.0) -> float:
    """Two-sided exact conditional test of equal rates (binomial test on ``a`` of ``a + b``)."""
    from scipy import stats

    n = a + b
    if n == 0:
        return 1.0
    p0 = exposure_a / (exposure_a + exposure_b)
    return float(stats.binomtest(a, n, p0).pvalue)


def compare_counts(
    current: int,
    previous: int,
    *,
    exposure_current: float = 1.0,
    exposure_previous: float = 1.0,
    dispersion: float = 1.0,
    small: int = SMALL_COUNT,
    what: str = "",
) -> Change:
    """The change from ``previous`` to ``current`` with a 95 % interval and a verdict.

    ``exposure_*`` are the lengths of the two periods (months, days, areas) when they differ.
    ``dispersion`` (from :func:`dispersion_from_history`) above 1 switches to quasi-Poisson.
    """
    a, b = int(current), int(previous)
    if a < 0 or b < 0:
        raise ValueError(f"counts must be non-negative, got {a} and {b}")
    phi = max(1.0, float(dispersion)) if math.isfinite(dispersion) else 1.0
    scale = exposure_previous / exposure_current
    rr = None if b == 0 else a / b * scale
    label = f"{what}: " if what else ""
    if min(a, b) < small:
        return Change(
            a,
            b,
            rr,
            None,
            None,
            None,
            None,
            f"not tested (fewer than {small} in a period)",
            phi,
            TOO_FEW,
            f"{label}{b} then {a}: fewer than {small} in a period, too few to tell a change "
            "from chance (change not shown).",
        )
    if phi > 1.0:
        from scipy import stats

        assert rr is not None
        se = math.sqrt(phi * (1.0 / a + 1.0 / b))
        lo, hi = rr * math.exp(-Z95 * se), rr * math.exp(Z95 * se)
        pval = float(2 * stats.norm.sf(abs(math.log(rr)) / se))
        method = f"quasi-Poisson, dispersion {phi:.2f} estimated from the data"
    else:
        lo, hi = exact_rate_ratio_interval(a, b, exposure_current, exposure_previous)
        pval = exact_p_value(a, b, exposure_current, exposure_previous)
        method = "exact conditional binomial (Poisson counts)"
    assert rr is not None
    verdict = BEYOND if (hi < 1.0 or lo > 1.0) else WITHIN
    pct = 100.0 * (rr - 1.0)
    lo_pct, hi_pct = 100.0 * (lo - 1.0), (math.inf if math.isinf(hi) else 100.0 * (hi - 1.0))
    sentence = (
        f"{label}{b:,} then {a:,}, {pct:+.1f}% (95% interval {_p(lo_pct)} to {_p(hi_pct)}): "
        f"{verdict}."
    )
    return Change(a, b, rr, pct, lo_pct, hi_pct, pval, method, phi, verdict, sentence)


def compare_with_reference(
    area_current: int,
    area_previous: int,
    ref_current: int,
    ref_previous: int,
    *,
    dispersion: float = 1.0,
    small: int = SMALL_COUNT,
    what: str = "",
) -> Change:
    """An area's change against a reference's change (a borough against the rest of London).

    The ratio of rate ratios ``(a1/a0) / (r1/r0)`` with variance
    ``phi * (1/a1 + 1/a0 + 1/r1 + 1/r0)`` on the log scale; 1 means the area moved with the
    reference. ``pct`` is how much more (or less) the area changed than the reference.
    """
    a1, a0, r1, r0 = (int(v) for v in (area_current, area_previous, ref_current, ref_previous))
    phi = max(1.0, float(dispersion)) if math.isfinite(dispersion) else 1.0
    label = f"{what}: " if what else ""
    if min(a1, a0) < small or min(r1, r0) < small:
        return Change(
            a1,
            a0,
            None,
            None,
            None,
            None,
            None,
            f"not tested (fewer than {small} in a period)",
            phi,
            TOO_FEW,
            f"{label}fewer than {small} in a period, too few to compare with the reference.",
        )
    from scipy import stats

    ror = (a1 / a0) / (r1 / r0)
    se = math.sqrt(phi * (1 / a1 + 1 / a0 + 1 / r1 + 1 / r0))
    lo, hi = ror * math.exp(-Z95 * se), ror * math.exp(Z95 * se)
    pval = float(2 * stats.norm.sf(abs(math.log(ror)) / se))
    verdict = BEYOND if (hi < 1.0 or lo > 1.0) else WITHIN
    pct = 100.0 * (ror - 1.0)
    sentence = (
        f"{label}changed {pct:+.1f}% relative to the reference (95% interval "
        f"{_p(100 * (lo - 1))} to {_p(100 * (hi - 1))}): {verdict}."
    )
    return Change(
        a1,
        a0,
        ror,
        pct,
        100.0 * (lo - 1.0),
        100.0 * (hi - 1.0),
        pval,
        "ratio of rate ratios, "
        + (f"quasi-Poisson (dispersion {phi:.2f})" if phi > 1 else "Poisson"),
        phi,
        verdict,
        sentence,
    )


def dispersion_from_history(counts: ArrayLike, *, lag: int = 1) -> float:
    """Extra-Poisson variation of a count series, from its own history of changes (at least 1).

    Under "no change", ``(a - b) / sqrt(a + b)`` is about N(0, ``phi``) for two counts ``a``,
    ``b`` of a quasi-Poisson series, so ``(a - b)**2 / (a + b)`` estimates ``phi``. Each pair of
    counts ``lag`` apart (1 for consecutive years, 12 for the same month a year earlier) gives
    one such value; the estimate is their median divided by the median of chi-square(1)
    (0.4549), so the few real changes in a history do not inflate what counts as normal
    variation. Fewer than :data:`MIN_PAIRS` pairs: 1.0 (the exact Poisson method).
    """
    y = np.asarray(counts, dtype=float)
    if len(y) <= lag:
        return 1.0
    a, b = y[lag:], y[:-lag]
    ok = np.isfinite(a) & np.isfinite(b) & ((a + b) > 0)
    if int(ok.sum()) < MIN_PAIRS:
        return 1.0
    z2 = (a[ok] - b[ok]) ** 2 / (a[ok] + b[ok])
    return max(1.0, float(np.median(z2) / CHI2_1_MEDIAN))


#: median of chi-square with one degree of freedom (scipy.stats.chi2.median(1))
CHI2_1_MEDIAN = 0.454936423119572
#: Fewest pairs of counts from which a dispersion is estimated.
MIN_PAIRS = 5


def dispersion_year_month(months: Sequence[Any], counts: ArrayLike) -> float:
    """Quasi-Poisson dispersion of a monthly series: Pearson chi-square over residual degrees
    of freedom of a Poisson GLM with one effect per calendar year and one per month of the
    year (at least 1).

    The year effects absorb the level each year (what a year-on-year comparison tests), the
    month effects the season, so ``phi`` measures how much the months scatter beyond Poisson
    around them. It is the dispersion of the year totals' comparison under quasi-Poisson, and
    of a comparison of the same months a year apart. Too few months (under 3 residual degrees
    of freedom): 1.0. Agrees with statsmodels' ``GLM(..., Poisson()).pearson_chi2 / df_resid``
    (tests/outcomes/test_chance.py).
    """
    import pandas as pd

    idx = pd.DatetimeIndex(pd.to_datetime(list(months)))
    y = np.asarray(counts, dtype=float)
    ok = np.isfinite(y)
    idx, y = idx[ok], y[ok]
    if len(y) == 0 or y.sum() <= 0:
        return 1.0
    cols = [np.ones(len(y))]
    for values in (idx.year, idx.month):
        levels = sorted(set(values.tolist()))
        cols += [(values == lv).astype(float) for lv in levels[1:]]
    x = np.column_stack(cols)
    df = len(y) - x.shape[1]
    if df < 3:
        return 1.0
    mu = _poisson_fit(x, y)
    pearson = float(np.sum((y - mu) ** 2 / mu))
    return max(1.0, pearson / df)


def _poisson_fit(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Fitted means of a Poisson log-linear model by IRLS (a dense design of a few dozen
    columns: months by year and month of year)."""
    mu = (y + y.mean()) / 2.0 + 0.1
    eta = np.log(mu)
    for _ in range(100):
        z = eta + (y - mu) / mu
        xtw = x.T * mu
        coef = np.linalg.lstsq(xtw @ x, xtw @ z, rcond=None)[0]
        eta_new = x @ coef
        done = float(np.max(np.abs(eta_new - eta))) < 1e-10
        eta = eta_new
        mu = np.exp(eta)
        if done:
            break
    return mu
