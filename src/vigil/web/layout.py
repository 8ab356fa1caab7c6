"""What every page shares: rendering a template with the signed-in account, the navigation
(each link shown only to the roles the permission table lets open its page), cookies and the
same-site redirect check. The page modules in ``vigil.web.pages`` and the identity provider's
sign-in (``vigil.web.oidc``) use these; nothing here decides who may do what."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from vigil.app.context import AppContext
from vigil.cases.policy import Action, Policy
from vigil.errors import PermissionDenied
from vigil.http.deps import Principal
from vigil.roles import Actor, Role

#: the navigation: (path, label, element id, the action of the permission table its page needs)
NAV: tuple[tuple[str, str, str, Action], ...] = (
    ("/", "Map", "", Action.READ),
    ("/inbox", "Waiting for you", "nav-inbox", Action.READ),
    ("/cases", "Cases", "", Action.READ),
    ("/oversight", "Oversight", "", Action.READ_DASHBOARD),
    ("/incidents/upload", "Upload incidents", "", Action.UPLOAD_INCIDENTS),
    ("/admin/users", "Accounts", "", Action.MANAGE_ACCOUNTS),
    ("/notifications", "Notifications", "nav-notifications", Action.READ_NOTIFICATIONS),
    ("/audit", "Audit log", "nav-audit", Action.READ_AUDIT),
    ("/account/command-line", "Command-line access", "nav-command-line", Action.READ),
)


def nav_links(role: Role, policy: Policy | None = None) -> list[tuple[str, str, str]]:
    """(path, label, element id) of the pages ``role`` may open under ``policy`` (default: the
    packaged one), for the navigation bar."""
    from vigil.cases.policy import default_policy

    policy = policy or default_policy()
    return [(path, label, id_) for path, label, id_, a in NAV if role in policy.roles_for(a)]


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


def safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect a signed-in user to another host."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    parsed = urlparse(target)
    return "/" if parsed.netloc or parsed.scheme else target


def home_for(role: Role, policy: Policy) -> str:
    """The map for those who may read cases, else the accounts page (administrators)."""
    return "/" if role in policy.roles_for(Action.READ) else "/admin/users"


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
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


def refusal_in_words(policy: Policy, actor: Actor, action: Action) -> str | None:
    """Why the permission table refuses ``actor`` ``action``, said to a person ("As analyst
    you cannot authorise under policy 2: only authorising officer can"); None if it allows it.
    The table decides; this only words its answer."""
    reason = policy.refusal(actor, action)
    if reason is None:
        return None
    allowed = policy.roles_for(action)
    if actor.role not in allowed:
        names = " or ".join(sorted(r.value.replace("_", " ") for r in allowed)) or "nobody"
        return (
            f"As {actor.role.value.replace('_', ' ')} you cannot {action.phrase} under policy "
            f"{policy.version}: only {names} can"
        )
    return reason[:1].upper() + reason[1:]


def check_in_words(policy: Policy, actor: Actor, action: Action) -> None:
    """Raise :class:`PermissionDenied` with :func:`refusal_in_words` unless the table allows."""
    reason = refusal_in_words(policy, actor, action)
    if reason is not None:
        raise PermissionDenied(reason)
