"""What the evaluation will be able to detect, stated before the decision (issue 17).

"Every case file shows the minimum detectable effect computed before authorisation": the figure
must be the placebo test's (the test that decides the verdict), measured on the area's own
history and the control pool, not the Poisson formula, which stated about a third for London's
top cells while a 40 % cut was called in only 22 % of placebo deployments. Real data: London 2022
serious violence, the naive forecast made on 1 September 2022 (see conftest).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vigil.forecast.registry import make_model
from vigil.outcomes import placebo as pl
from vigil.outcomes.detectable import against_plan, detectable_from_history, history_windows
from vigil.outcomes.evaluation import count_matrix
from vigil.outcomes.power import power_from_forecast
from vigil.outcomes.simulate import plan_season

SEPTEMBER = pd.Timestamp("2022-09-01")


@pytest.fixture(scope="module")
def september(london_sv, london_grid):
    model = make_model("naive", window="2M").fit(london_sv, SEPTEMBER, london_grid)
    return model.predict(SEPTEMBER, SEPTEMBER + pd.DateOffset(months=1))


def _history(incidents, surface, last: str, area_id: str) -> tuple[pl.CountCube, int]:
    """The count cube of 2022-01 to ``last`` on ``surface``'s areas, and ``area_id``'s row."""
    periods = pd.period_range("2022-01", last, freq="M")
    counts = count_matrix(incidents, surface, periods)
    cube = pl.CountCube(counts, np.asarray(surface.x, float), np.asarray(surface.y, float))
    return cube, list(np.asarray(surface.area_id).astype(str)).index(area_id)


def test_the_figure_is_the_placebo_tests_on_the_areas_history(london_sv, september):
    p = plan_season(september, ["2022-09"])[0]
    d = detectable_from_history(london_sv, september, [p.area_id], p.start, p.end)
    # the evaluation's window (September and October against the six months before) laid over
    # the last complete months of history before the forecast
    assert d.history == "before 2022-01 to 2022-06, after 2022-07 to 2022-08"
    assert d.mdr_pct is not None and d.donors == pl.DONORS and not d.reason
    # the same figure as the placebo test run by hand on that history
    cube, i = _history(london_sv, september, "2022-08", p.area_id)
    recent = cube.sums(4, 6).astype(float)  # stands in for the forecast at 2022-07
    prep = pl.prepare(
        cube, pl.Window("x", (i,), (0, 6), (6, 8)), cube.near([i], 1000.0), risk=recent
    )
    # the threshold taken as the evaluation will draw it: an order statistic of fresh donors
    assert d.mdr_pct == pytest.approx(100 * pl.detectable_reduction(prep))
    assert d.before == prep.before
    # and more pessimistic than the Poisson formula, which ignored over-dispersion
    poisson = power_from_forecast(september, [p.area_id], p.start, p.end).mdr_pct
    assert poisson is not None and d.mdr_pct > poisson
    assert f"reduction of {d.mdr_pct:.0f}% or more" in d.sentence and "2022-07" in d.sentence


def test_the_figure_averages_the_earlier_placements_of_the_window(london_sv, london_grid):
    """One window's figure rests on the second-smallest of 79 donor values; where the history
    holds them, earlier placements of the same window shape (one after-window apart) steady it:
    the power is averaged over them."""
    december = pd.Timestamp("2022-12-01")
    surface = make_model("naive", window="2M").fit(london_sv, december, london_grid)
    surface = surface.predict(december, december + pd.DateOffset(months=1))
    p = plan_season(surface, ["2022-12"])[0]
    d = detectable_from_history(london_sv, surface, [p.area_id], p.start, p.end)
    # the window touches December: seven months before it (June to December), laid over the
    # history as March-September against October-November, and once more two months earlier
    assert d.history.startswith("before 2022-03 to 2022-09, after 2022-10 to 2022-11")
    assert "and the 1 same-shaped window(s) before it" in d.history
    cube, i = _history(london_sv, surface, "2022-11", p.area_id)
    preps = [
        pl.prepare(
            cube,
            pl.Window("x", (i,), (b0, b0 + 7), (b0 + 7, b0 + 9)),
            cube.near([i], 1000.0),
            risk=cube.sums(b0 + 5, b0 + 7).astype(float),
        )
        for b0 in (2, 0)
    ]
    both = pl.detectable_reduction(*preps)
    assert both is not None and d.mdr_pct == pytest.approx(100 * both)
    assert d.mdr_pct != pytest.approx(100 * pl.detectable_reduction(preps[0]))


def test_history_windows_step_back_one_after_window():
    assert history_windows(14, 6, 2, windows=3) == [(6, 12, 14), (4, 10, 12), (2, 8, 10)]
    assert history_windows(9, 6, 2) == [(1, 7, 9)]  # an earlier one would lack before periods
    assert history_windows(5, 6, 2) == [(0, 3, 5)]  # the latest may have fewer
    assert history_windows(3, 6, 2) == []


def test_a_quiet_area_is_stated_as_too_few_to_tell(london_sv, september):
    risk = np.asarray(september.risk, float)
    quiet = str(np.asarray(september.area_id)[np.flatnonzero(risk == 0)[0]])
    start = pd.Timestamp("2022-09-10 18:00")
    d = detectable_from_history(london_sv, september, [quiet], start, start + pd.Timedelta(hours=8))
    assert d.mdr_pct is None and d.reason.startswith("too few to tell")
    assert "will most likely not be able to show an effect" in d.sentence


def test_too_short_a_history_is_said_so(london_sv, march_surface):
    p = plan_season(march_surface, ["2022-03"])[0]
    d = detectable_from_history(london_sv, march_surface, [p.area_id], p.start, p.end)
    assert d.mdr_pct is None and "2022-01" in d.reason and "too short" in d.reason


def test_the_result_is_read_against_the_plan():
    text = against_plan(45.0, 0.9, 0.7, 1.2)
    assert text.startswith("the plan could detect a reduction of 45% or more; ")
    assert "the estimate is -10% [-30%, +20%]" in text
    assert "smaller than the plan could detect" in text
    assert "smaller than" not in against_plan(45.0, 0.5, 0.3, 0.8)
    assert against_plan(None, 0.9, 0.7, 1.2).startswith("the plan stated no detectable")
