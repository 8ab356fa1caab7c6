"""Authentication, roles and CSRF as FastAPI dependencies: every endpoint declares who may call
it with ``Depends(require(...))``, and nothing else in a route decides access.

A request is authenticated by ``Authorization: Bearer <token>`` (scripts) or by the session
cookie (browsers). Cookie-authenticated requests that change something must also carry the
session's CSRF token, in the ``X-CSRF-Token`` header or a ``csrf_token`` form field; bearer
requests need none because a browser never attaches them by itself.
"""

from __future__ import annotations

import copy
import dataclasses
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from vigil.app.context import AppContext
from vigil.cases.policy import Action, Policy
from vigil.db.identity import AuthenticationFailed, PasswordChangeRequired, User
from vigil.errors import PermissionDenied
from vigil.identity.step_up import step_up_refusal
from vigil.roles import Actor, Role

#: a case id in a path: positive and within a 32-bit integer column on every backend
CaseId = Annotated[int, Path(ge=1, le=2_147_483_647, description="case number")]

SESSION_COOKIE = "vigil_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

#: every role: for endpoints any signed-in account may use (its own profile, signing out)
ANY_ROLE: tuple[Role, ...] = tuple(Role)
#: what an account that must change its issued password may still reach
PASSWORD_CHANGE_PATHS = frozenset({"/account/password", "/api/me/password", "/api/me", "/logout"})


class NotAuthenticated(AuthenticationFailed):
    """No valid session or token came with the request."""


class StepUpRequired(PermissionDenied):
    """A decision needs a recent authentication: confirm the password (or sign in again with
    the identity provider) first."""

    def __init__(self, message: str, next_path: str = "/") -> None:
        super().__init__(message)
        self.next_path = next_path


def check_step_up(ctx: AppContext, principal: Principal, action: str, next_path: str = "/") -> None:
    """Refuse ``action`` unless the caller authenticated recently enough (the rule is
    :func:`vigil.identity.step_up.step_up_refusal`): a browser session within
    ``settings.step_up_minutes``; an API token never, while ``settings.step_up_tokens`` is on
    (the default)."""
    why = step_up_refusal(
        ctx.settings,
        ctx.clock.now(),
        action,
        principal.authenticated_at,
        bearer=principal.via != "session",
    )
    if why is not None:
        raise StepUpRequired(why, next_path)


class CsrfFailed(PermissionDenied):
    """A cookie-authenticated change came without the session's CSRF token."""


@dataclass(frozen=True)
class Principal:
    """The signed-in account of one request and how it proved it."""

    user: User
    via: str  # "session" or "token"
    csrf_token: str | None = None
    #: when the person last proved who they are (sign-in or step-up); None for API tokens
    authenticated_at: datetime | None = None

    @property
    def actor(self) -> Actor:
        return dataclasses.replace(self.user.actor(), authenticated_at=self.authenticated_at)


def ctx_of(request: Request) -> AppContext:
    """The app's context (for code that has the request)."""
    ctx: AppContext = request.app.state.ctx
    return ctx


async def get_ctx(request: Request) -> AppContext:
    """``ctx: AppContext = Depends(get_ctx)``: a coroutine, so FastAPI answers it on the event
    loop; a plain function dependency is run in a worker thread, one more thread hand-off on
    every request for an attribute read (issue 11)."""
    return ctx_of(request)


def optional_principal(request: Request) -> Principal | None:
    """The principal if the request carries valid credentials, else None (sign-in page)."""
    ctx = ctx_of(request)
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise NotAuthenticated("Authorization header must be 'Bearer <token>'")
        user = ctx.identity.resolve_token(value.strip())
        if user is None:
            raise NotAuthenticated("API token is unknown or revoked")
        return Principal(user=user, via="token")
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if cookie:
        session = ctx.identity.resolve_session(cookie)
        if session is not None:
            return Principal(
                user=session.user,
                via="session",
                csrf_token=session.csrf_token,
                authenticated_at=session.authenticated_at,
            )
    return None


def recent_principal(request: Request) -> Principal | None:
    """The principal of a bearer request whose token this process resolved a moment ago
    (``IdentityStore.recent_token``: no database work, so the event loop may ask); None when
    it must be looked up (:func:`optional_principal`, in a worker thread)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if not value or scheme.lower() != "bearer":
        return None
    user = ctx_of(request).identity.recent_token(value.strip())
    return Principal(user=user, via="token") if isinstance(user, User) else None


def client_address(request: Request) -> str | None:
    """The caller's network address, for the per-address sign-in throttle. Behind a reverse
    proxy run uvicorn with ``--proxy-headers --forwarded-allow-ips`` so this is the client's,
    not the proxy's."""
    return request.client.host if request.client else None


async def _check_csrf(request: Request, principal: Principal) -> None:
    if principal.via != "session" or request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else ""
    if not sent or not hmac.compare_digest(sent, principal.csrf_token or ""):
        raise CsrfFailed("missing or wrong CSRF token: reload the page and try again")


