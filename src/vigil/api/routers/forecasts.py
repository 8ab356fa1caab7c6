"""The intelligence picture: the current risk surface as a choropleth, its top areas, and one
area's drivers and history, plus borough outlines for the map (GeoJSON only: no tile server)."""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from vigil.app.context import AppContext
from vigil.app.forecast_store import chosen_surface, stored_forecasts
from vigil.app.forecasts import (
    GEOJSON,
    AreaDetail,
    AreaRisk,
    SurfaceInfo,
    area_detail_encoded,
    jsonable,
    log_forecast_read,
    surface_geojson,
    surface_layer,
    top_areas_encoded,
)
from vigil.cases.policy import Action
from vigil.http.caching import GEOJSON_ROUTE, encoded_response
from vigil.http.deps import Principal, RequirePolicy, get_ctx

__all__ = ["router", "surface_geojson"]

router = APIRouter(prefix="/api", tags=["forecasts"])


class ForecastOut(BaseModel):
    key: str
    model: str
    start: str
    end: str
    cell: float | None
    current: bool


@router.get("/forecasts", response_model=list[ForecastOut])
def listed(
    _: Principal = RequirePolicy(Action.READ), ctx: AppContext = Depends(get_ctx)
) -> list[ForecastOut]:
    """The forecasts a person can pick: the current one first, then the stored ones, newest
    as-of first ("current" or a stored file's key in the paths below)."""
    return [
        ForecastOut(
            key=f.key,
            model=f.model,
            start=f.start.isoformat(),
            end=f.end.isoformat(),
            cell=f.cell,
            current=f.current,
        )
        for f in stored_forecasts(ctx)
    ]


@router.get("/forecasts/{key}", response_model=SurfaceInfo)
def current(
    key: str = Path(description='"current" or a stored forecast\'s key (GET /api/forecasts)'),
    principal: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> SurfaceInfo:
    _, s = chosen_surface(ctx, key)
    log_forecast_read(ctx, principal.actor, s, "summary")
    return SurfaceInfo(
        model=s.model,
        start=s.start.isoformat(),
        end=s.end.isoformat(),
        n_areas=len(s),
        total_risk=float(np.sum(s.risk)),
        max_risk=float(np.max(s.risk)) if len(s) else 0.0,
        params=jsonable(s.params),
        data_version=jsonable(s.data_version),
    )


@router.get(
    "/forecasts/{key}/geojson",
    **GEOJSON_ROUTE,
)
def current_geojson(
    request: Request,
    key: str,
    principal: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    """The map layer: built, serialised and compressed once per surface; 304 when unchanged
    (the read is logged either way)."""
    _, s = chosen_surface(ctx, key)
    log_forecast_read(ctx, principal.actor, s, "geojson")
    return encoded_response(request, surface_layer(s))


@router.get(
    "/forecasts/{key}/top",
    response_model=list[AreaRisk],
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}},
)
def current_top(
    request: Request,
    key: str,
    k: int = Query(20, ge=1, le=500),
    principal: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    _, s = chosen_surface(ctx, key)
    log_forecast_read(ctx, principal.actor, s, "top", k=k)
    return encoded_response(request, top_areas_encoded(s, k, ctx.settings.shared_data))


@router.get(
    "/forecasts/{key}/areas/{area_id}",
    response_model=AreaDetail,
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}},
)
def current_area(
    request: Request,
    key: str,
    area_id: str,
    principal: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    _, s = chosen_surface(ctx, key)
    detail = area_detail_encoded(ctx, s, area_id)  # an unknown area is refused, not logged
    log_forecast_read(ctx, principal.actor, s, "area", area_id=area_id)
    return encoded_response(request, detail)


@router.get(
    "/areas/boroughs",
    **GEOJSON_ROUTE,
)
def boroughs(
    _: Principal = RequirePolicy(Action.READ), ctx: AppContext = Depends(get_ctx)
) -> Response:
    from vigil.app.geodata import borough_geojson

    body = ctx.cached("boroughs", lambda: borough_geojson(ctx.settings.shared_data))
    return Response(body, media_type=GEOJSON)


@router.get(
    "/areas/wards",
    **GEOJSON_ROUTE,
)
def wards(
    request: Request,
    _: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    """London's wards (2014 scheme) with their names and boroughs, for the map's street-scale
    layer; built and compressed once per process."""
    from vigil.app.forecasts import Encoded
    from vigil.app.geodata import ward_geojson

    body = ctx.cached(
        "wards",
        lambda: Encoded.geojson(ward_geojson(ctx.settings.shared_data)),
    )
    return encoded_response(request, body)
