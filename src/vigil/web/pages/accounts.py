"""Account administration: every account, adding one (privileged grants wait for a second
administrator) and deciding pending grants."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigil.app.context import AppContext
from vigil.cases.policy import Action
from vigil.http.deps import Principal, RequirePolicy, check_step_up, get_ctx
from vigil.roles import Role
from vigil.web import forms
from vigil.web.layout import render

router = APIRouter(include_in_schema=False)


@router.get("/admin/users")
def users_page(
    request: Request,
    principal: Principal = RequirePolicy(Action.MANAGE_ACCOUNTS),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    q = request.query_params
    return _users_page(
        request, principal, ctx, created=q.get("created"), requested=q.get("requested")
    )


def _users_page(
    request: Request, principal: Principal, ctx: AppContext, status: int = 200, **context: Any
) -> HTMLResponse:
    """The accounts page: every account, and the roles and ranks the form offers."""
    from vigil.app.audit import record_account_list
    from vigil.roles import Rank

    users = ctx.identity.list_users()
    record_account_list(ctx, principal.actor, [u.id for u in users], "accounts page")
    return render(
        request,
        "users.html",
        principal,
        status,
        users=users,
        grants=ctx.identity.list_grants(pending_only=True),
        roles=[r.value for r in Role],
        ranks=[r.name.lower() for r in Rank],
        **context,
    )


@router.post("/admin/users")
async def add_user_page(
    request: Request,
    principal: Principal = RequirePolicy(Action.MANAGE_ACCOUNTS),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    from vigil.errors import VigilError

    form = await request.form()
    try:
        user, grant = ctx.identity.request_account(
            principal.actor,
            forms.text(form, "username", required=True),
            str(form.get("password") or "") or forms.text(form, "password", required=True),
            forms.text(form, "role", required=True),
            rank=forms.text(form, "rank") or "none",
            borough=forms.text(form, "borough") or None,
            display_name=forms.text(form, "display_name"),
            reason=forms.text(form, "reason"),
        )
    except VigilError as exc:
        return _users_page(
            request,
            principal,
            ctx,
            400,
            flash=f"Refused: {exc}",
            flash_kind="error",
            created=None,
        )
    outcome = "created" if grant is None else "requested"
    return RedirectResponse(f"/admin/users?{outcome}={user.username}", status_code=303)


@router.post("/admin/grants/{grant_id}")
async def decide_grant_page(
    grant_id: str,
    request: Request,
    principal: Principal = RequirePolicy(Action.MANAGE_ACCOUNTS),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    """A second administrator approves or refuses a pending grant of privilege."""
    from vigil.errors import VigilError

    form = await request.form()
    approve = forms.text(form, "decision") == "approve"
    if approve:
        check_step_up(ctx, principal, "grant", "/admin/users")
    try:
        await run_in_threadpool(
            ctx.identity.decide_grant,
            principal.actor,
            grant_id,
            approve=approve,
            reason=forms.text(form, "reason"),
        )
    except VigilError as exc:
        return _users_page(
            request, principal, ctx, 403, flash=f"Refused: {exc}", flash_kind="error"
        )
    return RedirectResponse("/admin/users", status_code=303)
