"""Server-rendered pages: sign-in, the map, cases, the oversight dashboard, uploads, accounts.

Pages are thin: each checks the role through the same dependency as the API, calls the same
domain functions and renders a template. Form posts carry the session's CSRF token; sign-in
itself uses a double-submit cookie because there is no session yet.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigil.api.context import AppContext
from vigil.api.deps import (
    ANY_ROLE,
    CASE_READERS,
    SESSION_COOKIE,
    Principal,
    Require,
    get_ctx,
    optional_principal,
)
from vigil.db.identity import SESSION_IDLE, AuthenticationFailed
from vigil.errors import PermissionDenied
from vigil.roles import Role

router = APIRouter(include_in_schema=False)

LOGIN_CSRF_COOKIE = "vigil_login_csrf"


def render(
    request: Request, template: str, principal: Principal | None, status: int = 200, **context: Any
) -> HTMLResponse:
    templates = request.app.state.templates
    ctx: AppContext = request.app.state.ctx
    return templates.TemplateResponse(  # type: ignore[no-any-return]
        request,
        template,
        {"principal": principal, "now": ctx.clock.now(), **context},
        status_code=status,
    )


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect a signed-in user to another host."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    parsed = urlparse(target)
    return "/" if parsed.netloc or parsed.scheme else target


def home_for(role: Role) -> str:
    return "/admin/users" if role is Role.ADMINISTRATOR else "/"


# ---------------------------------------------------------------------- sign-in
@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    if optional_principal(request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", None, login_csrf=token, next=_safe_next(next))
    _set_cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    ctx: AppContext = request.app.state.ctx
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=ctx.settings.cookie_secure,
        path="/",
    )


@router.post("/login")
def login(
    request: Request,
    username: str = Form(..., max_length=64),
    password: str = Form(..., max_length=1024),
    csrf_token: str = Form(""),
    next: str = Form("/"),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf_token):
        raise PermissionDenied("the sign-in form expired: reload the page and try again")
    try:
        user = ctx.provider.authenticate(username, password)
    except AuthenticationFailed as exc:
        token = secrets.token_urlsafe(24)
        response = render(
            request,
            "login.html",
            None,
            401,
            login_csrf=token,
            next=_safe_next(next),
            error=str(exc),
        )
        _set_cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=3600)
        return response
    session = ctx.identity.start_session(user)
    target = _safe_next(next)
    if target == "/":
        target = home_for(user.role)
    response = RedirectResponse(target, status_code=303)
    _set_cookie(request, response, SESSION_COOKIE, session.token, int(SESSION_IDLE.total_seconds()))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(
    request: Request,
    principal: Principal = Require(*ANY_ROLE),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    ctx.identity.end_session(request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# ---------------------------------------------------------------------- the map
@router.get("/")
def map_page(
    request: Request,
    principal: Principal = Require(*CASE_READERS),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    from vigil.api.routers.forecasts import top_areas

    surface = ctx.surface_source()
    info = top = None
    if surface is not None:
        info = {
            "model": surface.model,
            "start": surface.start.isoformat(),
            "end": surface.end.isoformat(),
            "n_areas": len(surface),
        }
        top = top_areas(surface, 15)
    return render(
        request,
        "map.html",
        principal,
        info=info,
        top=top,
        can_open=principal.user.role is Role.ANALYST,
    )
