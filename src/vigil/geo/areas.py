"""Area polygons (LSOA, ward, borough) and point-to-area assignment.

Areas come from shapefiles, GeoPackages, GeoJSON or zipped shapefiles and are always reprojected
to a metric working CRS (British National Grid for UK data) so they line up with the grids and
projected incidents. Every area frame has an ``area_id`` column (unique, non-empty) and a
``name`` column; the source's other attributes are kept beside them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from vigil.errors import DataError
from vigil.geo.projection import BNG, working_crs
from vigil.settings import shared_data_dir

LONDON_BOROUGHS = Path("london-boundaries-extra") / "london_boroughs.gpkg"
LONDON_WARDS = Path("london-boundaries-extra") / "london_wards.zip"
LONDON_LSOAS = Path("london-geography") / "boundaries" / "london-2011-lsoa-gen20.shp"


def _same_crs(a: CRS, target: CRS) -> bool:
    if a.equals(target, ignore_axis_order=True):
        return True
    epsg = a.to_epsg(min_confidence=70)
    return epsg is not None and epsg == target.to_epsg()


def load_areas(
    path: Path | str,
    id_field: str,
    name_field: str | None = None,
    crs: str | None = None,
    *,
    layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Area polygons from ``path``, reprojected to ``crs`` (default: BNG for UK data, else UTM).

    Raises DataError naming the file and field when the id field is missing, blank or repeated,
    or when the layer has no CRS to reproject from.
    """
    path = Path(path)
    if not path.exists():
        raise DataError("area file not found", file=str(path))
    try:
        gdf = gpd.read_file(path, layer=layer) if layer else gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise DataError(f"cannot read area polygons: {exc}", file=str(path)) from exc
    for f in (id_field, name_field):
        if f is not None and f not in gdf.columns:
            cols = ", ".join(c for c in gdf.columns if c != "geometry")
            raise DataError(f"no such attribute (attributes: {cols})", file=str(path), field=f)
    if gdf.crs is None:
        raise DataError("layer has no coordinate reference system", file=str(path))
    ids = gdf[id_field].astype("string").str.strip()
    blank = ids.isna() | (ids == "")
    if blank.any():
        row = int(np.flatnonzero(blank.to_numpy())[0]) + 1
        raise DataError("blank area id", file=str(path), row=row, field=id_field)
    dup = ids.duplicated()
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0]) + 1
        what = f"area id {ids[dup].iloc[0]!r} repeated"
        raise DataError(what, file=str(path), row=row, field=id_field)
    empty = gdf.geometry.isna() | gdf.geometry.is_empty
    if empty.any():
        row = int(np.flatnonzero(empty.to_numpy())[0]) + 1
        raise DataError("area has no geometry", file=str(path), row=row, field="geometry")

    if crs is None:
        ll = gdf.geometry.representative_point().to_crs("EPSG:4326")
        crs = working_crs(ll.x.to_numpy(), ll.y.to_numpy())
    target = CRS.from_user_input(crs)
    if _same_crs(CRS.from_user_input(gdf.crs), target):
        gdf = gdf.set_crs(target, allow_override=True)
    else:
        gdf = gdf.to_crs(target)
    names = gdf[name_field].astype("string") if name_field else ids
    attrs = gdf.drop(columns=[c for c in ("area_id", "name") if c in gdf.columns])
    attrs.insert(0, "area_id", ids.to_numpy())
    attrs.insert(1, "name", names.to_numpy())
    out = gpd.GeoDataFrame(attrs, geometry=gdf.geometry.name, crs=target)
    out["geometry"] = shapely.make_valid(out.geometry.to_numpy())
    return out.reset_index(drop=True)


