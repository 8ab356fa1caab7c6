"""The space-time surge detector (issue 13: "is now unusual here?").

Data: a synthetic city (30 x 30 cells of 100 m, a steady hotspot over a uniform background,
Poisson counts per day for 200 days, fixed seed), with or without an injected cluster of known
size and duration, so that what must be found is known exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vigil.errors import ModelInputError
from vigil.forecast._scan_kernels import (
    _log_counts,
    _max_sparse,
    best_per_centre,
    scratch,
)
from vigil.forecast.registry import make_model
from vigil.forecast.surge import neighbours, surge_scan
from vigil.geo.grid import Grid

AT = pd.Timestamp("2021-07-20")
CRS = "EPSG:27700"


def background(seed: int = 0, days: int = 200, per_day: float = 12.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = rng.poisson(per_day * days)
    hot = rng.random(n) < 0.3
    x = np.where(hot, rng.normal(800, 150, n), rng.uniform(0, 3000, n))
    y = np.where(hot, rng.normal(2200, 150, n), rng.uniform(0, 3000, n))
    minutes = rng.integers(0, days * 24 * 60, n)
    return pd.DataFrame(
        {
            "time": AT - pd.Timedelta(days=days) + pd.to_timedelta(minutes, unit="min"),
            "precision": "minute",
            "x": np.clip(x, 1, 2999),
            "y": np.clip(y, 1, 2999),
            "category": "violence",
        }
    )


def inject(df: pd.DataFrame, n: int, days: int, x: float, y: float, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    extra = pd.DataFrame(
        {
            "time": AT - pd.to_timedelta(rng.integers(1, days * 24 * 60, n), unit="min"),
            "precision": "minute",
            "x": rng.normal(x, 60, n),
            "y": rng.normal(y, 60, n),
            "category": "violence",
        }
    )
    return pd.concat([df, extra], ignore_index=True)


@pytest.fixture(scope="module")
def grid() -> Grid:
    return Grid.from_bounds(0, 0, 2999, 2999, 100.0, CRS)


# a fast baseline for the tests (the default model's own folds are tested elsewhere)
def quick_baseline():
    return make_model("recency", n_folds=2)


@pytest.mark.parametrize("method", ["poisson", "permutation"])
def test_an_injected_cluster_is_found_with_its_size_and_period(method, grid):
    df = inject(background(), n=14, days=2, x=2250, y=750)
    res = surge_scan(
        df, grid, AT, method=method, n_replicas=99, baseline=quick_baseline(), max_radius=400
    )
    top = res.clusters[0]
    assert np.hypot(top.x - 2250, top.y - 750) <= 300
    assert top.p_value == pytest.approx(0.01)  # beyond every replica
    assert top.recurrence_days == pytest.approx(100.0)
    assert "at least 100 days" in top.describe()
    assert top.days <= 3 and top.end == AT
    assert top.observed >= 10 and top.ratio > 4
    assert res.for_area(top.area_ids[:1]) is top
    assert res.for_area(["nowhere"]) is None


@pytest.mark.parametrize("method", ["poisson", "permutation"])
def test_no_injection_no_alarm(method, grid):
    res = surge_scan(
        background(seed=5),
        grid,
        AT,
        method=method,
        n_replicas=99,
        baseline=quick_baseline(),
        max_radius=400,
    )
    assert res.clusters and res.clusters[0].p_value > 0.05
    assert res.significant(0.05) == []


def test_month_only_data_is_refused(grid):
    df = background().assign(precision="month")
    df["time"] = df["time"].dt.to_period("M").dt.to_timestamp()
    with pytest.raises(ModelInputError, match="to the day"):
        surge_scan(df, grid, "2021-08-01", n_replicas=9)


def test_sparse_replica_maximum_equals_brute_force(grid):
    """The replicas' walk (scoring only at cells with events, all windows at once, from event
    lists) gives the same maximum as the plain walk over every centre, radius and window of a
    table of counts, on random counts."""
    nn, _ = neighbours(grid, 350.0)
    rng = np.random.default_rng(3)
    n = grid.n_cells
    daily = rng.gamma(0.5, 0.02, n)
    wins = np.array([1, 2, 4])
    gather = np.where(nn >= 0, nn, 0)
    base = np.where(nn >= 0, daily[gather], 0.0).cumsum(axis=1)
    for kulldorff in (False, True):
        day_of = rng.integers(0, 4, 60)
        cells = rng.integers(0, n, 60)
        order = np.argsort(day_of, kind="stable")
        events, day_of = cells[order], day_of[order]
        n_in = np.array([np.sum(day_of < w) for w in wins])
        counts = np.zeros((wins.size, n))
        for k in range(wins.size):
            np.add.at(counts[k], events[: n_in[k]], 1.0)
        totals = np.full(wins.size, 500.0 if kulldorff else 0.0)
        factor = wins / 10.0 if kulldorff else wins.astype(float)
        dense = best_per_centre(counts, nn, base, factor, totals, kulldorff)[0].max()
        work = scratch(n, events.size, wins.size)
        for _ in range(2):  # the scratch arrays are left ready for the next replica
            sparse = _max_sparse(
                events.astype(np.int64),
                n_in.astype(np.int64),
                nn,
                base,
                np.log(base),
                factor,
                np.log(factor),
                totals,
                _log_counts(events.size),
                kulldorff,
                work,
            )
            assert sparse == dense
        assert dense > 0


def test_neighbours_are_nearest_first_within_the_radius(grid):
    nn, dist = neighbours(grid, 250.0)
    assert (nn[:, 0] == np.arange(grid.n_cells)).all()
    assert np.all(np.diff(np.where(np.isfinite(dist), dist, 1e9), axis=1) >= 0)
    assert np.nanmax(np.where(nn >= 0, dist, np.nan)) <= 250.0
    # an inner cell has the 21 cells within 2.5 cells (1 + 4 + 4 + 4 + 8)
    inner = grid.locate(np.array([1550.0]), np.array([1550.0]))[0]
    assert (nn[inner] >= 0).sum() == 21
