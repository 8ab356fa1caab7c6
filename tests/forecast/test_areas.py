"""Aggregating a London grid surface to LSOAs and wards (london-geography boundaries)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest

from vigil.errors import ModelInputError
from vigil.forecast.areas import to_polygons
from vigil.forecast.registry import make_model
from vigil.geo.areas import london_wards


@pytest.fixture(scope="module")
def surface(london, london_grid):
    return (
        make_model("kde", bandwidth=300)
        .fit(london, "2022-10-01", london_grid)
        .predict("2022-10-01", "2022-11-01")
    )


def test_wards_keep_the_total_and_the_hotspot(surface, london):
    wards = london_wards()
    poly = to_polygons(surface, wards, "area_id")
    assert len(poly) == len(wards) == 654
    assert poly.risk.sum() == pytest.approx(surface.risk.sum(), rel=1e-4)
    assert poly.geometry is not None and poly.area_m2 is not None
    # the ward forecast ranks like the ward counts of the month that followed
    october = london[london.time == "2022-10-01"]
    pts = gpd.GeoSeries(gpd.points_from_xy(october.x, october.y), crs=surface.crs)
    hit = wards.sindex.query(pts.to_numpy(), predicate="within")
    observed = np.bincount(hit[1], minlength=len(wards))
    assert np.corrcoef(poly.risk, observed)[0, 1] > 0.9
    # the top wards carry a driver breakdown that sums to their risk
    top = poly.top(3)
    assert top[["long_run", "recent", "near_repeat"]].notna().all().all()
    np.testing.assert_allclose(top[["long_run", "recent", "near_repeat"]].sum(axis=1), top.risk)
    assert poly.to_geojson()["features"][0]["geometry"]["type"] in {"Polygon", "MultiPolygon"}


def test_bad_area_tables_are_named(surface):
    wards = london_wards()
    with pytest.raises(ModelInputError, match="column 'code' not in"):
        to_polygons(surface, wards, "code")
    with pytest.raises(ModelInputError, match="appears more than once"):
        to_polygons(surface, gpd.GeoDataFrame(wards.iloc[[0, 0]]), "area_id")