def assign_points(
    x: np.ndarray | pd.Series, y: np.ndarray | pd.Series, areas: gpd.GeoDataFrame
) -> np.ndarray:
    """The ``area_id`` containing each point (same CRS as ``areas``), or None outside them all.

    Vectorised through an STRtree; a point on a shared edge goes to the first area listed.
    """
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    if xa.shape != ya.shape:
        raise ValueError(f"x and y differ in shape: {xa.shape} vs {ya.shape}")
    out = np.full(xa.shape, None, dtype=object)
    ok = np.isfinite(xa) & np.isfinite(ya)
    if not ok.any() or len(areas) == 0:
        return out
    pts = shapely.points(xa[ok], ya[ok])
    tree = shapely.STRtree(areas.geometry.to_numpy())
    pi, ai = tree.query(pts, predicate="intersects")
    order = np.lexsort((ai, pi))
    pi, ai = pi[order], ai[order]
    first = np.ones(len(pi), dtype=bool)
    first[1:] = pi[1:] != pi[:-1]
    hits = np.full(pts.shape, None, dtype=object)
    hits[pi[first]] = areas["area_id"].to_numpy(dtype=object)[ai[first]]
    out[ok] = hits
    return out


# ---------------------------------------------------------------------- ready loaders
@lru_cache(maxsize=8)
def _cached(path: Path, id_field: str, name_field: str) -> gpd.GeoDataFrame:
    return load_areas(path, id_field, name_field, crs=BNG)


def london_boroughs(shared: Path | None = None) -> gpd.GeoDataFrame:
    """The 33 London boroughs (32 + City of London), BNG; area_id is the GSS code (E09...)."""
    return _cached(shared_data_dir(shared) / LONDON_BOROUGHS, "gss_code", "name").copy()


def london_lsoas(shared: Path | None = None) -> gpd.GeoDataFrame:
    """The 4,835 London LSOAs of 2011 (generalised to 20 m), BNG; area_id is LSOA11CD."""
    return _cached(shared_data_dir(shared) / LONDON_LSOAS, "LSOA11CD", "LSOA11NM").copy()


def london_wards(shared: Path | None = None) -> gpd.GeoDataFrame:
    """The 654 London wards of the 2014-2022 scheme, BNG; area_id is the ward GSS code."""
    return _cached(shared_data_dir(shared) / LONDON_WARDS, "GSS_CODE", "NAME").copy()


@lru_cache(maxsize=4)
def _boundary(path: Path) -> BaseGeometry:
    boroughs = _cached(path, "gss_code", "name")
    return shapely.union_all(boroughs.geometry.to_numpy())


def london_boundary(shared: Path | None = None) -> BaseGeometry:
    """Greater London as one (multi)polygon in BNG: the union of the boroughs, cached."""
    return _boundary(shared_data_dir(shared) / LONDON_BOROUGHS)


# ---------------------------------------------------------------------- region checks
@lru_cache(maxsize=8)
def _region(spec: str, shared: Path) -> tuple[BaseGeometry, str]:
    if spec.lower() == "london":
        return _boundary(shared / LONDON_BOROUGHS), BNG
    path = Path(spec)
    if not path.exists():
        raise DataError("region boundary: not 'london' and no such file", file=spec)
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:
        raise DataError(f"cannot read region boundary: {exc}", file=spec) from exc
    if gdf.crs is None:
        raise DataError("region boundary has no coordinate reference system", file=spec)
    crs = "EPSG:4326" if gdf.crs.is_geographic else str(gdf.crs.to_string())
    gdf = gdf.to_crs(crs)
    geom = shapely.union_all(shapely.make_valid(gdf.geometry.to_numpy()))
    shapely.prepare(geom)
    return geom, crs


def points_inside(
    lon: np.ndarray, lat: np.ndarray, spec: str, shared: Path | None = None
) -> np.ndarray:
    """Whether each WGS84 point lies in the region ``spec`` ("london": the borough union, or a
    polygon file); points without coordinates count as inside (nothing to judge)."""
    from vigil.geo.projection import to_metres

    geom, crs = _region(spec, shared_data_dir(shared))
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    inside = np.ones(lon.shape, dtype=bool)
    if ok.any():
        if crs == "EPSG:4326":
            x, y = lon[ok], lat[ok]
        else:
            x, y = to_metres(lon[ok], lat[ok], crs)
        inside[ok] = shapely.intersects_xy(geom, x, y)
    return inside
