"""The boosted Poisson model on London 2022 (month-only) and Chicago 2015-16 (minute times)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vigil.errors import ModelInputError
from vigil.forecast.boosted import BoostedPoisson
from vigil.forecast.features import feature_set, space_time_features
from vigil.forecast.registry import make_model

FAST = {"n_estimators": 40, "learning_rate": 0.2}


@pytest.fixture(scope="module")
def london_fit(london, london_grid) -> BoostedPoisson:
    m = make_model("boosted", **FAST).fit(london, "2022-07-01", london_grid)
    assert isinstance(m, BoostedPoisson)
    return m


def test_trains_only_on_windows_that_ended(london_fit):
    origins = [pd.Timestamp(o) for o in london_fit.train_origins_]
    # month-only data: one-month targets, origins Jun back to Feb (Jan has no history)
    assert origins == list(pd.date_range("2022-02-01", "2022-06-01", freq="MS"))[::-1]
    assert london_fit.span_ == 1


def test_forecast_is_a_sensible_expected_count(london_fit, london, london_grid):
    s = london_fit.predict("2022-07-01", "2022-08-01")
    july = london[london.time == "2022-07-01"]
    observed = london_grid.counts(july.x.to_numpy(), july.y.to_numpy())
    assert s.risk.sum() == pytest.approx(observed.sum(), rel=0.15)
    # it ranks July's violence at least as well as the naive count of the past months does
    naive = make_model("naive").fit(london, "2022-07-01", london_grid)
    top = int(0.05 * len(s))
    hits_b = observed[s.ranking()[:top]].sum()
    hits_n = observed[naive.predict("2022-07-01", "2022-08-01").ranking()[:top]].sum()
    assert hits_b >= 0.97 * hits_n
    top5 = s.top(5)
    np.testing.assert_allclose(top5[["long_run", "recent", "near_repeat"]].sum(axis=1), top5.risk)
    assert (top5.near_repeat == 0).all()  # month-only: no near-repeat features at all


def test_no_future_leak(london, london_grid):
    until = "2022-05-01"
    a = make_model("boosted", **FAST).fit(london, until, london_grid)
    b = make_model("boosted", **FAST).fit(london[london.time < until], until, london_grid)
    w = (until, "2022-06-01")
    np.testing.assert_allclose(a.predict(*w).risk, b.predict(*w).risk)


def test_too_little_history_is_refused(london, london_grid):
    with pytest.raises(ModelInputError, match="history"):
        make_model("boosted").fit(london, "2022-02-01", london_grid)
    with pytest.raises(ModelInputError, match="zero_keep"):
        make_model("boosted", zero_keep=0).fit(london, "2022-06-01", london_grid)


def test_exact_times_add_near_repeat_features(chicago, chicago_grid):
    fs = feature_set(exact=True)
    assert {"near_1d", "near_kde_7d"} <= set(fs.names)
    m = make_model("boosted", **FAST).fit(chicago, "2016-06-06", chicago_grid)
    assert m.span_ == 4 and len(m.train_origins_) == 12
    # the last training target (4 weeks) ends exactly at the fit date
    last = pd.Timestamp(m.train_origins_[0]) + pd.Timedelta(weeks=4)
    assert last == pd.Timestamp("2016-06-06")
    s = m.predict("2016-06-06", "2016-06-13")
    assert 150 < s.risk.sum() < 600
    # near-repeat features respond to the last days: an assault yesterday raises near_1d
    X = space_time_features(m.past_, m.past_.until, chicago_grid, True)
    col = fs.names.index("near_1d")
    yesterday = chicago[(chicago.time >= "2016-06-05") & (chicago.time < "2016-06-06")]
    cells = chicago_grid.locate(yesterday.x.to_numpy(), yesterday.y.to_numpy())
    assert (X[cells[cells >= 0], col] > 0.3).all()


def test_point_concentration_features(london, london_grid):
    """police.uk snap points: a cell whose incidents sit on one point shows it."""
    from vigil.forecast._common import prepare_past

    past = prepare_past(london, "2022-04-01", london_grid, "test")
    fs = feature_set(exact=False)
    X = space_time_features(past, past.until, london_grid, False)
    top = X[:, fs.names.index("top_point_rate")] * X[:, fs.names.index("history_days")]
    n_pts = X[:, fs.names.index("n_points")]
    counts = london_grid.counts(past.x, past.y)
    busy = counts > 0
    assert (top[busy] >= 1).all() and (top <= counts + 1e-9).all()
    assert (n_pts <= counts).all() and (n_pts[busy] >= 1).all()
    # cells with one point only have all their incidents on it
    one = n_pts == 1
    np.testing.assert_allclose(top[one], counts[one])


def test_empty_history_is_refused(london, london_grid):
    with pytest.raises(ModelInputError, match="no incidents"):
        make_model("boosted").fit(london.iloc[:0], "2022-06-01", london_grid)
