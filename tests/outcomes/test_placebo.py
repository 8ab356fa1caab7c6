"""The placebo-in-space evaluation (issue 17): does it hold its level on real data?

A smaller version of benchmarks/bench_placebo.py: about 40 placebo deployments placed by the
season simulator where the forecast points on London 2022 serious violence (see conftest), and
40 pooled seasons. A 5 % test's false alarms among n placebos are Binomial(n, 0.05); each rate
is asserted to be plausible under that (two-sided binomial test at the 1 % level), not equal to
a number. Coverage of injected reductions must be plausible for a 95 % interval the same way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from vigil.outcomes import placebo as pl
from vigil.outcomes.calibrate import calibrate_year
from vigil.outcomes.did import OutcomeInputError, Verdict
from vigil.outcomes.evaluation import DeploymentWindow, evaluate_deployments
from vigil.outcomes.flags import shock_flags

YEAR = {"study_start": pd.Timestamp("2022-01-01"), "study_end": pd.Timestamp("2023-01-01")}


def plausible(k: int, n: int, p: float) -> bool:
    """``k`` of ``n`` is not rejected as Binomial(n, p) at the 1 % level (two-sided)."""
    return stats.binomtest(k, n, p).pvalue > 0.01


@pytest.fixture(scope="module")
def calibration(london_sv, london_grid):
    return calibrate_year(
        london_sv, london_grid, 2022, dataset="met-street-2022", per_start=5, n_seasons=40
    )


def test_single_placebo_false_alarms_are_binomial_plausible(calibration):
    r = calibration.singles
    assert r.n == 40 and r.too_few < r.n
    n = r.n - r.too_few
    k = round(r.false_alarm * n)
    assert plausible(k, n, 0.05), (k, n)
    # the old quasi-Poisson interval over-rejected; issue 17 saw up to 13 %
    assert r.false_alarm < 0.2


def test_season_placebo_false_alarms_are_binomial_plausible(calibration):
    r = calibration.seasons
    n = r.n - r.too_few
    assert n == 40
    assert plausible(round(r.false_alarm * n), n, 0.05)


def test_injected_reductions_are_covered(calibration):
    for rates in (calibration.singles, calibration.seasons):
        n = rates.n - rates.too_few
        for key in ("20%", "40%"):
            covered = round(rates.coverage[key] * n)
            # a 95 % interval: coverage plausible for 0.95, and never below 90 % by much
            assert plausible(covered, n, 0.95) or covered / n > 0.95, (key, covered, n)
    # pooled seasons of 8 detect a 40 % cut most of the time
    assert calibration.seasons.power["40%"] > 0.5


def test_displacement_false_alarms_are_binomial_plausible(calibration):
    for rates in (calibration.singles, calibration.seasons):
        n = rates.displacement_n
        assert n >= 35
        assert plausible(round(rates.displacement_false_alarm * n), n, 0.05)


def test_stated_minimum_detectable_reduction_has_its_power(calibration):
    """Issue 17 follow-up: the Poisson MDE stated ~32 % for London's top cell while a 40 % cut
    was called in 22 % of placebos. The placebo-based MDE, removed from each placebo's after
    count, must be called a reduction about 80 % of the time (binomial-plausible at 1 %)."""
    r = calibration.singles
    assert r.mde_n >= 25 and r.mde_power is not None and r.mde_median is not None
    assert plausible(round(r.mde_power * r.mde_n), r.mde_n, pl.MDE_POWER), (r.mde_power, r.mde_n)
    # and it is larger than a 40 % cut for single London cells, which are rarely detected
    assert r.mde_median > 0.4 or r.power["40%"] > 0.5


def test_calibration_prints_method_and_rates(calibration):
    text = "\n".join(calibration.lines())
    assert "placebo-in-space" in text and "false alarms" in text and "40% removed" in text


def test_rank_interval_is_exact_under_exchangeability():
    """With K = 79 exchangeable donors the deployed unit is rejected when it is among the 2
    most extreme of 80 on either side: exactly 5 % of the time."""
    rng = np.random.default_rng(3)
    draws = rng.standard_t(3, size=(20000, 80))
    r = pl.rank_interval(draws[:, 0], draws[:, 1:])
    rejected = (r["low"] > 0) | (r["high"] < 0)
    assert abs(rejected.mean() - 0.05) < 0.006
    assert np.all(r["low"] <= r["estimate"]) and np.all(r["estimate"] <= r["high"])


def test_one_bursty_cell_does_not_decide_a_season(london_sv, march_surface):
    """Issue 17: one cell with a burst of records decided every pooled season containing it
    (33 of 33). Now the burst shows in that deployment's own estimate, the season's interval
    widens with its deployments' scatter, and leave-one-out is reported for each deployment."""
    from vigil.outcomes.simulate import plan_season

    plan = plan_season(march_surface, [f"2022-{m:02d}" for m in range(3, 12)])
    windows = [DeploymentWindow(p.label, (p.area_id,), p.start, p.end) for p in plan]
    burst_at = plan[4]
    extra = london_sv[london_sv["time"].dt.month == burst_at.start.month].head(1)
    burst = pd.concat([extra] * 400, ignore_index=True)
    burst["x"], burst["y"] = burst_at.x, burst_at.y
    ev = evaluate_deployments(pd.concat([london_sv, burst], ignore_index=True),
                              march_surface, windows, **YEAR)  # fmt: skip
    assert ev.per_deployment[burst_at.label].verdict is Verdict.INCREASE
    assert ev.verdict is Verdict.NO_DETECTABLE_EFFECT, ev.primary
    season = ev.primary
    assert isinstance(season, pl.SeasonResult) and len(season.leave_one_out) == len(windows)
    assert season.decisive == () or any("depends on a single" in f for f in ev.flags)


