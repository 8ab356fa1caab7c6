"""Command-line access (issue 16): the command line signs in the way the web does, through a
short-lived token issued here by the signed-in user (the identity provider offers no device
grant). The token is shown once with the line to paste; the user's tokens are listed and one
can be revoked."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigil.app.context import AppContext
from vigil.http.deps import ANY_ROLE, SESSION_COOKIE, Principal, Require, get_ctx
from vigil.web import forms
from vigil.web.layout import render

router = APIRouter(include_in_schema=False)
PATH = "/account/command-line"


def _page(
    request: Request,
    principal: Principal,
    ctx: AppContext,
    status: int = 200,
    **context: object,
) -> HTMLResponse:
    return render(
        request,
        "command_line.html",
        principal,
        status,
        tokens=ctx.identity.list_tokens(principal.user.id),
        lifetime_hours=ctx.identity.token_lifetime.total_seconds() / 3600,
        **context,
    )


@router.get(PATH)
def command_line_page(
    request: Request,
    principal: Principal = Require(*ANY_ROLE),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    return _page(request, principal, ctx, revoked=request.query_params.get("revoked"))


@router.post(PATH)
async def issue_token_page(
    request: Request,
    principal: Principal = Require(*ANY_ROLE),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    """Issue a token for this user, tied to this browser session (signing out revokes it);
    the page answering the post is the only place its value is ever shown."""
    from vigil.errors import VigilError

    form = await request.form()
    session = request.cookies.get(SESSION_COOKIE) if principal.via == "session" else None
    try:
        raw, info = await run_in_threadpool(
            ctx.identity.issue_token_info,
            principal.user,
            forms.text(form, "name") or "command line",
            session_token=session,
        )
    except VigilError as exc:
        return _page(request, principal, ctx, 400, error=str(exc))
    return _page(request, principal, ctx, issued=info, token=raw)


@router.post(PATH + "/{token_id}/revoke")
async def revoke_token_page(
    token_id: str,
    request: Request,
    principal: Principal = Require(*ANY_ROLE),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    """Revoke one of the signed-in user's own tokens (another's is refused by the store)."""
    from vigil.errors import VigilError

    try:
        await run_in_threadpool(
            ctx.identity.revoke_token_id, token_id, owner=principal.user.id, by=principal.actor
        )
    except VigilError as exc:
        return _page(request, principal, ctx, 404, error=str(exc))
    return RedirectResponse(f"{PATH}?revoked=1", status_code=303)
