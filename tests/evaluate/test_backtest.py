"""Rolling-origin backtests on real slices, with test-only models (tests/evaluate/toy_models.py).

Slices: Chicago aggravated assaults 2016 (minute precision, /work/shared/data/
chicago-aggravated-assaults-2010-2016) and London 2022 robbery (month precision,
/work/shared/data/met-street-2022), both through vigil.data.datasets.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.evaluate.toy_models import ExactTimesOnly, LongRunCounts, RecentCounts, Uniform
from vigil.errors import ModelInputError
from vigil.evaluate.backtest import backtest
from vigil.evaluate.windows import observed_counts, parse_step, rolling_origins
from vigil.geo.grid import Grid
from vigil.geo.projection import with_xy


@pytest.fixture(scope="module")
def chicago(shared_data):
    from vigil.data.datasets import load_chicago

    df, _ = with_xy(load_chicago(shared_data, years=(2015, 2016)))
    return df


@pytest.fixture(scope="module")
def london_robbery(shared_data):
    from vigil.data.datasets import load_london_2022

    df = load_london_2022(shared_data)
    df, _ = with_xy(df[df["category"] == "robbery"].reset_index(drop=True))
    return df


MODELS = [RecentCounts(28), LongRunCounts(), Uniform()]


def _chicago_backtest(chicago, **parallel):
    """Four weekly Chicago origins in June 2016, two offsets each; ``parallel`` says where they
    run (``workers`` processes, or a Dask ``scheduler``)."""
    return backtest(
        chicago,
        MODELS,
        start="2016-06-06",
        end="2016-07-04",
        step="7d",
        cell=500,
        offsets=2,
        baselines=("recent", "uniform"),
        n_boot=300,
        **parallel,
    )


@pytest.fixture(scope="module")
def chicago_result(chicago):
    return _chicago_backtest(chicago, workers=1)


def test_parse_step_and_origins():
    assert parse_step("7d") == pd.Timedelta(days=7)
    assert parse_step("1M") == pd.DateOffset(months=1)
    assert rolling_origins("2022-01-01", "2022-04-01", "1M") == [
        pd.Timestamp("2022-01-01"),
        pd.Timestamp("2022-02-01"),
        pd.Timestamp("2022-03-01"),
    ]
    with pytest.raises(ModelInputError, match="not understood"):
        parse_step("7 fortnights")


def test_chicago_backtest_rows_and_scores(chicago_result, chicago):
    res = chicago_result
    assert len(res.frame) == 4 * 2 * 3  # origins x offsets x models
    # observed counts are the real incidents of each week inside the grid
    first = res.frame[(res.frame.origin == "2016-06-06") & (res.frame.offset == 0)]
    t = chicago["time"]
    week = chicago[(t >= "2016-06-06") & (t < "2016-06-13")]
    assert first["observed"].iloc[0] == len(week)
    # a uniform forecast captures about the area share; history does much better in Chicago
    s = res.summary().set_index("model")
    assert s.loc["uniform", "hit_rate@0.05"] == pytest.approx(0.05, abs=0.02)
    assert s.loc["longrun", "hit_rate@0.05"] > 2 * s.loc["uniform", "hit_rate@0.05"]
    assert s.loc["longrun", "pai@0.01"] > 3
    # stability is defined from the second origin on, and in [0, 1]
    stab = res.frame["stability@0.05"]
    assert stab.isna().sum() == 2 * 3  # first origin on each offset
    assert ((stab.dropna() >= 0) & (stab.dropna() <= 1)).all()
    # a long-run surface moves less week to week than a 4-week count
    assert s.loc["longrun", "stability@0.05"] > s.loc["recent", "stability@0.05"]


def test_comparison_with_best_baseline(chicago_result):
    cmp = chicago_result.comparison
    row = cmp[(cmp.fraction == 0.05) & (cmp.model == "longrun")].iloc[0]
    assert row.best_baseline in ("recent", "uniform")
    assert row.n_origins == 4
    assert row.diff_lo <= row["diff"] <= row.diff_hi
    # the best baseline against itself never wins
    base = cmp[(cmp.fraction == 0.05) & (cmp.model == row.best_baseline)].iloc[0]
    assert base["diff"] == 0 and base.p_not_better == 1.0


def test_reliability_table_adds_up_and_shows_miscalibration(chicago_result):
    """Issue 13 (calibration): areas binned by expected count, summed over windows. Each
    model's bins hold every cell of every window and its whole expected and observed totals.
    The last-28-days count, right in total, shows regression to the mean: its busiest cells
    get fewer incidents than it says, and cells with nothing lately still get a share."""
    table = chicago_result.reliability_table()
    frame = chicago_result.frame
    n_cells = sum(g.n_cells for g in chicago_result.grids) * 4  # 4 origins, offsets summed
    for model, rows in table.groupby("model"):
        mine = frame[frame.model == model]
        assert rows["n"].sum() == n_cells
        assert rows["expected"].sum() == pytest.approx(mine["expected"].sum(), rel=1e-9)
        assert rows["observed"].sum() == pytest.approx(mine["observed"].sum(), rel=1e-9)
        assert (rows["lo"] < rows["hi"]).all()
    recent = table[table.model == "recent"].set_index("lo")
    assert recent["expected"].sum() == pytest.approx(recent["observed"].sum(), rel=0.1)
    assert recent["ratio"].iloc[-1] < 0.8  # busiest bin over-predicted
    assert (
        recent.loc[0.0, "expected"] == 0
        and recent.loc[0.0, "observed"] > 0.1 * recent["observed"].sum()
    )
    # the uniform field has a single bin: no cell is told apart
    assert (table.model == "uniform").sum() == 1
    pooled = [r["model"] for r in chicago_result.to_dict()["reliability"]]
    assert set(pooled) == {"recent", "longrun", "uniform"}


def test_json_roundtrip(chicago_result, tmp_path):
    path = chicago_result.to_json(tmp_path / "bt.json")
    data = json.loads(path.read_text())
    assert data["config"]["step"] == "7d" and data["config"]["horizon"] == "7d"
    assert len(data["results"]) == len(chicago_result.frame)
    assert {r["model"] for r in data["summary"]} == {"recent", "longrun", "uniform"}


def test_process_pool_matches_serial(chicago, chicago_result):
    res = _chicago_backtest(chicago, workers=2)
    cols = ["model", "origin", "offset", "observed", "hit_rate@0.01", "log_likelihood"]
    pd.testing.assert_frame_equal(res.frame[cols], chicago_result.frame[cols])
    pd.testing.assert_frame_equal(res.comparison, chicago_result.comparison)


def test_dask_local_cluster_matches_serial(chicago, chicago_result):
    from distributed import LocalCluster

    # a worker *process*: tasks, models and the scattered data cross a real process boundary
    with LocalCluster(
        n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None
    ) as cluster:
        res = _chicago_backtest(chicago, scheduler=cluster.scheduler_address)
    assert res.config["parallel"] == "dask"
    cols = ["model", "origin", "offset", "observed", "hit_rate@0.05", "pei_star@0.05"]
    pd.testing.assert_frame_equal(res.frame[cols], chicago_result.frame[cols])


def test_month_data_refuses_weeks_and_exact_models(london_robbery):
    with pytest.raises(ModelInputError, match="first of a month"):
        backtest(london_robbery, [RecentCounts()], start="2022-06-01", end="2022-07-01", step="7d")
    with pytest.raises(ModelInputError, match="needs incident times to the minute"):
        backtest(london_robbery, [ExactTimesOnly()], start="2022-06-01", end="2022-07-01")
    res = backtest(
        london_robbery,
        [ExactTimesOnly(), RecentCounts(92)],
        start="2022-10-01",
        end="2022-12-01",
        cell=1000,
        workers=1,
        skip_incompatible=True,
        baselines=("recent",),
        n_boot=100,
    )
    assert list(res.frame.model.unique()) == ["recent"]
    assert any("left out" in n for n in res.notes)
    # observed per window is the month's robberies: October 2022 in London
    octo = res.frame[res.frame.origin == "2022-10-01"]["observed"].iloc[0]
    t = london_robbery["time"]
    assert octo == ((t >= "2022-10-01") & (t < "2022-11-01")).sum() > 1500


def test_observed_counts_month_window(london_robbery):
    grid = Grid.from_bounds(500_000, 150_000, 570_000, 210_000, 1000, "EPSG:27700")
    got = observed_counts(
        london_robbery, grid, pd.Timestamp("2022-03-01"), pd.Timestamp("2022-05-01")
    )
    months = london_robbery["time"].dt.month
    want = grid.counts(*(london_robbery.loc[months.isin([3, 4]), c].to_numpy() for c in ("x", "y")))
    np.testing.assert_array_equal(got, want)


def test_html_report_has_tables_and_charts(chicago_result, tmp_path):
    from vigil.evaluate.report import write_report

    paths = write_report(chicago_result, tmp_path / "out")
    html = paths["html"].read_text()
    assert html.count("data:image/png;base64,") == 2  # curves and risk map
    assert "Against the best baseline" in html and "longrun" in html
    assert json.loads(paths["json"].read_text())["config"]["offsets"]
    assert len(pd.read_csv(paths["csv"])) == len(chicago_result.frame)


def test_scoring_on_wards(london_robbery, shared_data):
    from vigil.geo.areas import london_boundary, london_wards

    wards = london_wards(shared_data)
    res = backtest(
        london_robbery,
        [RecentCounts(61), Uniform()],
        start="2022-11-01",
        end="2022-12-01",
        cell=500,
        boundary=london_boundary(shared_data),
        workers=1,
        baselines=("recent",),
        n_boot=100,
        areas=wards,
        areas_name="ward",
    )
    assert res.config["scored_on"] == "ward (654 polygons)"
    row = res.frame.set_index("model").loc["recent"]
    t = london_robbery["time"]
    november = ((t >= "2022-11-01") & (t < "2022-12-01")).sum()
    # every London robbery lies in a ward (the 2014 wards cover London)
    assert row["observed"] == pytest.approx(november, abs=5)
    # sharing cells among wards keeps the forecast's total
    grid_total = res.last_risk["recent"].sum()
    assert row["expected"] == pytest.approx(grid_total, rel=0.01)
    # wards are ranked by risk per m2: a uniform forecast ties them all and captures the area
    # share, where ranking by risk would have picked the biggest wards first
    uniform = res.frame.set_index("model").loc["uniform"]
    assert uniform["hit_rate@0.05"] == pytest.approx(0.05, abs=0.01)
    assert row["hit_rate@0.05"] > 3 * uniform["hit_rate@0.05"]


def test_unreachable_scheduler_is_a_clear_error():
    from vigil.evaluate.parallel import SchedulerError, run_tasks

    with pytest.raises(
        SchedulerError, match="cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'"
    ):
        run_tasks(len, [1], pd.DataFrame(), scheduler="tcp://127.0.0.1:9", connect_timeout="1s")


def test_past_is_cut_by_the_end_of_each_known_period():
    from vigil.evaluate.windows import past_of

    frame = pd.DataFrame(
        {
            "time": pd.to_datetime(
                ["2022-05-01", "2022-06-01", "2022-06-14", "2022-06-14 23:59", "2022-06-15"],
                format="ISO8601",
            ),
            "precision": ["month", "month", "day", "minute", "minute"],
        }
    )
    origin = pd.Timestamp("2022-06-15")
    seen = past_of(frame, origin)
    # May is over; June (month-only) is not, even though it started before the origin; the
    # 14th (a whole day) and 23:59 (a minute) ended by midnight; the 15th is the future
    assert list(seen.index) == [0, 2, 3]
    with pytest.raises(ModelInputError, match="first of a month"):
        observed_counts(
            frame.assign(x=0.0, y=0.0),
            Grid.from_bounds(-1, -1, 1, 1, 1, "EPSG:27700"),
            pd.Timestamp("2022-06-01"),
            pd.Timestamp("2022-06-08"),
        )