async def _admit(
    request: Request, allowed: frozenset[Role], what: str, step_up: tuple[str, ...] = ()
) -> Principal:
    # a token or session is looked up in the database: in a worker thread, never on the event
    # loop, where every other request of the process would wait for it (and for a pooled
    # connection when all are busy) (issue 11); a token resolved a moment ago needs neither
    principal = recent_principal(request) or await run_in_threadpool(optional_principal, request)
    if principal is None:
        raise NotAuthenticated("sign in first (session cookie or Bearer token required)")
    if principal.user.role not in allowed:
        names = ", ".join(sorted(r.value for r in allowed))
        raise PermissionDenied(
            f"role '{principal.user.role.value}' may not {what}; allowed: {names}"
        )
    await _check_csrf(request, principal)
    for name in step_up or (what.replace(" ", "_"),):
        check_step_up(ctx_of(request), principal, name)
    request.state.principal = principal
    if principal.user.must_change_password and request.url.path not in PASSWORD_CHANGE_PATHS:
        raise PasswordChangeRequired(
            "this account signed in with an issued password: choose your own first "
            "(/account/password, or POST /api/me/password)"
        )
    return principal


def require(*roles: Role) -> Callable[..., object]:
    """A dependency admitting only signed-in accounts with one of ``roles``."""
    allowed = frozenset(roles)

    async def dependency(request: Request) -> Principal:
        return await _admit(request, allowed, f"{request.method} {request.url.path}")

    dependency.__name__ = f"require_{'_'.join(sorted(r.value for r in allowed))}"
    dependency.allowed_roles = lambda policy: allowed  # type: ignore[attr-defined]
    return dependency


def require_policy(*actions: Action) -> Callable[..., object]:
    """A dependency admitting the roles the policy's permission table gives ``actions`` (any
    of them; ``Policy.roles_for``): the table stays the one place that says who may authorise,
    consult or debrief, and the route refuses other roles before touching the case. Rank,
    borough scope and ownership need the case: the workflow checks them with ``Policy.check``."""

    def roles_of(policy: Policy) -> frozenset[Role]:
        return frozenset().union(*(policy.roles_for(a) for a in actions))

    what = " or ".join(a.phrase for a in actions)

    async def dependency(request: Request) -> Principal:
        policy = ctx_of(request).cases.policy
        # step-up is decided by the action's name (authorise, extend, ratify ...)
        return await _admit(request, roles_of(policy), what, tuple(a.value for a in actions))

    dependency.__name__ = f"require_policy_{'_'.join(a.value for a in actions)}"
    dependency.allowed_roles = roles_of  # type: ignore[attr-defined]
    dependency.actions = actions  # type: ignore[attr-defined]
    return dependency


def allowed_roles(route: object, policy: Policy | None = None) -> frozenset[Role] | None:
    """The roles a route admits under ``policy`` (default: the packaged policy), from its
    ``require``/``require_policy`` dependency; None if it has none."""
    from vigil.cases.policy import default_policy

    dependant = getattr(route, "dependant", None)
    stack = list(getattr(dependant, "dependencies", []))
    while stack:
        dep = stack.pop()
        roles_of = getattr(dep.call, "allowed_roles", None)
        if roles_of is not None:
            return frozenset(roles_of(policy or default_policy()))
        stack.extend(dep.dependencies)
    return None


def route_actions(route: object) -> tuple[Action, ...]:
    """The permission-table actions a route's ``require_policy`` dependency names; empty if it
    has none (a ``require`` route)."""
    dependant = getattr(route, "dependant", None)
    stack = list(getattr(dependant, "dependencies", []))
    while stack:
        dep = stack.pop()
        actions = getattr(dep.call, "actions", None)
        if actions is not None:
            return tuple(actions)
        stack.extend(dep.dependencies)
    return ()


def api_routes(app: object) -> list[APIRoute]:
    """Every APIRoute of ``app`` with its full path, through included routers (FastAPI keeps
    included routers nested rather than copying their routes)."""
    out: list[APIRoute] = []

    def walk(routes: list[object], prefix: str) -> None:
        for route in routes:
            inner = getattr(route, "original_router", None)
            if inner is not None:
                context = getattr(route, "include_context", None)
                walk(inner.routes, prefix + getattr(context, "prefix", ""))
            elif isinstance(route, APIRoute):
                if prefix:
                    route = copy.copy(route)
                    route.path = prefix + route.path
                out.append(route)

    walk(list(getattr(app, "routes", [])), "")
    return out


def Require(*roles: Role) -> Principal:  # noqa: N802 - reads like a type in signatures
    """``principal: Principal = Require(*ANY_ROLE)`` in a route signature; a route that needs
    a particular role asks the permission table instead (``RequirePolicy``)."""
    return Depends(require(*roles))  # type: ignore[no-any-return]


def RequirePolicy(*actions: Action) -> Principal:  # noqa: N802
    """``principal: Principal = RequirePolicy(Action.AUTHORISE)`` in a route signature."""
    return Depends(require_policy(*actions))  # type: ignore[no-any-return]