def test_primary_recovers_an_injected_season_reduction(london_sv, march_surface):
    from vigil.outcomes.simulate import inject_effect, plan_season

    plan = plan_season(march_surface, [f"2022-{m:02d}" for m in range(3, 12)])
    windows = [DeploymentWindow(p.label, (p.area_id,), p.start, p.end) for p in plan]
    inj = inject_effect(london_sv, march_surface, windows, 0.4, seed=11)
    ev = evaluate_deployments(inj.incidents, march_surface, windows, **YEAR)
    assert ev.verdict is Verdict.REDUCTION and ev.covers(0.6), ev.primary
    assert ev.displacement is not None and not ev.displacement.alarm
    placebo = evaluate_deployments(london_sv, march_surface, windows, **YEAR)
    assert placebo.verdict is Verdict.NO_DETECTABLE_EFFECT and placebo.covers(1.0)
    assert "placebo-in-space" in placebo.method


def test_police_generated_offences_are_refused_as_outcome(london_sv, march_surface):
    top = str(march_surface.area_id[march_surface.ranking()[0]])
    w = [DeploymentWindow("1", (top,), pd.Timestamp("2022-06-10"),
                          pd.Timestamp("2022-06-11"))]  # fmt: skip
    with pytest.raises(OutcomeInputError, match="police-generated"):
        evaluate_deployments(
            london_sv, march_surface, w, categories=frozenset({"weapons_possession"}), **YEAR
        )


def test_windows_over_the_march_2020_lockdown_are_flagged():
    periods = pd.period_range("2019-10", "2020-06", freq="M")
    flags = shock_flags(periods, (0, 5), (5, 7))  # Oct 2019-Feb 2020 vs March-April 2020
    assert any("first COVID-19 lockdown" in f for f in flags)
    assert shock_flags(periods[:4], (0, 2), (2, 4)) == []
    totals = np.array([100, 100, 100, 100, 100, 60, 60, 100, 100])
    assert any("whole force" in f for f in shock_flags(periods, (0, 5), (5, 7), totals))


def test_studentised_season_holds_its_level_where_widening_is_conservative():
    """Issue 17 follow-up: Chicago 2016 displacement seasons false-alarmed 0.8 % (target
    2.5-7.5 %) because a season was widened by max(1, its scatter / the placebos'), a noisy
    ratio clipped at 1. Seasons drawn exchangeably with their donors (deployments of unequal,
    skewed spread) must be rejected about 5 % of the time by the studentised pooled test."""
    rng = np.random.default_rng(7)
    n_seasons, size, k = 300, 8, pl.DONORS
    scales = rng.uniform(0.2, 1.0, size)
    student = widened = 0
    for _ in range(n_seasons):
        draws = rng.gamma(2.0, 1.0, (size, k + 1)) * scales[:, None]
        donors, own = draws[:, :k], draws[:, k]
        meds = np.median(donors, axis=1)
        null = pl.season_draws(list(donors - meds[:, None]), draws=999, seed=int(rng.integers(1e9)))
        obs, mask = own - meds, np.ones(size, dtype=bool)
        student += (
            pl._pooled(obs, null, mask, studentise=True)[0] is not Verdict.NO_DETECTABLE_EFFECT
        )
        widened += pl._pooled(obs, null, mask)[0] is not Verdict.NO_DETECTABLE_EFFECT
    assert plausible(student, n_seasons, 0.05), (student, widened)
    assert widened <= student


@pytest.fixture(scope="module")
def london_year(london_sv, london_grid):
    """320 placebo deployments, 40 a month April-November 2022, as benchmarks/bench_placebo.py."""
    from vigil.outcomes.calibrate import placebo_year

    return placebo_year(london_sv, london_grid, 2022, per_start=40)


