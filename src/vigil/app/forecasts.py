"""The intelligence picture as the shells show it: the current surface, its top areas with their
drivers, one area in detail (with its recorded history) and the surface as compact GeoJSON."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import shapely
from pydantic import BaseModel

from vigil.app.context import AppContext
from vigil.app.history import area_history
from vigil.app.surfaces import percentile_ranks
from vigil.errors import NotFound
from vigil.forecast.surface import DRIVER_COLUMNS, RiskSurface
from vigil.geo.projection import to_lonlat
from vigil.roles import Actor

#: decimal places kept in map coordinates: ~1 m, plenty for 100 m+ cells, and a third the bytes
COORD_DP = 5


class SurfaceInfo(BaseModel):
    model: str
    start: str
    end: str
    n_areas: int
    total_risk: float
    max_risk: float
    params: dict[str, Any]
    data_version: dict[str, Any]


class AreaRisk(BaseModel):
    area_id: str
    rank: int
    risk: float
    percentile: float
    x: float
    y: float
    drivers: dict[str, float] | None = None


class AreaDetail(AreaRisk):
    model: str
    start: str
    end: str
    #: the area's share of the whole city's expected count
    share_of_city: float
    #: recorded incidents of the forecast's categories in the area, per month, before the window
    history: list[dict[str, Any]]


def current_surface(ctx: AppContext) -> RiskSurface:
    surface = ctx.surface_source()
    if surface is None:
        raise NotFound("no forecast has been saved yet: run `vigil forecast` first")
    return surface


def jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _drivers(surface: RiskSurface, area_id: str) -> dict[str, float] | None:
    if surface.drivers is None:
        return None
    rows = surface.drivers[surface.drivers["area_id"].astype(str) == area_id]
    if rows.empty:
        return None
    row = rows.iloc[0]
    return {c: float(row[c]) for c in DRIVER_COLUMNS if c in rows.columns}


def surface_geojson(surface: RiskSurface) -> bytes:
    """Non-zero areas as WGS84 polygons with risk, rank and percentile, compactly encoded.

    Vectorised (one pyproj call for every vertex, GEOS writes the geometries): a 26,000-cell
    London grid takes a fraction of a second, where going through a GeoDataFrame takes seconds.
    """
    keep = np.flatnonzero(np.asarray(surface.risk, float) > 0)

    def project(xy: np.ndarray) -> np.ndarray:
        lon, lat = to_lonlat(xy[:, 0], xy[:, 1], surface.crs)
        return np.round(np.column_stack([lon, lat]), COORD_DP)

    geoms = shapely.to_geojson(shapely.transform(surface.polygons()[keep], project))
    pct = percentile_ranks(surface.risk)
    rank = np.empty(len(surface), int)
    rank[surface.ranking()] = np.arange(1, len(surface) + 1)
    features = [
        '{"type":"Feature","geometry":'
        + geom
        + ',"properties":'
        + json.dumps(
            {
                "area_id": str(surface.area_id[i]),
                "risk": round(float(surface.risk[i]), 4),
                "rank": int(rank[i]),
                "percentile": round(float(pct[i]), 2),
            },
            separators=(",", ":"),
        )
        + "}"
        for geom, i in zip(geoms, keep, strict=True)
    ]
    props = json.dumps(
        {"model": surface.model, "start": surface.start.isoformat(), "end": surface.end.isoformat()}
    )
    body = '{"type":"FeatureCollection","properties":' + props
    return (body + ',"features":[' + ",".join(features) + "]}").encode()


def top_areas(s: RiskSurface, k: int) -> list[AreaRisk]:
    pct = percentile_ranks(s.risk)
    out = []
    for n, i in enumerate(s.ranking()[:k], start=1):
        aid = str(s.area_id[i])
        out.append(
            AreaRisk(
                area_id=aid,
                rank=n,
                risk=float(s.risk[i]),
                percentile=float(pct[i]),
                x=float(s.x[i]),
                y=float(s.y[i]),
                drivers=_drivers(s, aid),
            )
        )
    return out


def area_detail(ctx: AppContext, s: RiskSurface, area_id: str) -> AreaDetail:
    idx = np.flatnonzero(np.asarray(s.area_id).astype(str) == area_id)
    if idx.size == 0:
        raise NotFound(f"area '{area_id}' is not in the current forecast ({s.model})")
    i = int(idx[0])
    rank = int(np.flatnonzero(s.ranking() == i)[0]) + 1
    total = float(np.sum(s.risk))
    history = area_history(ctx, s, i)
    return AreaDetail(
        area_id=area_id,
        rank=rank,
        risk=float(s.risk[i]),
        percentile=float(percentile_ranks(s.risk)[i]),
        x=float(s.x[i]),
        y=float(s.y[i]),
        drivers=_drivers(s, area_id),
        model=s.model,
        start=s.start.isoformat(),
        end=s.end.isoformat(),
        share_of_city=float(s.risk[i]) / total if total > 0 else 0.0,
        history=history,
    )


def log_forecast_read(
    ctx: AppContext, actor: Actor, surface: RiskSurface, what: str, **detail: Any
) -> None:
    """Forecast reads are logged (DPA 2018 s.62: consultation): which surface, which part."""
    from vigil.app.audit import record_read

    record_read(
        ctx,
        actor,
        "forecast.read",
        detail={
            "what": what,
            "model": surface.model,
            "start": surface.start.isoformat(),
            **detail,
        },
    )
