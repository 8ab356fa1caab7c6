"""Sign-in with a password (and break-glass when the identity provider is the way in),
sign-out, changing one's password and the step-up before a decision.

Sign-in uses a double-submit cookie for CSRF because there is no session yet."""

from __future__ import annotations

import hmac
import secrets

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from vigil.app.context import AppContext
from vigil.db.identity import SESSION_IDLE, AuthenticationFailed, SignInThrottled
from vigil.errors import PermissionDenied
from vigil.http.deps import (
    ANY_ROLE,
    SESSION_COOKIE,
    Principal,
    Require,
    client_address,
    get_ctx,
    optional_principal,
)
from vigil.web import forms
from vigil.web.layout import home_for, render
from vigil.web.layout import safe_next as _safe_next
from vigil.web.layout import set_cookie as _set_cookie

router = APIRouter(include_in_schema=False)

LOGIN_CSRF_COOKIE = "vigil_login_csrf"


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    if optional_principal(request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    ctx: AppContext = request.app.state.ctx
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        None,
        login_csrf=token,
        next=_safe_next(next),
        oidc=ctx.oidc is not None,
        break_glass=ctx.settings.break_glass,
    )
    _set_cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


@router.post("/login")
async def login(
    request: Request,
    username: str = Form(..., max_length=64),
    password: str = Form(..., max_length=1024),
    csrf_token: str = Form(""),
    next: str = Form("/"),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    """Check the password on the bounded sign-in pool (never on the event loop or the shared
    threads), through the per-account and per-address throttle."""
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf_token):
        raise PermissionDenied("the sign-in form expired: reload the page and try again")
    if ctx.oidc is not None and not ctx.settings.break_glass:
        raise PermissionDenied(
            "local password sign-in is switched off: sign in with the force's identity provider"
        )
    try:
        user = await ctx.signin_pool.run(
            ctx.provider.authenticate, username, password, client_address(request)
        )
    except AuthenticationFailed as exc:
        token = secrets.token_urlsafe(24)
        throttled = isinstance(exc, SignInThrottled)
        refused = render(
            request,
            "login.html",
            None,
            429 if throttled else 401,
            login_csrf=token,
            next=_safe_next(next),
            error=str(exc),
            username=username,
        )
        if throttled:
            refused.headers["Retry-After"] = str(exc.retry_after)  # type: ignore[attr-defined]
        _set_cookie(request, refused, LOGIN_CSRF_COOKIE, token, max_age=3600)
        return refused
    if ctx.oidc is not None:  # the identity provider is the way in: this is break-glass
        await run_in_threadpool(ctx.identity.record_break_glass, user, client_address(request))
    session = await run_in_threadpool(ctx.identity.start_session, user)
    target = _safe_next(next)
    if user.must_change_password:
        target = "/account/password"
    elif target == "/":
        target = home_for(user.role, ctx.cases.policy)
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
    """End the session; the API tokens issued from it are revoked with it. A session from the
    identity provider also signs out there (RP-initiated logout)."""
    cookie = request.cookies.get(SESSION_COOKIE, "")
    session = ctx.identity.resolve_session(cookie)
    ctx.identity.end_session(cookie)
    target = "/login"
    if ctx.oidc is not None and session is not None and session.auth_method == "oidc":
        back = str(request.url_for("login_page"))
        target = ctx.oidc.logout_url(back) or target
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/account/password")
def password_page(
    request: Request,
    principal: Principal = Require(*ANY_ROLE),
) -> Response:
    return render(request, "password.html", principal)


@router.post("/account/password")
async def change_password(
    request: Request,
    principal: Principal = Require(*ANY_ROLE),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    """Change one's own password: every session and token of the account ends, and this
    browser gets a fresh session."""
    from vigil.errors import VigilError

    form = await request.form()
    # passwords as typed: never stripped
    current, new, confirm = (str(form.get(name) or "") for name in ("current", "new", "confirm"))
    if not current or not new:
        return render(
            request,
            "password.html",
            principal,
            400,
            error="enter the current and new password",
            field="new" if current else "current",
        )
    if new != confirm:
        return render(
            request,
            "password.html",
            principal,
            400,
            error="the two new passwords differ",
            field="confirm",
        )
    try:
        session = await ctx.signin_pool.run(
            ctx.identity.change_password, principal.user, current, new, keep_session=True
        )
    except VigilError as exc:
        # a wrong current password, or a new one the rules refuse: next to the field it concerns
        wrong = isinstance(exc, AuthenticationFailed)
        return render(
            request,
            "password.html",
            principal,
            400,
            error=str(exc),
            field="current" if wrong else "new",
        )
    assert session is not None
    response = RedirectResponse(home_for(principal.user.role, ctx.cases.policy), status_code=303)
    _set_cookie(request, response, SESSION_COOKIE, session.token, int(SESSION_IDLE.total_seconds()))
    return response


@router.get("/account/reauthenticate")
def reauthenticate_page(
    request: Request,
    next: str = "/",
    principal: Principal = Require(*ANY_ROLE),
) -> Response:
    """Step-up: confirm the password before a decision (authorise, extend, ratify, override,
    account grants)."""
    ctx: AppContext = request.app.state.ctx
    return render(
        request, "reauthenticate.html", principal, next=_safe_next(next), oidc=ctx.oidc is not None
    )


@router.post("/account/reauthenticate")
async def reauthenticate(
    request: Request,
    principal: Principal = Require(*ANY_ROLE),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    form = await request.form()
    target = _safe_next(forms.text(form, "next"))
    try:
        await ctx.signin_pool.run(
            ctx.identity.reauthenticate,
            request.cookies.get(SESSION_COOKIE, ""),
            str(form.get("password") or ""),
            client_address(request),
        )
    except AuthenticationFailed as exc:
        status = 429 if isinstance(exc, SignInThrottled) else 401
        return render(
            request, "reauthenticate.html", principal, status, next=target, error=str(exc)
        )
    return RedirectResponse(target, status_code=303)
