"""The map: the current forecast's risk surface and its top areas, from which a case is
opened."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from vigil.app.context import AppContext
from vigil.cases.policy import Action
from vigil.http.deps import Principal, RequirePolicy, get_ctx
from vigil.web.layout import render

router = APIRouter(include_in_schema=False)


# ---------------------------------------------------------------------- the map
@router.get("/")
def map_page(
    request: Request,
    principal: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    from vigil.app.forecasts import derived, log_forecast_read, top_areas

    surface = ctx.surface_source()
    info = top = bands = None
    if surface is not None:
        log_forecast_read(ctx, principal.actor, surface, "map page", k=15)
        info = {
            "model": surface.model,
            "start": surface.start.isoformat(),
            "end": surface.end.isoformat(),
            "n_areas": len(surface),
            "days": round((surface.end - surface.start).total_seconds() / 86400),
            "cell_words": f"{surface.grid.cell:g} m square" if surface.grid else "area",
        }
        top = top_areas(surface, 15, ctx.settings.shared_data)
        bands = derived(surface).bands
    return render(
        request,
        "map.html",
        principal,
        info=info,
        top=top,
        bands=bands,
        can_open=ctx.cases.policy.permits(principal.actor, Action.OPEN),
    )
