"""Calibration: does the evaluation hold its level on this force's own data?

An interval that claims 95 % must exclude "no change" in about 5 % of deployments that did
nothing, and must cover a real effect. Whether it does depends on the data (dispersion,
bursts, seasons, what the forecast selects), so it is measured on the force's own incidents,
the way issue 17 measured the old evaluation:

* placebo deployments are placed where the forecast points (:func:`~vigil.outcomes.simulate.
  plan_season`: the top-risk areas, spread apart, one forecast per deployment period, fitted
  only on what came before), nothing is injected, and the evaluation in use
  (:mod:`~vigil.outcomes.placebo`) is run on each: every verdict other than "no detectable
  effect" is a false alarm;
* then 20 % and 40 % of the deployed area's incidents during/after the window are removed at
  random (binomial thinning of its counts, which is what removing each incident with that
  probability is): the share of intervals covering 0.8 / 0.6 is the coverage, the share
  called "reduction" the power;
* pooled seasons draw one placebo deployment from each of several deployment periods;
* the displacement test is run on each placebo's surroundings: any verdict other than
  "no evidence of displacement" is a false alarm.

Everything reuses one count cube and vectorised matching, so hundreds of placebos take seconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from vigil.outcomes import placebo as pl
from vigil.outcomes.did import OutcomeInputError, Verdict
from vigil.outcomes.simulate import plan_season

#: Injected reductions whose coverage and power are measured.
FRACTIONS = (0.2, 0.4)


@dataclass(frozen=True)
class Placement:
    """One placebo deployment: its window on the cube and the forecast that placed it."""

    window: pl.Window
    risk: np.ndarray
    #: which deployment period (forecast) it came from: a season takes one from each
    period: int


def place(
    incidents: pd.DataFrame,
    grid: Any,
    periods: pd.PeriodIndex,
    starts: Sequence[str],
    *,
    per_start: int,
    fit: Callable[[pd.DataFrame, pd.Timestamp, Any], Any],
    before_periods: int | None = None,
    after_periods: int = 1,
    min_separation_m: float = 2500.0,
) -> list[Placement]:
    """``per_start`` placebo deployments in each month of ``starts`` ("2022-04"), placed by the
    season simulator on a forecast fitted (``fit(incidents, start, grid) -> RiskSurface``) on
    incidents before the month. Windows are the simulator's evening patrols; evaluated on
    ``periods`` (the cube's), with ``before_periods`` before (None: from the cube's start)."""
    out: list[Placement] = []
    first = periods[0]
    for k, month in enumerate(starts):
        start = pd.Timestamp(f"{month}-01")
        surface = fit(incidents[incidents["time"] < start], start, grid)
        ids = {a: i for i, a in enumerate(np.asarray(surface.area_id).astype(str))}
        risk = np.asarray(surface.risk, float)
        for p in plan_season(surface, [month] * per_start, min_separation_m=min_separation_m):
            p0 = pd.Period(p.start, freq=first.freqstr).ordinal - first.ordinal
            p1 = pd.Period(p.end - pd.Timedelta(seconds=1), freq=first.freqstr).ordinal
            p1 = p1 - first.ordinal + after_periods + 1
            b0 = 0 if before_periods is None else p0 - before_periods
            if b0 < 0 or p1 > len(periods):
                raise OutcomeInputError(
                    f"placebo deployment in {month} needs periods outside the data "
                    f"({periods[0]} to {periods[-1]})"
                )
            w = pl.Window(p.label, (ids[p.area_id],), (b0, p0), (p0, p1))
            out.append(Placement(w, risk, k))
    return out


@dataclass
class Rates:
    """Verdict rates of one setting (single deployments or pooled seasons)."""

    n: int
    too_few: int
    false_alarm: float
    false_alarm_ci: tuple[float, float]
    coverage: dict[str, float] = field(default_factory=dict)
    power: dict[str, float] = field(default_factory=dict)
    displacement_false_alarm: float | None = None
    displacement_ci: tuple[float, float] | None = None
    displacement_n: int = 0
    displacement_mean_log_rr: float | None = None
    confirming_false_alarm: float | None = None
    mean_log_rr: float | None = None
    #: median stated minimum detectable reduction (placebo-based, fraction) and the share of
    #: placebos in which a cut of exactly that size was called a reduction (should be ~80 %)
    mde_median: float | None = None
    mde_power: float | None = None
    mde_n: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Calibration:
    """What a calibration run measured, and on what."""

    dataset: str
    method: str
    singles: Rates
    seasons: Rates
    season_size: int
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "method": self.method,
            "singles": self.singles.to_dict(),
            "seasons": self.seasons.to_dict(),
            "season_size": self.season_size,
            "settings": self.settings,
        }

    def lines(self) -> list[str]:
        """What `vigil report calibrate` prints."""
        out = [f"Calibration on {self.dataset}: {self.method}"]
        for name, r in (("single deployments", self.singles), (
            f"pooled seasons of {self.season_size}", self.seasons)):  # fmt: skip
            lo, hi = r.false_alarm_ci
            out.append(
                f"  {name}: {r.n} placebos ({r.too_few} too few to tell); false alarms "
                f"{100 * r.false_alarm:.1f}% (95% interval {100 * lo:.1f}-{100 * hi:.1f}%, "
                f"nominal 5%); mean log rate ratio {r.mean_log_rr or 0:+.3f}"
            )
            for key in r.coverage:
                out.append(
                    f"    {key} removed: interval covers the truth in "
                    f"{100 * r.coverage[key]:.1f}%, called a reduction in {100 * r.power[key]:.1f}%"
                )
            if r.displacement_n and r.displacement_ci is not None:
                dlo, dhi = r.displacement_ci
                dfa = r.displacement_false_alarm or 0.0
                out.append(
                    f"    displacement verdict false alarms {100 * dfa:.1f}%"
                    f" of {r.displacement_n} (95% interval {100 * dlo:.1f}-{100 * dhi:.1f}%); "
                    f"mean log rate ratio {r.displacement_mean_log_rr or 0:+.3f}"
                )
            if r.mde_power is not None:
                out.append(
                    "    stated minimum detectable reduction "
                    f"(median {100 * (r.mde_median or 0):.0f}%) removed: called a reduction in "
                    f"{100 * r.mde_power:.1f}% of {r.mde_n} "
                    f"(stated power {100 * pl.MDE_POWER:.0f}%)"
                )
            if r.confirming_false_alarm is not None:
                out.append(
                    "    confirming model (quasi-Poisson, SEs clustered by area) false alarms "
                    f"{100 * r.confirming_false_alarm:.1f}%"
                )
        return out


def clopper_pearson(k: int, n: int) -> tuple[float, float]:
    from scipy import stats

    if n == 0:
        return (0.0, 1.0)
    lo = 0.0 if k == 0 else float(stats.beta.ppf(0.025, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.ppf(0.975, k + 1, n - k))
    return lo, hi


def calibrate(
    cube: pl.CountCube,
    placements: Sequence[Placement],
    *,
    dataset: str,
    fractions: Sequence[float] = FRACTIONS,
    n_seasons: int = 200,
    season_size: int = 8,
    buffer_m: float = 600.0,
    exclusion_m: float = 1000.0,
    confirming: bool = False,
    seed: int = 0,
    min_separation_m: float = 2500.0,
) -> Calibration:
    """False alarms, coverage and power of the placebo test on ``placements`` (and on pooled
    seasons of ``season_size``, one placement from each of as many deployment periods)."""
    if not placements:
        raise OutcomeInputError("no placebo deployment to calibrate on")
    rng = np.random.default_rng(seed)
    ring = cube.ring_matrix(buffer_m)
    preps: list[pl.Prepared] = []
    rings: list[pl.RingPrepared] = []
    for p in placements:
        w = p.window
        excluded = cube.near(w.areas, max(exclusion_m, buffer_m))
        preps.append(pl.prepare(cube, w, excluded, risk=p.risk))
        rings.append(pl.prepare_ring(cube, w, excluded, ring, buffer_m=buffer_m, risk=p.risk))
    # thinned after counts: one draw per placebo per fraction, shared by singles and seasons
    thinned = {f: np.array([rng.binomial(q.after, 1 - f) for q in preps]) for f in fractions}

    def with_after(q: pl.Prepared, a: int) -> pl.Prepared:
        from dataclasses import replace

        return replace(q, after=int(a), stat=float(np.log((a + 0.5) / (q.before + 0.5))))

    # ---- single deployments
    singles_null = [pl.single_result(q) for q in preps]
    singles = _rates(
        singles_null,
        {
            f: [pl.single_result(with_after(q, a)) for q, a in zip(preps, thinned[f], strict=True)]
            for f in fractions
        },  # fmt: skip
        [pl.ring_result([r]) for r in rings],
    )
    _mde_power(singles, preps, rng, with_after)
    if confirming:
        singles.confirming_false_alarm = _confirming_rate(cube, placements, preps)
    # ---- pooled seasons: one placement from each of season_size deployment periods
    by_period: dict[int, list[int]] = {}
    for i, p in enumerate(placements):
        by_period.setdefault(p.period, []).append(i)
    keys = sorted(by_period)
    size = min(season_size, len(keys))
    picks = [
        _season(cube, placements, [by_period[k] for k in keys], size, min_separation_m, rng)
        for _ in range(n_seasons)
    ]
    seasons = _rates(
        [pl.season_result([preps[i] for i in s]) for s in picks],
        {
            f: [pl.season_result([with_after(preps[i], thinned[f][i]) for i in s]) for s in picks]
            for f in fractions
        },  # fmt: skip
        [pl.ring_result([rings[i] for i in s]) for s in picks],
    )
    return Calibration(
        dataset,
        METHOD,
        singles,
        seasons,
        size,
        {
            "placebos": len(placements),
            "seasons": n_seasons,
            "buffer_m": buffer_m,
            "exclusion_m": exclusion_m,
            "donors": pl.DONORS,
            "fractions": list(fractions),
        },
    )


#: The method in use, as the output and the docs state it.
METHOD = (
    "placebo-in-space rank test (primary): the deployed area's after/before log ratio against "
    f"{pl.DONORS} undeployed areas matched on before-period count, trend and forecast risk "
    "(bias-corrected), interval by test inversion; seasons against placebo seasons"
)


def _season(
    cube: pl.CountCube,
    placements: Sequence[Placement],
    by_period: Sequence[Sequence[int]],
    size: int,
    min_separation_m: float,
    rng: np.random.Generator,
) -> list[int]:
    """One placebo season: ``size`` deployment periods at random, one placement from each, no
    two within ``min_separation_m`` of each other (as the season simulator plans a real
    season: distinct areas; the same hot cell twice would be one deployment counted twice)."""
    for _ in range(100):
        chosen: list[int] = []
        for c in rng.choice(len(by_period), size=size, replace=False):
            options = [int(i) for i in by_period[c]]
            rng.shuffle(options)
            for i in options:
                a = placements[i].window.areas[0]
                if all(
                    np.hypot(cube.x[a] - cube.x[b], cube.y[a] - cube.y[b]) > min_separation_m
                    for b in (placements[j].window.areas[0] for j in chosen)
                ):
                    chosen.append(i)
                    break
        if len(chosen) == size:
            return chosen
    raise OutcomeInputError(
        f"could not draw a season of {size} placebo deployments {min_separation_m:.0f} m apart"
    )


def _rates(
    null: Sequence[Any], injected: dict[float, Sequence[Any]], rings: Sequence[pl.RingResult]
) -> Rates:
    est = [r for r in null if r.verdict is not Verdict.TOO_FEW]
    alarms = sum(r.verdict is not Verdict.NO_DETECTABLE_EFFECT for r in est)
    out = Rates(
        n=len(null),
        too_few=len(null) - len(est),
        false_alarm=alarms / len(est) if est else math.nan,
        false_alarm_ci=clopper_pearson(alarms, len(est)),
        mean_log_rr=float(np.mean([math.log(r.rate_ratio) for r in est])) if est else None,
    )
    for f, results in injected.items():
        kept = [r for r in results if r.verdict is not Verdict.TOO_FEW]
        key = f"{round(100 * f)}%"
        truth = 1 - f
        out.coverage[key] = (
            sum(r.ci_low <= truth <= r.ci_high for r in kept) / len(kept) if kept else math.nan
        )
        out.power[key] = (
            sum(r.verdict is Verdict.REDUCTION for r in kept) / len(kept) if kept else math.nan
        )
    d = displacement_rates(rings)
    out.displacement_n = d.n
    out.displacement_false_alarm = d.false_alarm
    out.displacement_ci = d.ci
    out.displacement_mean_log_rr = d.mean_log_rr
    return out


@dataclass(frozen=True)
class DisplacementRates:
    """How often the displacement test claimed displacement or diffusion where nothing moved."""

    n: int
    alarms: int
    false_alarm: float
    ci: tuple[float, float]
    mean_log_rr: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def displacement_rates(rings: Sequence[pl.RingResult]) -> DisplacementRates:
    """False alarms of placebo rings (those not "too few to tell"), with a Clopper-Pearson
    interval and the mean log rate ratio (bias)."""
    tested = [r for r in rings if r.verdict != pl.Displacement.TOO_FEW]
    alarms = sum(r.alarm for r in tested)
    return DisplacementRates(
        len(tested),
        alarms,
        alarms / len(tested) if tested else math.nan,
        clopper_pearson(alarms, len(tested)),
        float(np.mean([math.log(r.rate_ratio or 1.0) for r in tested])) if tested else None,
    )


def _mde_power(
    out: Rates, preps: Sequence[pl.Prepared], rng: np.random.Generator, with_after: Any
) -> None:
    """Remove each placebo's own stated minimum detectable reduction from its after count
    (binomial thinning) and record how often the test then calls a reduction."""
    mdes, called = [], 0
    for q in preps:
        m = pl.detectable_reduction(q)
        if m is None:
            continue
        mdes.append(m)
        thinned = with_after(q, int(rng.binomial(q.after, 1 - m)))
        called += pl.single_result(thinned).verdict is Verdict.REDUCTION
    out.mde_n = len(mdes)
    if mdes:
        out.mde_median = float(np.median(mdes))
        out.mde_power = called / len(mdes)


def _confirming_rate(
    cube: pl.CountCube, placements: Sequence[Placement], preps: Sequence[pl.Prepared]
) -> float:
    """False-alarm rate of the confirming model: quasi-Poisson with area and period effects and
    standard errors clustered by area, on each placebo and its matched donors."""
    from vigil.outcomes.did import estimate_did

    alarms = fitted = 0
    for p, q in zip(placements, preps, strict=True):
        if q.refusal:
            continue
        panel = donor_panel(cube, p.window, q.donors)
        res = estimate_did(panel, cluster=True)
        if res.verdict is Verdict.TOO_FEW:
            continue
        fitted += 1
        alarms += res.verdict is not Verdict.NO_DETECTABLE_EFFECT
    return alarms / fitted if fitted else math.nan


def donor_panel(cube: pl.CountCube, w: pl.Window, donors: np.ndarray) -> pd.DataFrame:
    """The count panel (``area_id, period, count, treated, post``) of a deployment and its
    matched donor units over the deployment's before and after periods."""
    b0, a1 = w.before[0], w.after[1]
    k = len(w.areas)
    g = cube.groups(k)
    treated = cube.counts[list(w.areas), b0:a1].sum(axis=0)
    donor = cube.counts[g[donors], b0:a1].sum(axis=1)  # (donors, periods)
    n_t = a1 - b0
    post = np.arange(b0, a1) >= w.after[0]
    rows = np.vstack([treated[None, :], donor])
    return pd.DataFrame(
        {
            "area_id": np.repeat(["deployed"] + [f"d{d}" for d in donors], n_t),
            "period": np.tile(np.arange(n_t), len(rows)),
            "count": rows.ravel(),
            "treated": np.repeat([True] + [False] * len(donors), n_t),
            "post": np.concatenate([post] + [np.zeros(n_t, dtype=bool)] * len(donors)),
        }
    )


