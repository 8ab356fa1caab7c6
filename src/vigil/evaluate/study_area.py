"""The land a forecast is judged over: which boundary clips the grid for a dataset.

Area-normalised scores (PAI, hit rate at x % of the area) are only honest over the land where
incidents could occur: a box around Chicago is a third Lake Michigan, and a box around London
is a quarter Home Counties. Known study areas get their real boundary; anything else falls back
to the box around the incidents, and says so.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from vigil.geo.grid import Grid
from vigil.geo.projection import BNG, to_metres

CHICAGO_DISTRICTS = Path("chicago-aggravated-assaults-2010-2016") / "chicago_police_districts.kml"


def _shared(shared: Path | None) -> Path:
    """``vigil.settings.shared_data_dir``, imported here so the library loads no settings."""
    from vigil.settings import shared_data_dir

    return shared_data_dir(shared)


@lru_cache(maxsize=4)
def _chicago(path: Path, crs: str) -> BaseGeometry:
    import geopandas as gpd

    districts = gpd.read_file(path).to_crs(crs)
    return shapely.union_all(districts.geometry.to_numpy())


def chicago_boundary(crs: str, shared: Path | None = None) -> BaseGeometry:
    """The 25 Chicago police districts as one polygon in ``crs`` (Lake Michigan excluded)."""
    return _chicago((_shared(shared) / CHICAGO_DISTRICTS).resolve(), crs)


def study_area(
    incidents: pd.DataFrame, crs: str, shared: Path | None = None
) -> tuple[BaseGeometry | None, str]:
    """The boundary to clip grids to for these incidents, and its name.

    London data (BNG, median point inside Greater London) get the union of the boroughs;
    Chicago data the police districts; other data ``None`` (the box around the incidents).
    """
    lon = incidents["lon"].to_numpy(float)
    lat = incidents["lat"].to_numpy(float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return None, "box around the incidents"
    mlon, mlat = float(np.median(lon[ok])), float(np.median(lat[ok]))
    if crs == BNG:
        from vigil.geo.areas import london_boundary

        london = london_boundary(shared)
        mx, my = to_metres(np.array([mlon]), np.array([mlat]), BNG)
        if london.contains(shapely.Point(mx[0], my[0])):
            return london, "Greater London (borough boundaries)"
    if -88.0 < mlon < -87.5 and 41.6 < mlat < 42.1:
        path = _shared(shared) / CHICAGO_DISTRICTS
        if path.is_file():
            return chicago_boundary(crs, shared), "City of Chicago (police districts)"
    return None, "box around the incidents"


def study_grid(
    incidents: pd.DataFrame,
    boundary: BaseGeometry | None,
    cell: float,
    crs: str,
    offset: tuple[float, float] = (0.0, 0.0),
) -> Grid:
    """The grid of ``cell`` metres clipped to ``boundary``, or over the box around the
    incidents' ``x``/``y`` when there is none."""
    if boundary is not None:
        return Grid.from_boundary(boundary, cell=cell, crs=crs, offset=offset)
    x, y = incidents["x"].to_numpy(float), incidents["y"].to_numpy(float)
    xmin, ymin, xmax, ymax = np.nanmin(x), np.nanmin(y), np.nanmax(x), np.nanmax(y)
    return Grid.from_bounds(xmin, ymin, xmax, ymax, cell, crs, offset)
