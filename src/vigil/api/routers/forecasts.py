"""The intelligence picture: the current risk surface as a choropleth, its top areas, and one
area's drivers and history, plus borough outlines for the map (GeoJSON only: no tile server)."""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from vigil.app.context import AppContext
from vigil.app.forecasts import (
    AreaDetail,
    AreaRisk,
    SurfaceInfo,
    area_detail_encoded,
    current_surface,
    jsonable,
    log_forecast_read,
    surface_geojson,
    surface_layer,
    top_areas_encoded,
)
from vigil.cases.policy import Action
from vigil.http.caching import encoded_response
from vigil.http.deps import Principal, RequirePolicy, get_ctx

__all__ = ["router", "surface_geojson"]

router = APIRouter(prefix="/api", tags=["forecasts"])


@router.get("/forecasts/current", response_model=SurfaceInfo)
def current(
    principal: Principal = RequirePolicy(Action.READ), ctx: AppContext = Depends(get_ctx)
) -> SurfaceInfo:
    s = current_surface(ctx)
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
    "/forecasts/current/geojson",
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {}}}},
)
def current_geojson(
    request: Request,
    principal: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    """The map layer: built, serialised and compressed once per surface; 304 when unchanged
    (the read is logged either way)."""
    s = current_surface(ctx)
    log_forecast_read(ctx, principal.actor, s, "geojson")
    return encoded_response(request, surface_layer(s))


@router.get(
    "/forecasts/current/top",
    response_model=list[AreaRisk],
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}},
)
def current_top(
    request: Request,
    k: int = Query(20, ge=1, le=500),
    principal: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    s = current_surface(ctx)
    log_forecast_read(ctx, principal.actor, s, "top", k=k)
    return encoded_response(request, top_areas_encoded(s, k, ctx.settings.shared_data))


@router.get(
    "/forecasts/current/areas/{area_id}",
    response_model=AreaDetail,
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}},
)
def current_area(
    request: Request,
    area_id: str,
    principal: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    s = current_surface(ctx)
    detail = area_detail_encoded(ctx, s, area_id)  # an unknown area is refused, not logged
    log_forecast_read(ctx, principal.actor, s, "area", area_id=area_id)
    return encoded_response(request, detail)


@router.get(
    "/areas/boroughs",
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {}}}},
)
def boroughs(
    _: Principal = RequirePolicy(Action.READ), ctx: AppContext = Depends(get_ctx)
) -> Response:
    from vigil.app.geodata import borough_geojson

    body = ctx.cached("boroughs", lambda: borough_geojson(ctx.settings.shared_data))
    return Response(body, media_type="application/geo+json")