#: Days before a daily-resolution deployment used as its "before" period, and days after its
#: window still counted as "after" (a four-week evaluation: a day of a cell holds too few).
DAILY_BEFORE = 182
DAILY_AFTER = 27


def calibrate_year(
    incidents: pd.DataFrame,
    grid: Any,
    year: int,
    *,
    dataset: str,
    resolution: str | None = None,
    model: str = "naive",
    per_start: int = 25,
    n_seasons: int = 200,
    season_size: int = 8,
    confirming: bool = False,
    seed: int = 0,
) -> Calibration:
    """Calibrate on ``year`` of ``incidents`` (victim-reported serious violence, projected to
    ``grid``'s CRS): the routine behind `vigil report calibrate` and benchmarks/bench_placebo.py.

    Month-only data: deployments in every month from April to November, the months from
    January as "before", the deployment month and the next as "after". Timed data (by day):
    deployments on the 10th of each month from January to November, 182 days before, the
    deployment days and 27 after. The forecast placing them is ``model`` fitted on the
    three months before each deployment month."""
    setup = placebo_year(
        incidents, grid, year, resolution=resolution, model=model, per_start=per_start
    )
    cal = calibrate(
        setup.cube, setup.placements, dataset=dataset, n_seasons=n_seasons,
        season_size=season_size, confirming=confirming, seed=seed, buffer_m=setup.buffer_m,
        exclusion_m=setup.exclusion_m,
    )  # fmt: skip
    cal.settings.update(setup.settings)
    return cal


