"""The land a forecast is judged over: which boundary clips the grid for a dataset.

Area-normalised scores (PAI, hit rate at x % of the area) are only honest over the land where
incidents could occur: a box around Chicago is a third Lake Michigan, and a box around London
is a quarter Home Counties. A boundary file (GeoJSON, shapefile, GeoPackage, KML: any polygons
geopandas reads) is used when given; known study areas get their real boundary; anything else
falls back to a land mask, the cells within ``ACTIVITY_RADIUS`` metres of any incident (water,
parks and land outside the city hold no incidents, so they drop out), and says so.
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

#: Cells further than this from every incident are outside the fallback land mask (metres).
ACTIVITY_RADIUS = 500.0
ACTIVITY_NAME = (
    f"land mask: cells within {ACTIVITY_RADIUS:g} m of an incident (no boundary known; "
    "give a boundary file for the real one)"
)

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


def read_boundary(path: str | Path, crs: str) -> BaseGeometry:
    """The union of the polygons in a boundary file, in ``crs``; DataError naming the file when
    it cannot be read or holds no polygons (a file without a CRS is taken as WGS84, as GeoJSON
    says)."""
    import geopandas as gpd

    from vigil.errors import DataError

    path = Path(path)
    if not path.is_file():
        raise DataError("boundary file not found", file=str(path))
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure is the file's fault here
        raise DataError(f"cannot read it as a boundary: {exc}", file=str(path)) from None
    geoms = frame.geometry.to_numpy() if len(frame) else np.array([])
    polys = [g for g in geoms if g is not None and g.geom_type in ("Polygon", "MultiPolygon")]
    if not polys:
        raise DataError("holds no polygons: a boundary must be a (multi)polygon", file=str(path))
    if frame.crs is None:
        frame = frame.set_crs("EPSG:4326")
    polys_frame = gpd.GeoSeries(polys, crs=frame.crs).to_crs(crs)
    return shapely.union_all(polys_frame.to_numpy())


def study_area(
    incidents: pd.DataFrame,
    crs: str,
    shared: Path | None = None,
    boundary_file: str | Path | None = None,
) -> tuple[BaseGeometry | None, str]:
    """The boundary to clip grids to for these incidents, and its name.

    A ``boundary_file`` wins (DataError if no incident falls inside it); London data (BNG,
    median point inside Greater London) get the union of the boroughs; Chicago data the police
    districts; other data ``None``: ``study_grid`` then keeps the land mask (ACTIVITY_NAME).
    """
    if boundary_file is not None:
        boundary = read_boundary(boundary_file, crs)
        x, y = incidents["x"].to_numpy(float), incidents["y"].to_numpy(float)
        ok = np.isfinite(x) & np.isfinite(y)
        if ok.any() and not shapely.contains_xy(boundary, x[ok], y[ok]).any():
            from vigil.errors import DataError

            raise DataError(
                "no incident lies inside this boundary: wrong file, or wrong coordinates?",
                file=str(boundary_file),
            )
        return boundary, f"boundary file {Path(boundary_file).name}"
    lon = incidents["lon"].to_numpy(float)
    lat = incidents["lat"].to_numpy(float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return None, ACTIVITY_NAME
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
    return None, ACTIVITY_NAME


def study_grid(
    incidents: pd.DataFrame,
    boundary: BaseGeometry | None,
    cell: float,
    crs: str,
    offset: tuple[float, float] = (0.0, 0.0),
) -> Grid:
    """The grid of ``cell`` metres clipped to ``boundary``, or, when there is none, the land
    mask: the cells of the box around the incidents whose centre lies within
    ``ACTIVITY_RADIUS`` of a cell holding an incident."""
    if boundary is not None:
        return Grid.from_boundary(boundary, cell=cell, crs=crs, offset=offset)
    return activity_grid(incidents, cell, crs, offset)


def activity_grid(
    incidents: pd.DataFrame,
    cell: float,
    crs: str,
    offset: tuple[float, float] = (0.0, 0.0),
    radius: float = ACTIVITY_RADIUS,
) -> Grid:
    """Cells within ``radius`` metres (centre to centre) of a cell with an incident."""
    from scipy.ndimage import binary_dilation

    x, y = incidents["x"].to_numpy(float), incidents["y"].to_numpy(float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    pad = radius
    box = Grid.from_bounds(
        x.min() - pad, y.min() - pad, x.max() + pad, y.max() + pad, cell, crs, offset
    )
    seen = (box.counts(x, y) > 0).reshape(box.ny, box.nx)
    r = int(np.floor(radius / cell))
    off = np.arange(-r, r + 1)
    disk = np.hypot(off[:, None], off[None, :]) * cell <= radius + 1e-9
    mask = binary_dilation(seen, structure=disk).ravel()
    active = np.flatnonzero(mask)
    return Grid(box.x0, box.y0, box.cell, box.nx, box.ny, crs, active, np.ones(active.size))
