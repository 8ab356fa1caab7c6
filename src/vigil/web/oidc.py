"""Browser sign-in through the OpenID Connect provider: start, callback (also for step-up) and
back-channel logout. Not in the API schema: these are browser redirects and a provider call."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from vigil.app.context import AppContext
from vigil.db.identity import SESSION_IDLE, AuthenticationFailed
from vigil.errors import VigilError
from vigil.http.deps import SESSION_COOKIE, get_ctx, optional_principal
from vigil.roles import Rank

router = APIRouter(include_in_schema=False)

#: the browser secret binding a sign-in at the provider to the browser that started it
OIDC_COOKIE = "vigil_oidc"
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"


def _client(ctx: AppContext) -> Any:
    if ctx.oidc is None:
        raise VigilError("sign-in through an identity provider is not configured (VIGIL_OIDC_*)")
    return ctx.oidc


@router.get("/login/oidc")
def oidc_start(
    request: Request, next: str = "/", step_up: bool = False, ctx: AppContext = Depends(get_ctx)
) -> Response:
    """Send the browser to the provider (authorization code + PKCE, state, nonce). With
    ``step_up`` the provider must authenticate the person again (prompt=login, max_age=0)."""
    from vigil.web.layout import safe_next as _safe_next
    from vigil.web.layout import set_cookie as _set_cookie

    client = _client(ctx)
    session_token = None
    if step_up:
        principal = optional_principal(request)
        if principal is None or principal.via != "session":
            raise AuthenticationFailed("sign in first: a step-up renews a browser session")
        session_token = request.cookies.get(SESSION_COOKIE, "")
    state, nonce, verifier, browser = ctx.identity.begin_external(
        _safe_next(next), session_token=session_token
    )
    url = client.authorization_url(state, nonce, verifier, step_up=step_up)
    response = RedirectResponse(url, status_code=303)
    _set_cookie(request, response, OIDC_COOKIE, browser, max_age=600)
    return response


@router.get("/auth/callback")
async def oidc_callback(
    request: Request,
    code: str = "",
    state: str = "",
    error: str = "",
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    """The provider sends the browser back: check state (single use, this browser), exchange
    the code, check the ID token, map its claims afresh and start (or step up) the session."""
    from vigil.identity.claims import load_claims_mapping
    from vigil.web.layout import home_for, render
    from vigil.web.layout import set_cookie as _set_cookie

    client = _client(ctx)
    try:
        if error:
            raise AuthenticationFailed(f"the identity provider refused the sign-in: {error}")
        pending = await run_in_threadpool(
            ctx.identity.take_external, state, request.cookies.get(OIDC_COOKIE, "")
        )
        id_token = await run_in_threadpool(client.exchange, code, pending.code_verifier)
        claims = await run_in_threadpool(client.validate, id_token, pending.nonce)
        subject = client.subject(claims)
        auth_time = client.auth_time(claims)
        if pending.session_hash is not None:
            skew = ctx.settings.oidc_max_skew
            if (pending.created_at - auth_time).total_seconds() > skew:
                raise AuthenticationFailed(
                    "the identity provider did not authenticate you again: step-up refused"
                )
            await run_in_threadpool(
                ctx.identity.step_up_external, pending.session_hash, subject, auth_time
            )
            response: Response = RedirectResponse(pending.next, status_code=303)
            response.delete_cookie(OIDC_COOKIE, path="/")
            return response
        assert ctx.settings.oidc_claims_map is not None
        mapping = load_claims_mapping(ctx.settings.oidc_claims_map)  # read at every sign-in
        rule = mapping.grant_for(claims)
        grant = None if rule is None else (rule.role, Rank.parse(rule.rank), rule.borough)
        user = await run_in_threadpool(
            ctx.identity.sign_in_external,
            subject,
            mapping.username_for(claims),
            grant,
            display_name=str(claims.get("name") or ""),
        )
    except AuthenticationFailed as exc:
        refused = render(request, "login.html", None, 401, error=str(exc), next="/")
        refused.delete_cookie(OIDC_COOKIE, path="/")
        return refused
    session = await run_in_threadpool(
        ctx.identity.start_session, user, auth_method="oidc", authenticated_at=auth_time
    )
    target = pending.next if pending.next != "/" else home_for(user.role, ctx.cases.policy)
    response = RedirectResponse(target, status_code=303)
    _set_cookie(request, response, SESSION_COOKIE, session.token, int(SESSION_IDLE.total_seconds()))
    response.delete_cookie(OIDC_COOKIE, path="/")
    return response


@router.post("/auth/backchannel-logout")
async def backchannel_logout(
    logout_token: str = Form(..., max_length=8192), ctx: AppContext = Depends(get_ctx)
) -> Response:
    """OpenID Connect Back-Channel Logout 1.0: the provider says a person signed out; their
    Vigil sessions end with the tokens issued from them."""
    from joserfc import jwt
    from joserfc.errors import JoseError

    client = _client(ctx)
    try:
        token = jwt.decode(logout_token, client.keys(refresh=True), algorithms=["RS256", "ES256"])
        claims = dict(token.claims)
        registry = jwt.JWTClaimsRegistry(
            now=int(ctx.clock.now().timestamp()),
            leeway=ctx.settings.oidc_max_skew,
            iss={"essential": True, "value": client.config.issuer.rstrip("/")},
            aud={"essential": True, "value": client.config.client_id},
            sub={"essential": True},
            iat={"essential": True},
        )
        registry.validate(claims)
    except (JoseError, ValueError) as exc:
        return Response(f"invalid logout token: {exc}", status_code=400)
    if BACKCHANNEL_EVENT not in (claims.get("events") or {}) or "nonce" in claims:
        return Response("invalid logout token: not a back-channel logout event", status_code=400)
    await run_in_threadpool(ctx.identity.end_external_sessions, client.subject(claims))
    return Response(status_code=200, headers={"Cache-Control": "no-store"})
