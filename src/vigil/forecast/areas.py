"""Risk per polygon (LSOAs, wards, beats) from a fine grid surface.

Commanders authorise areas that people recognise, not 250 m squares. Each grid cell's expected
count is shared among the polygons it overlaps in proportion to the overlapping area, so totals
are kept: a polygon's risk is the expected count inside it under the grid model's assumption
that risk is even within a cell.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from vigil.errors import ModelInputError
from vigil.forecast.surface import DRIVER_COLUMNS, RiskSurface

#: Share of a polygon's risk that must come from cells with a driver breakdown to report one.
MIN_DRIVER_COVER = 0.5


def cell_shares(
    cells: np.ndarray, geoms: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """How each cell is shared among the polygons it overlaps, in proportion to the overlap.

    Returns (cell index, polygon index, share of the cell's overlapping area) for every
    cell-polygon pair that overlaps, and each cell's whole overlap in m^2 (0: it touches no
    polygon).
    """
    tree = shapely.STRtree(geoms)
    cell_idx, poly_idx = tree.query(cells, predicate="intersects")
    inter = shapely.area(shapely.intersection(cells[cell_idx], geoms[poly_idx]))
    keep = inter > 0
    ci, pi, inter = cell_idx[keep], poly_idx[keep], inter[keep]
    per_cell = np.bincount(ci, weights=inter, minlength=len(cells))
    return ci, pi, inter / per_cell[ci], per_cell


def to_polygons(surface: RiskSurface, areas_gdf: gpd.GeoDataFrame, id_col: str) -> RiskSurface:
    """Aggregate a grid ``surface`` to the polygons of ``areas_gdf`` (area-weighted).

    ``areas_gdf`` is reprojected to the surface's CRS. Risk in cells that touch no polygon is
    left out and its share reported in ``params["risk_outside_polygons"]``; the drivers of the
    top polygons are aggregated from the cells' drivers where cells with drivers hold at least
    half of the polygon's risk.
    """
    if id_col not in areas_gdf.columns:
        raise ModelInputError(
            f"to_polygons: column {id_col!r} not in the area table (columns: "
            f"{', '.join(map(str, areas_gdf.columns))})"
        )
    if surface.grid is None:
        raise ModelInputError("to_polygons needs a grid surface (its areas are already polygons)")
    if areas_gdf.crs is None:
        raise ModelInputError("to_polygons: the area table has no CRS; set it before aggregating")
    if areas_gdf[id_col].duplicated().any():
        dup = areas_gdf.loc[areas_gdf[id_col].duplicated(), id_col].iloc[0]
        raise ModelInputError(f"to_polygons: area id {dup!r} appears more than once in {id_col!r}")
    if not CRS.from_user_input(areas_gdf.crs).equals(CRS.from_user_input(surface.crs)):
        areas_gdf = areas_gdf.to_crs(surface.crs)
    geoms = shapely.make_valid(areas_gdf.geometry.to_numpy())
    ci, pi, share, per_cell = cell_shares(surface.polygons(), geoms)
    n = len(geoms)
    risk = np.asarray(surface.risk, float)
    poly_risk = np.bincount(pi, weights=risk[ci] * share, minlength=n)
    lost = float(risk[per_cell == 0].sum())
    centre = shapely.point_on_surface(geoms)
    params: dict[str, Any] = dict(surface.params) | {
        "aggregated_from_cell": surface.grid.cell,
        "risk_outside_polygons": lost / risk.sum() if risk.sum() > 0 else 0.0,
    }
    ids = areas_gdf[id_col].astype(str).to_numpy()
    return RiskSurface(
        area_id=ids,
        x=shapely.get_x(centre),
        y=shapely.get_y(centre),
        risk=poly_risk,
        crs=surface.crs,
        start=surface.start,
        end=surface.end,
        model=surface.model,
        params=params,
        drivers=_drivers(surface, ids, ci, pi, share),
        geometry=geoms,
        area_m2=shapely.area(geoms),
        data_version=dict(surface.data_version),
    )


def _drivers(
    surface: RiskSurface, ids: np.ndarray, ci: np.ndarray, pi: np.ndarray, share: np.ndarray
) -> pd.DataFrame | None:
    if surface.drivers is None or surface.drivers.empty:
        return None
    pos = pd.Series(np.arange(len(surface)), index=surface.area_id.astype(str))
    known = np.zeros(len(surface), bool)
    values = np.zeros((len(surface), len(DRIVER_COLUMNS)))
    rows = pos.reindex(surface.drivers["area_id"].astype(str)).to_numpy()
    ok = ~np.isnan(rows)
    rows = rows[ok].astype(int)
    known[rows] = True
    values[rows] = surface.drivers.loc[ok, list(DRIVER_COLUMNS)].to_numpy(float)
    n = len(ids)
    risk = np.asarray(surface.risk, float)
    total = np.bincount(pi, weights=risk[ci] * share, minlength=n)
    covered = np.bincount(pi, weights=(risk * known)[ci] * share, minlength=n)
    # a polygon gets drivers when cells with a breakdown hold most of its risk; their mix
    # is scaled up to the polygon's whole risk
    good = (covered > 0) & (covered >= MIN_DRIVER_COVER * total)
    scale = np.divide(total, covered, out=np.zeros(n), where=good)
    out = pd.DataFrame({"area_id": ids})
    for j, c in enumerate(DRIVER_COLUMNS):
        out[c] = np.bincount(pi, weights=values[ci, j] * share, minlength=n) * scale
    return out[good].reset_index(drop=True)
