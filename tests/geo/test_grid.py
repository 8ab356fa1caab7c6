"""Grid clipping and lookup on the real London borough boundaries."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from vigil.geo.grid import Grid
from vigil.geo.projection import BNG, to_lonlat, to_metres, working_crs


@pytest.fixture(scope="module")
def london(shared_data):
    boroughs = gpd.read_file(shared_data / "london-boundaries-extra" / "london_boroughs.gpkg")
    return shapely.union_all(boroughs.to_crs(BNG).geometry.values)


def test_clipped_grid_covers_london_area(london):
    grid = Grid.from_boundary(london, cell=250, crs=BNG)
    # London is about 1,572 km^2; the clipped cell areas must add up to the boundary area.
    assert grid.clipped_area.sum() == pytest.approx(london.area, rel=1e-6)
    assert 1.5e9 < grid.clipped_area.sum() < 1.65e9
    assert (grid.coverage > 0).all() and (grid.coverage <= 1).all()
    assert grid.n_cells < grid.nx * grid.ny  # corners outside London are dropped


def test_locate_and_roundtrip(london):
    grid = Grid.from_boundary(london, cell=250, crs=BNG)
    # Trafalgar Square is in London; a point in the sea is not.
    x, y = to_metres(np.array([-0.1281, 1.5]), np.array([51.5080, 51.0]), BNG)
    idx = grid.locate(x, y)
    assert idx[0] >= 0 and idx[1] == -1
    cx, cy = grid.centres()
    assert abs(cx[idx[0]] - x[0]) <= 125 and abs(cy[idx[0]] - y[0]) <= 125
    again = Grid.from_dict(grid.to_dict())
    assert np.array_equal(again.locate(x, y), idx)


def test_offset_moves_cell_edges():
    a = Grid.from_bounds(0, 0, 1000, 1000, 100, BNG)
    b = Grid.from_bounds(0, 0, 1000, 1000, 100, BNG, offset=(50, 50))
    assert a.x0 == 0 and b.x0 == -50


def test_working_crs_choice():
    assert working_crs(np.array([-0.1]), np.array([51.5])) == BNG
    assert working_crs(np.array([-87.6]), np.array([41.8])) == "EPSG:32616"
    lon, lat = to_lonlat(*to_metres(np.array([-0.1]), np.array([51.5]), BNG), BNG)
    assert lon[0] == pytest.approx(-0.1, abs=1e-6) and lat[0] == pytest.approx(51.5, abs=1e-6)
