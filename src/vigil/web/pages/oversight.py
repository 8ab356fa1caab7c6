"""Oversight: the dashboard (live and recent deployments, evaluations, trends) and the
notifications every authorisation sends."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from vigil.app.context import AppContext
from vigil.cases.policy import Action
from vigil.http.deps import Principal, RequirePolicy, get_ctx
from vigil.web.layout import render

router = APIRouter(include_in_schema=False)


@router.get("/oversight")
def oversight_page(
    request: Request,
    principal: Principal = RequirePolicy(Action.READ_DASHBOARD),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    from vigil.web.dashboard import dashboard

    return render(request, "oversight.html", principal, **dashboard(ctx, principal.actor))


@router.get("/notifications")
def notifications_page(
    request: Request,
    principal: Principal = RequirePolicy(Action.READ_NOTIFICATIONS),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    from vigil.app.cases import notification_feed

    return render(
        request, "notifications.html", principal, items=notification_feed(ctx, principal.actor)
    )
