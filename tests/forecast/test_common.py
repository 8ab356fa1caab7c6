"""Shared machinery: honest cut of the past, kernel smoothing, windows (London 2022 slices)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil.errors import ModelInputError
from vigil.forecast._common import parse_window, period_end, prepare_past, smooth_on_grid
from vigil.geo.grid import Grid


@pytest.fixture(scope="module")
def westminster(london):
    """Violence and robbery in a 4 km box around Westminster (many snap points, one box)."""
    box = (london.x.between(527_000, 531_000)) & (london.y.between(178_000, 182_000))
    return london[box].reset_index(drop=True)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    bandwidth=st.floats(50, 1200),
    cell=st.sampled_from([100.0, 150.0, 250.0]),
    n=st.integers(1, 400),
    seed=st.integers(0, 10_000),
)
def test_kernel_mass_is_kept_inside_the_grid(westminster, bandwidth, cell, n, seed):
    """Every incident's kernel has mass one when the grid covers the whole kernel."""
    pts = westminster.sample(n=min(n, len(westminster)), random_state=seed)
    pad = bandwidth + 2 * cell
    grid = Grid.from_bounds(527_000 - pad, 178_000 - pad, 531_000 + pad, 182_000 + pad, cell, "b")
    field = smooth_on_grid(grid, pts.x.to_numpy(), pts.y.to_numpy(), None, bandwidth)
    assert field.sum() == pytest.approx(len(pts), rel=1e-6)
    assert (field >= 0).all()


def test_kernel_spreads_no_further_than_the_bandwidth(westminster):
    grid = Grid.from_bounds(525_000, 176_000, 533_000, 184_000, 50.0, "b")
    p = westminster.iloc[:1]
    field = smooth_on_grid(grid, p.x.to_numpy(), p.y.to_numpy(), None, 400.0)
    gx, gy = grid.centres()
    d = np.hypot(gx - p.x.iloc[0], gy - p.y.iloc[0])
    # lattice binning moves a point by at most half a sub-cell: allow one cell of slack
    assert field[d > 400 + 50 * np.sqrt(2)].sum() == 0
    assert field[d < 100].sum() > field[(d > 200) & (d < 300)].sum() / 4


def test_period_end_by_precision():
    t = pd.Series(pd.to_datetime(["2022-02-01 00:00", "2022-02-14 00:00", "2022-02-14 10:31"]))
    p = pd.Series(["month", "day", "minute"])
    assert list(period_end(t, p)) == list(
        pd.to_datetime(["2022-03-01 00:00", "2022-02-15 00:00", "2022-02-14 10:32"])
    )


def test_windows_parse_or_fail_clearly():
    assert parse_window("3M", "w") == pd.DateOffset(months=3)
    assert parse_window(14, "w") == pd.Timedelta(days=14)
    assert parse_window("2W", "w") == pd.Timedelta(days=14)
    assert parse_window(None, "w") is None
    for bad in ("x", "0D", "1.5M", -3):
        with pytest.raises(ModelInputError):
            parse_window(bad, "w")


def test_prepare_past_names_missing_coordinates(london, london_grid):
    bad = london.head(50).copy()
    bad.loc[bad.index[7], "x"] = np.nan
    with pytest.raises(ModelInputError, match="first at row 7"):
        prepare_past(bad, "2022-06-01", london_grid, "kde")
    with pytest.raises(ModelInputError, match="not a date"):
        prepare_past(london.head(5), "soon", london_grid, "kde")
    with pytest.raises(ModelInputError, match="Grid"):
        prepare_past(london.head(5), "2022-06-01", "250m", "kde")  # type: ignore[arg-type]