@dataclass
class PlaceboYear:
    """The count cube and the placebo deployments of one calibration year, with the ring and
    exclusion widths the evaluation uses on that grid."""

    cube: pl.CountCube
    placements: list[Placement]
    buffer_m: float
    exclusion_m: float
    settings: dict[str, Any]


def placebo_year(
    incidents: pd.DataFrame,
    grid: Any,
    year: int,
    *,
    resolution: str | None = None,
    model: str = "naive",
    per_start: int = 25,
) -> PlaceboYear:
    """The placebo deployments of :func:`calibrate_year` (see there), without running them."""
    from vigil.forecast.registry import make_model
    from vigil.forecast.surface import RiskSurface
    from vigil.outcomes.controls import DEFAULT_EXCLUSION_M
    from vigil.outcomes.evaluation import DEFAULT_BUFFER_M, count_matrix, resolution_for

    res = resolution or resolution_for(incidents)
    y0 = pd.Timestamp(f"{year}-01-01")
    y1 = pd.Timestamp(f"{year + 1}-01-01")
    if res == "M":
        periods = pd.period_range(y0, y1 - pd.Timedelta(days=1), freq="M")
        starts = [f"{year}-{m:02d}" for m in range(4, 12)]
        before, after = None, 1
    else:
        periods = pd.period_range(y0 - pd.Timedelta(days=DAILY_BEFORE + 1), y1, freq="D")
        starts = [f"{year}-{m:02d}" for m in range(1, 12)]
        before, after = DAILY_BEFORE, DAILY_AFTER
    in_year = incidents[(incidents["time"] >= y0) & (incidents["time"] < y1)]
    if in_year.empty:
        raise OutcomeInputError(f"no incidents in {year} to calibrate on")
    window = "3M"

    def fit(past: pd.DataFrame, start: pd.Timestamp, g: Any) -> RiskSurface:
        m = make_model(model, window=window) if model == "naive" else make_model(model)
        return m.fit(past, start, g).predict(start, start + pd.Timedelta(days=1))

    surface0 = fit(incidents[incidents["time"] < y0 + pd.DateOffset(months=3)],
                   y0 + pd.DateOffset(months=3), grid)  # fmt: skip
    counts = count_matrix(incidents, surface0, periods)
    cube = pl.CountCube(counts, np.asarray(surface0.x, float), np.asarray(surface0.y, float))
    placements = place(
        incidents, grid, periods, starts, per_start=per_start, fit=fit,
        before_periods=before, after_periods=after,
    )  # fmt: skip
    # the surrounding ring must hold the neighbouring cells: at least 1.5 cells wide
    cell = float(getattr(grid, "cell", 0.0) or 0.0)
    buffer_m = max(DEFAULT_BUFFER_M, 1.5 * cell)
    settings = {"year": year, "resolution": res, "model": model, "per_start": per_start,
                "starts": starts, "cell_m": getattr(grid, "cell", None)}  # fmt: skip
    return PlaceboYear(cube, placements, buffer_m, max(DEFAULT_EXCLUSION_M, 2 * buffer_m), settings)


def single_rings(setup: PlaceboYear) -> list[pl.RingResult]:
    """The displacement test of every placebo deployment on its own (nothing injected)."""
    cube = setup.cube
    ring = cube.ring_matrix(setup.buffer_m)
    out = []
    for p in setup.placements:
        w = p.window
        excluded = cube.near(w.areas, max(setup.exclusion_m, setup.buffer_m))
        prep = pl.prepare_ring(cube, w, excluded, ring, buffer_m=setup.buffer_m, risk=p.risk)
        out.append(pl.ring_result([prep]))
    return out
