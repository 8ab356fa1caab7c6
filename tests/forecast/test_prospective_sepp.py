"""Prospective hotspots (London, month-only) and the grid SEPP (Chicago, minute timestamps)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vigil.errors import ModelInputError
from vigil.forecast.registry import make_model
from vigil.forecast.sepp import GridSEPP


def test_prospective_weights_recent_nearby_incidents(london, london_grid):
    until = "2022-09-01"
    m = make_model("prospective", bandwidth=400, window_days=62).fit(london, until, london_grid)
    s = m.predict(until, "2022-10-01")
    # expected total = the rate of the last two months (July, August) over 30 days
    recent = london[(london.time >= "2022-07-01") & (london.time < until)]
    n_in = int((london_grid.locate(recent.x.to_numpy(), recent.y.to_numpy()) >= 0).sum())
    assert s.risk.sum() == pytest.approx(n_in / 62 * 30, rel=1e-6)
    # August (age ~2 weeks) weighs more than July (age ~6-7 weeks): 1/(1+2) vs 1/(1+6)
    aug = london[london.time == "2022-08-01"]
    only_aug = make_model("prospective", bandwidth=400, window_days=31).fit(aug, until, london_grid)
    jul = london[london.time == "2022-07-01"]
    only_jul = make_model("prospective", bandwidth=400, window_days=62).fit(jul, until, london_grid)
    ratio = only_aug.parts_["recent"].sum() / only_jul.parts_["recent"].sum()
    assert ratio == pytest.approx((len(aug) / 3) / (len(jul) / 7), rel=0.05)


def test_sepp_refuses_month_only_data(london, london_grid):
    with pytest.raises(ModelInputError, match="needs incident times to the day.*month"):
        make_model("sepp").fit(london, "2022-06-01", london_grid)


@pytest.fixture(scope="module")
def sepp(chicago, chicago_grid) -> GridSEPP:
    m = make_model("sepp").fit(chicago, "2016-06-01", chicago_grid)
    assert isinstance(m, GridSEPP)
    return m


def test_sepp_fit_is_sensible_on_chicago(sepp, chicago, chicago_grid):
    assert 0 < sepp.theta_ < 0.95
    assert sepp.omega_ <= 1.0  # mean delay of a day or more
    # background plus triggered probabilities account for every event
    n = int(
        ((chicago.time < "2016-06-01") & (chicago_grid.locate(chicago.x, chicago.y) >= 0)).sum()
    )
    span = (pd.Timestamp("2016-06-01") - chicago.time.min()).days
    assert sepp.mu_.sum() * span == pytest.approx(n * (1 - sepp.theta_), rel=0.05)
    s = sepp.predict("2016-06-01", "2016-06-08")
    assert s.params["fitted_theta"] == sepp.theta_
    # a week's forecast lands in the right range of the weekly count (~250-450 in 2015-16)
    assert 150 < s.risk.sum() < 500
    d = s.drivers
    assert (d.near_repeat >= 0).all() and (d.long_run > 0).all()


def test_sepp_reacts_to_a_fresh_incident(sepp, chicago, chicago_grid):
    """The reactive case: risk in a cell is raised right after an assault there, then decays."""
    recent = chicago[(chicago.time >= "2016-05-31") & (chicago.time < "2016-06-01")].iloc[0]
    s = sepp.predict("2016-06-01", "2016-06-02")
    later = sepp.predict("2016-06-20", "2016-06-21")
    i = int(chicago_grid.locate(np.array([recent.x]), np.array([recent.y]))[0])
    near_now = s.risk[i] - later.risk[i]
    assert near_now > 0
    curve = sepp.excitation_after(recent.x, recent.y, recent.time, days=10)
    assert (np.diff(curve.extra.to_numpy()) < 0).all()
    assert curve.extra.sum() == pytest.approx(sepp.theta_ * (1 - np.exp(-10 * sepp.omega_)))
    days = sepp.raised_risk_days(recent.x, recent.y, ratio=1.0)
    assert curve.loc[curve.to_day <= days, "ratio"].iloc[:-1].ge(1.0).all()


def test_sepp_needs_a_fit_and_a_grid_point(sepp):
    with pytest.raises(ModelInputError, match="outside"):
        sepp.raised_risk_days(0.0, 0.0)
    with pytest.raises(ModelInputError, match="fit"):
        GridSEPP().excitation_after(0, 0, "2016-01-01")
