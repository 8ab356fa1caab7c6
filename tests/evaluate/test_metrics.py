"""Coverage metrics: hand-worked cases, then a check on real London counts.

The real-data test uses London 2022 "violent or sexual" police.uk points
(/work/shared/data/met-street-2022), counted on a 250 m grid clipped to the borough union.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from vigil.evaluate import metrics as m
from vigil.forecast.surface import RiskSurface
from vigil.geo.grid import Grid
from vigil.geo.projection import BNG, to_metres


def test_hit_rate_takes_boundary_cell_pro_rata():
    risk = np.array([5.0, 4.0, 3.0, 2.0])
    observed = np.array([2.0, 0.0, 4.0, 4.0])
    area = np.array([1.0, 1.0, 2.0, 6.0])  # total 10
    # 10 % of area = 1 m^2: the top cell alone -> 2 of 10 incidents
    assert m.hit_rate(risk, observed, area, 0.10) == pytest.approx(0.2)
    # 30 % = 3 m^2: cells 0, 1 and half of cell 2 (area 2) -> (2 + 0 + 2) / 10
    assert m.hit_rate(risk, observed, area, 0.30) == pytest.approx(0.4)
    assert m.pai(risk, observed, area, 0.30) == pytest.approx(0.4 / 0.3)
    assert m.hit_rate(risk, observed, area, 1.0) == pytest.approx(1.0)


def test_ties_are_taken_as_one_block():
    # cells 1..3 tie; half of the tie block is taken: expected hits under random tie-breaking
    risk = np.array([9.0, 1.0, 1.0, 1.0, 0.0])
    observed = np.array([0.0, 3.0, 0.0, 0.0, 1.0])
    area = np.ones(5)
    hr = m.hit_rate(risk, observed, area, 0.5)  # 2.5 cells: cell 0 + 1.5 of the 3 tied
    assert hr == pytest.approx((0.5 * 3) / 4)
    # the answer must not depend on where the tied cell with incidents sits
    assert m.hit_rate(risk[[0, 3, 2, 1, 4]], observed[[0, 3, 2, 1, 4]], area, 0.5) == hr


def test_pei_and_pei_star():
    risk = np.array([3.0, 2.0, 1.0, 0.5])
    observed = np.array([0.0, 2.0, 1.0, 0.0])
    area = np.ones(4)
    # half the area (2 cells): forecast holds 2 of 3; the best two cells hold 3
    assert m.max_hits(observed, area, 0.5) == 3
    assert m.pei(risk, observed, area, 0.5) == pytest.approx(2 / 3)
    # both cells with incidents fit in the selection: a* = a, so PEI* = PEI here
    assert m.pei_star(risk, observed, area, 0.5) == pytest.approx(2 / 3)
    # 75 %: the forecast holds all 3 (PEI 1) but used 3 cells where 2 suffice: PEI* = 2/3
    assert m.pei(risk, observed, area, 0.75) == pytest.approx(1.0)
    assert m.pei_star(risk, observed, area, 0.75) == pytest.approx(2 / 3)
    # a perfect forecast scores 1 on both
    assert m.pei_star(observed, observed, area, 0.5) == pytest.approx(1.0)


def test_no_incidents_gives_nan_not_zero():
    z = np.zeros(3)
    assert np.isnan(m.hit_rate([1, 2, 3], z, np.ones(3), 0.5))
    assert np.isnan(m.pei_star([1, 2, 3], z, np.ones(3), 0.5))


def test_poisson_log_likelihood_matches_scipy():
    from scipy.stats import poisson

    risk = np.array([0.5, 2.0, 0.0, 3.0])
    observed = np.array([0, 3, 0, 1])
    want = poisson.logpmf(observed[[0, 1, 3]], risk[[0, 1, 3]]).sum()  # log P(0 | 0) = 0
    assert m.poisson_log_likelihood(risk, observed) == pytest.approx(want)
    # an incident where the forecast said zero costs log(floor), finite
    ll = m.poisson_log_likelihood([0.0], [1])
    assert np.isfinite(ll) and ll < -20


def test_bad_input_names_the_problem():
    with pytest.raises(m.MetricInputError, match="same length|one length"):
        m.hit_rate([1, 2], [1], [1, 1], 0.1)
    with pytest.raises(m.MetricInputError, match="risk.*index 1"):
        m.hit_rate([1, np.nan], [1, 1], [1, 1], 0.1)
    with pytest.raises(m.MetricInputError, match="fraction"):
        m.hit_rate([1, 2], [1, 1], [1, 1], 0.0)


def _surface(risk, grid):
    x, y = grid.centres()
    return RiskSurface(
        area_id=grid.area_ids(),
        x=x,
        y=y,
        risk=np.asarray(risk, float),
        crs=grid.crs,
        start=pd.Timestamp("2022-07-01"),
        end=pd.Timestamp("2022-08-01"),
        model="test",
        grid=grid,
    )


def test_stability_is_jaccard_of_selected_area():
    grid = Grid.from_bounds(0, 0, 999, 999, cell=100, crs=BNG)  # 10 x 10
    r1 = np.arange(100, dtype=float)
    r2 = r1.copy()
    r2[[99, 98]] = 0.0  # week 1's top two cells drop out of week 2's top
    a, b = _surface(r1, grid), _surface(r2, grid)
    # top 10 % = 10 cells; they share 8: Jaccard 8 / 12
    assert m.top_area_stability(a, b, 0.10) == pytest.approx(8 / 12)
    assert m.top_area_stability(a, a, 0.05) == pytest.approx(1.0)


@pytest.fixture(scope="module")
def london_counts(shared_data):
    boroughs = gpd.read_file(shared_data / "london-boundaries-extra" / "london_boroughs.gpkg")
    london = shapely.union_all(boroughs.to_crs(BNG).geometry.values)
    grid = Grid.from_boundary(london, cell=250, crs=BNG)
    df = pd.read_csv(
        shared_data / "met-street-2022" / "london_crimes_2022.csv.gz",
        usecols=["month", "type", "longitude", "latitude", "borough_pip"],
    )
    df = df[(df["type"] == "violent or sexual") & df["borough_pip"].notna()]
    x, y = to_metres(df["longitude"], df["latitude"], BNG)
    june = (df["month"] == "2022-06").to_numpy()
    july = (df["month"] == "2022-07").to_numpy()
    return grid, grid.counts(x[june], y[june]), grid.counts(x[july], y[july])


def test_real_london_last_month_beats_random_and_respects_bounds(london_counts):
    grid, june, july = london_counts
    area = grid.clipped_area
    rng = np.random.default_rng(0)
    for f in m.FRACTIONS:
        hr = m.hit_rate(june, july, area, f)
        # June's counts are a strong forecast of July's: far above the area share ...
        assert hr > 3 * f
        # ... but cannot beat perfect hindsight
        assert hr <= m.max_hits(july, area, f) / july.sum() + 1e-12
        assert 0 < m.pei_star(june, july, area, f) <= 1 + 1e-9
        # a random ranking captures about the area share
        assert m.hit_rate(rng.random(area.size), july, area, f) < 2 * f + 0.01
    scores = m.score(june, july, area)
    assert scores["observed"] == july.sum() > 15_000
    assert scores["pai@0.01"] == pytest.approx(scores["hit_rate@0.01"] / 0.01)


def test_score_matches_the_single_metrics(london_counts):
    # score() shares one sort across fractions; it must agree with each metric computed alone
    grid, june, july = london_counts
    area = grid.clipped_area
    scores = m.score(june, july, area)
    curve = m.hit_rate_curve(june, july, area, m.FRACTIONS)
    for f, c in zip(m.FRACTIONS, curve, strict=True):
        assert scores[f"hit_rate@{f:g}"] == pytest.approx(m.hit_rate(june, july, area, f))
        assert c == pytest.approx(scores[f"hit_rate@{f:g}"])
        assert scores[f"pei@{f:g}"] == pytest.approx(m.pei(june, july, area, f))
        assert scores[f"pei_star@{f:g}"] == pytest.approx(m.pei_star(june, july, area, f))
    jac = m.selection_jaccards(june, july, area, m.FRACTIONS)
    assert jac == pytest.approx([m.selection_jaccard(june, july, area, f) for f in m.FRACTIONS])
