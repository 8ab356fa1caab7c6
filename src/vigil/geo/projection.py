"""Projections to a metric working CRS.

Distances and cell sizes are in metres, so points are projected before any spatial work: British
National Grid (EPSG:27700) for UK data, the local UTM zone elsewhere. pyproj's bundled data gives
about 2 m accuracy for BNG without the OSTN15 grid, ample for 150-250 m cells.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from pyproj import CRS, Transformer

BNG = "EPSG:27700"
WGS84 = "EPSG:4326"

# Rough extent of Great Britain and Northern Ireland in lon/lat.
_UK_BOUNDS = (-8.7, 49.8, 1.9, 60.9)


def working_crs(lon: np.ndarray | pd.Series, lat: np.ndarray | pd.Series) -> str:
    """BNG when the points are in the UK, else the UTM zone of their median point."""
    lon_a = np.asarray(lon, dtype=float)
    lat_a = np.asarray(lat, dtype=float)
    ok = np.isfinite(lon_a) & np.isfinite(lat_a)
    if not ok.any():
        raise ValueError("no finite coordinates to choose a projection from")
    mlon, mlat = float(np.median(lon_a[ok])), float(np.median(lat_a[ok]))
    x0, y0, x1, y1 = _UK_BOUNDS
    if x0 <= mlon <= x1 and y0 <= mlat <= y1:
        return BNG
    zone = int((mlon + 180) // 6) + 1
    return f"EPSG:{(32600 if mlat >= 0 else 32700) + zone}"


@lru_cache(maxsize=32)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst), always_xy=True)


def to_metres(
    lon: np.ndarray | pd.Series, lat: np.ndarray | pd.Series, crs: str
) -> tuple[np.ndarray, np.ndarray]:
    """Project WGS84 lon/lat to ``crs``; non-finite inputs stay NaN."""
    x, y = _transformer(WGS84, crs).transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x, float), np.asarray(y, float)


def to_lonlat(
    x: np.ndarray | pd.Series, y: np.ndarray | pd.Series, crs: str
) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = _transformer(crs, WGS84).transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(lon, float), np.asarray(lat, float)


def with_xy(incidents: pd.DataFrame, crs: str | None = None) -> tuple[pd.DataFrame, str]:
    """A copy of ``incidents`` with projected ``x``/``y`` columns, and the CRS used."""
    crs = crs or working_crs(incidents["lon"], incidents["lat"])
    x, y = to_metres(incidents["lon"], incidents["lat"], crs)
    out = incidents.copy()
    out["x"] = x
    out["y"] = y
    return out, crs
