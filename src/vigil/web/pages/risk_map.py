"""The map: a stored forecast's risk surface (the current one unless another is picked), its top
areas by name, the model's backtested hit rate and a warning when the forecast is out of date;
a case is opened from the current forecast."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
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
    forecast: str | None = Query(None, description="a stored forecast's key (default: current)"),
    principal: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    from vigil.app.forecast_store import (
        CURRENT,
        backtest_for,
        chosen_surface,
        staleness,
        stored_forecasts,
    )
    from vigil.app.forecasts import derived, log_forecast_read, top_areas

    forecasts = stored_forecasts(ctx)
    info = top = bands = backtest = stale = None
    key = CURRENT
    if forecasts:
        key, surface = chosen_surface(ctx, forecast)
        log_forecast_read(ctx, principal.actor, surface, "map page", k=15, forecast=key)
        current = key == CURRENT or any(f.current and f.key == key for f in forecasts)
        info = {
            "key": key,
            "current": current,
            "model": surface.model,
            "start": surface.start.isoformat(),
            "end": surface.end.isoformat(),
            "n_areas": len(surface),
            "days": round((surface.end - surface.start).total_seconds() / 86400),
            "cell_words": f"{surface.grid.cell:g} m square" if surface.grid else "area",
        }
        top = top_areas(surface, 15, ctx.settings.shared_data)
        bands = derived(surface).bands
        backtest = backtest_for(ctx, surface)
        stale = staleness(surface, ctx.clock.now())
    return render(
        request,
        "map.html",
        principal,
        info=info,
        top=top,
        bands=bands,
        forecasts=forecasts,
        backtest=backtest,
        stale=stale,
        now=ctx.clock.now(),
        can_open=ctx.cases.policy.permits(principal.actor, Action.OPEN),
    )
