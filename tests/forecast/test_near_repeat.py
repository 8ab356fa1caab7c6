"""The Knox near-repeat analysis against an independent brute-force table and known patterns.

Real slice: Chicago aggravated assaults of June-July 2016 (/work/shared/data/chicago-aggravated-
assaults-2010-2016 via tests/forecast/_data) in a 3 km square of the South Side. Synthetic data:
uniform background with or without follow-up incidents planted near earlier ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.forecast import _data
from vigil.errors import ModelInputError
from vigil.forecast.near_repeat import knox

D_EDGES = (0, 100, 200, 400, 800)
T_EDGES = (0, 3, 7, 14, 28)


def brute_force_table(df: pd.DataFrame) -> np.ndarray:
    """Every pair, the slow and obvious way: the reference the fast table must match."""
    x, y = df.x.to_numpy(), df.y.to_numpy()
    t = (pd.to_datetime(df.time) - pd.Timestamp("1970-01-01")).dt.total_seconds().to_numpy()
    t = t / 86400.0
    out = np.zeros((len(D_EDGES) - 1, len(T_EDGES)), int)
    for i in range(len(df)):
        for j in range(i + 1, len(df)):
            d = np.hypot(x[i] - x[j], y[i] - y[j])
            if d >= D_EDGES[-1]:
                continue
            row = max(k for k in range(len(D_EDGES) - 1) if d >= D_EDGES[k])
            dt = abs(t[i] - t[j])
            col = max(k for k in range(len(T_EDGES)) if dt >= T_EDGES[k])
            out[row, col] += 1
    return out


@pytest.fixture(scope="module")
def chicago_slice() -> pd.DataFrame:
    df = _data.chicago_assaults()
    df = df[(df.time >= "2016-06-01") & (df.time < "2016-08-01")]
    cx, cy = df.x.median(), df.y.median() - 5000
    box = (abs(df.x - cx) < 1500) & (abs(df.y - cy) < 1500)
    return df[box].reset_index(drop=True)


def test_table_matches_brute_force_on_real_data(chicago_slice):
    assert 100 < len(chicago_slice) < 1500
    res = knox(chicago_slice, D_EDGES, T_EDGES, n_replicas=49)
    np.testing.assert_array_equal(res.observed, brute_force_table(chicago_slice))
    # shuffling times keeps which pairs are close: each distance row's total is fixed
    np.testing.assert_allclose(res.expected.sum(axis=1), res.observed.sum(axis=1))
    frame = res.to_frame()
    assert len(frame) == 4 * 5 and frame["observed"].sum() == res.observed.sum()
    assert ((frame.p_value > 0) & (frame.p_value <= 1)).all()


def synthetic(follow_ups: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 600
    x, y = rng.uniform(0, 3000, n), rng.uniform(0, 3000, n)
    t = rng.uniform(0, 365, n)
    src = rng.choice(n, follow_ups, replace=False)
    x = np.r_[x, x[src] + rng.normal(0, 25, follow_ups)]
    y = np.r_[y, y[src] + rng.normal(0, 25, follow_ups)]
    t = np.r_[t, t[src] + rng.uniform(0, 5, follow_ups)]
    return pd.DataFrame(
        {
            "time": pd.Timestamp("2020-01-01") + pd.to_timedelta(t, unit="D"),
            "precision": "minute",
            "x": x,
            "y": y,
            "category": "assault",
        }
    )


def test_planted_near_repeats_are_found_and_proposed():
    res = knox(synthetic(150), D_EDGES, T_EDGES, n_replicas=99)
    assert res.ratio[0, 0] > 3 and res.p_value[0, 0] == pytest.approx(0.01)
    plan = res.proposal()
    assert plan["raised"] and plan["radius_m"] == 100 and plan["days"] in (3, 7)


def test_no_planted_pattern_proposes_nothing():
    res = knox(synthetic(0), D_EDGES, T_EDGES, n_replicas=99)
    assert res.p_value[0, 0] > 0.05
    assert res.proposal() == {"radius_m": None, "days": None, "raised": False, "alpha": 0.05}


def test_month_only_times_and_bad_bands_are_refused(chicago_slice):
    with pytest.raises(ModelInputError, match="to the day"):
        knox(chicago_slice.assign(precision="month"))
    with pytest.raises(ModelInputError, match="distance_edges must rise from 0"):
        knox(chicago_slice, distance_edges=(100, 50))
