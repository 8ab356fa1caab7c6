"""Any city: the study area from a boundary file, or a land mask the user is told about.

Synthetic city (no real boundary file is used, so the code cannot lean on one it knows): two
districts of incidents 4 km apart across an empty "lake", in UTM 16N metres, and a boundary
drawn around the west district only, written as GeoJSON in WGS84 as a user would export it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from vigil.errors import DataError
from vigil.evaluate.study_area import (
    ACTIVITY_NAME,
    ACTIVITY_RADIUS,
    activity_grid,
    read_boundary,
    study_area,
    study_grid,
)
from vigil.forecast.registry import DEFAULT_MODEL, make_model
from vigil.geo.projection import to_lonlat

CRS = "EPSG:32616"
X0, Y0 = 440_000.0, 4_300_000.0  # rural Illinois: no boundary Vigil knows


def city(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 800
    west = rng.random(n) < 0.5
    x = np.where(west, rng.uniform(X0, X0 + 2000, n), rng.uniform(X0 + 6000, X0 + 8000, n))
    y = rng.uniform(Y0, Y0 + 2000, n)
    lon, lat = to_lonlat(x, y, CRS)
    return pd.DataFrame(
        {
            "time": pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.uniform(0, 300, n), "D"),
            "precision": "minute",
            "x": x,
            "y": y,
            "lon": lon,
            "lat": lat,
            "category": "violence",
        }
    )


def write_boundary(path: Path, box: tuple[float, float, float, float]) -> Path:
    xmin, ymin, xmax, ymax = box
    xs = np.array([xmin, xmax, xmax, xmin, xmin])
    ys = np.array([ymin, ymin, ymax, ymax, ymin])
    lon, lat = to_lonlat(xs, ys, CRS)
    feature = {
        "type": "Feature",
        "properties": {"name": "west district"},
        "geometry": {"type": "Polygon", "coordinates": [np.c_[lon, lat].tolist()]},
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return path


def test_a_boundary_file_clips_the_grid(tmp_path: Path):
    df = city()
    path = write_boundary(tmp_path / "west.geojson", (X0 - 100, Y0 - 100, X0 + 2100, Y0 + 2100))
    boundary, name = study_area(df, CRS, boundary_file=path)
    assert name == "boundary file west.geojson"
    assert boundary.area == pytest.approx(2200 * 2200, rel=0.01)
    grid = study_grid(df, boundary, 250.0, CRS)
    x, _ = grid.centres()
    assert x.max() < X0 + 2300  # nothing east of the boundary
    assert grid.n_cells == pytest.approx((2200 / 250 + 1) ** 2, rel=0.25)
    # the default model forecasts on it
    s = make_model(DEFAULT_MODEL).fit(df, "2021-10-28", grid).predict("2021-10-28", "2021-11-04")
    assert len(s) == grid.n_cells and s.risk.sum() > 0


def test_without_a_boundary_the_lake_is_masked_out():
    df = city()
    boundary, name = study_area(df, CRS)
    assert boundary is None and name == ACTIVITY_NAME and "land mask" in name
    grid = study_grid(df, None, 250.0, CRS)
    x, _ = grid.centres()
    lake = (x > X0 + 2000 + ACTIVITY_RADIUS + 250) & (x < X0 + 6000 - ACTIVITY_RADIUS - 250)
    assert not lake.any()
    # both districts and their margins are in: (2 km + 2 x 500 m)^2 each, roughly
    assert grid.n_cells == pytest.approx(2 * (3000 / 250) ** 2, rel=0.2)
    # every incident is in an active cell
    assert (grid.locate(df.x.to_numpy(), df.y.to_numpy()) >= 0).all()
    assert activity_grid(df, 250.0, CRS, radius=0.0).n_cells < grid.n_cells


def test_bad_boundary_files_are_named(tmp_path: Path):
    df = city()
    with pytest.raises(DataError, match="not found"):
        study_area(df, CRS, boundary_file=tmp_path / "none.geojson")
    pts = tmp_path / "points.geojson"
    pts.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": {"type": "Point", "coordinates": [-87.6, 41.9]},
                    }
                ],
            }
        )
    )
    with pytest.raises(DataError, match="points.geojson.*no polygons"):
        read_boundary(pts, CRS)
    far = write_boundary(tmp_path / "far.geojson", (X0 + 20_000, Y0, X0 + 22_000, Y0 + 2000))
    with pytest.raises(DataError, match="no incident lies inside"):
        study_area(df, CRS, boundary_file=far)
    junk = tmp_path / "junk.geojson"
    junk.write_text("not json")
    with pytest.raises(DataError, match="junk.geojson"):
        read_boundary(junk, CRS)
    tiny = write_boundary(tmp_path / "ok.geojson", (X0, Y0, X0 + 10, Y0 + 10))
    assert shapely.is_valid(read_boundary(tiny, CRS))
