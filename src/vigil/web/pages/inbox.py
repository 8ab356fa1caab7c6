"""Waiting for you: each case whose next step is this account's, with what that step is and a
count per kind of step (``vigil.app.inbox``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from vigil.app.context import AppContext
from vigil.app.inbox import waiting_for
from vigil.cases.policy import Action
from vigil.http.deps import Principal, RequirePolicy, get_ctx
from vigil.web.layout import render

router = APIRouter(include_in_schema=False)


@router.get("/inbox")
def inbox_page(
    request: Request,
    principal: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    inbox = waiting_for(ctx, principal.actor)
    return render(
        request,
        "inbox.html",
        principal,
        items=inbox.items,
        counts=inbox.counts,
        inbox_count=len(inbox.items),
    )