def test_single_deployment_displacement_holds_its_level_on_the_forecasts_top_cells(london_year):
    """Issue 17 follow-up: the surroundings of the forecast's top cells scatter more than rings
    of the same size elsewhere (police.uk snap points moving between neighbouring cells,
    bursts), so the plain ring test claimed displacement or diffusion for 29 of 319 London 2022
    placebo deployments (9.1 %). Each ring's statistic is now divided by its own noise scale
    from its own before period. 320 placebos (40 a month, April-November): the false alarms
    must be binomial-plausible for 5 % at the 1 % level (29 of 319 is not: p = 0.002)."""
    from vigil.outcomes.calibrate import displacement_rates, single_rings

    rates = displacement_rates(single_rings(london_year))
    assert rates.n >= 300
    assert plausible(rates.alarms, rates.n, 0.05), (rates.alarms, rates.n)


def test_noise_scale_reads_a_rings_own_scatter():
    """A ring whose before-period blocks jump about gets a larger scale than a steady one with
    the same count, and a steady one is floored, never zero."""
    steady = np.array([[50, 50, 50, 50]])
    jumpy = np.array([[20, 80, 20, 80]])
    before = np.array([200])
    s_steady = pl.noise_scale(steady, before, 0.5)[0]
    s_jumpy = pl.noise_scale(jumpy, before, 0.5)[0]
    poisson = np.sqrt(1 / 200.5 + 1 / 100.5)
    assert s_steady == pytest.approx(np.sqrt(pl.PHI_FLOOR) * poisson)
    assert s_jumpy > 5 * poisson


def test_the_stated_mde_has_its_power_on_320_placebos(london_year):
    """The stated minimum detectable reduction, removed from each placebo's after count
    (binomial thinning), must be called a reduction about 80 % of the time. Reading it as a
    shift of log r alone ignored the thinning's own noise: 70 % of 320 London placebos (and
    58 % in Chicago 2016), not binomial-plausible for 80 %; the exact binomial version must be."""
    from dataclasses import replace

    cube = london_year.cube
    rng = np.random.default_rng(0)
    called = stated = 0
    for p in london_year.placements:
        w = p.window
        excluded = cube.near(w.areas, max(london_year.exclusion_m, london_year.buffer_m))
        q = pl.prepare(cube, w, excluded, risk=p.risk)
        m = pl.detectable_reduction(q)
        if m is None:
            continue
        stated += 1
        a = int(rng.binomial(q.after, 1 - m))
        cut = replace(q, after=a, stat=float(np.log((a + 0.5) / (q.before + 0.5))))
        called += pl.single_result(cut).verdict is Verdict.REDUCTION
    assert stated >= 300
    assert plausible(called, stated, pl.MDE_POWER), (called, stated)


def test_the_stated_season_mdr_has_its_power(london_year):
    """Issue 17, "and for the season it would join": the season's minimum detectable reduction,
    removed from every member's after count, must be called a reduction by the pooled season
    test about 80 % of the time (binomial-plausible at 1 %). 100 placebo seasons of 3 or 8
    deployments from different months of the 320 London 2022 placebos."""
    from dataclasses import replace

    cube, rng = london_year.cube, np.random.default_rng(1)
    preps = []
    for p in london_year.placements:
        excluded = cube.near(p.window.areas, max(london_year.exclusion_m, london_year.buffer_m))
        preps.append(pl.prepare(cube, p.window, excluded, risk=p.risk))
    by_period: dict[int, list[int]] = {}
    for i, p in enumerate(london_year.placements):
        by_period.setdefault(p.period, []).append(i)
    called = stated = 0
    singles, seasons = [], []
    for k in range(100):
        months = rng.choice(sorted(by_period), size=3 if k % 2 else 8, replace=False)
        members = [preps[int(rng.choice(by_period[int(m)]))] for m in months]
        m = pl.season_detectable_reduction(members)
        if m is None:
            continue
        stated += 1
        thinned = []
        for q in members:
            a = int(rng.binomial(q.after, 1 - m))
            thinned.append(replace(q, after=a, stat=float(np.log((a + 0.5) / (q.before + 0.5)))))
        called += pl.season_result(thinned).verdict is Verdict.REDUCTION
        seasons.append(m)
        singles.extend(x for x in (pl.detectable_reduction(q) for q in members) if x is not None)
    assert stated >= 90
    assert plausible(called, stated, pl.MDE_POWER), (called, stated)
    # pooling is why seasons can tell what single deployments cannot
    assert np.median(seasons) < np.median(singles) - 0.1
