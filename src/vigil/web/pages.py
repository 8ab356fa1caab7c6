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
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigil.app.context import AppContext
from vigil.cases.policy import Action, Policy
from vigil.db.identity import SESSION_IDLE, AuthenticationFailed, SignInThrottled
from vigil.errors import PermissionDenied
from vigil.http.deps import (
    ANY_ROLE,
    SESSION_COOKIE,
    CaseId,
    Principal,
    Require,
    RequirePolicy,
    check_step_up,
    client_address,
    get_ctx,
    optional_principal,
)
from vigil.roles import Role
from vigil.web import forms

router = APIRouter(include_in_schema=False)

LOGIN_CSRF_COOKIE = "vigil_login_csrf"

#: the navigation: (path, label, element id, the action of the permission table its page needs)
NAV: tuple[tuple[str, str, str, Action], ...] = (
    ("/", "Map", "", Action.READ),
    ("/cases", "Cases", "", Action.READ),
    ("/oversight", "Oversight", "", Action.READ_DASHBOARD),
    ("/incidents/upload", "Upload incidents", "", Action.UPLOAD_INCIDENTS),
    ("/admin/users", "Accounts", "", Action.MANAGE_ACCOUNTS),
    ("/notifications", "Notifications", "nav-notifications", Action.READ_NOTIFICATIONS),
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


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect a signed-in user to another host."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    parsed = urlparse(target)
    return "/" if parsed.netloc or parsed.scheme else target


def home_for(role: Role, policy: Policy) -> str:
    """The map for those who may read cases, else the accounts page (administrators)."""
    return "/" if role in policy.roles_for(Action.READ) else "/admin/users"


# ---------------------------------------------------------------------- sign-in
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
            request, "password.html", principal, 400, error="enter the current and new password"
        )
    if new != confirm:
        return render(
            request, "password.html", principal, 400, error="the two new passwords differ"
        )
    try:
        session = await ctx.signin_pool.run(
            ctx.identity.change_password, principal.user, current, new, keep_session=True
        )
    except VigilError as exc:
        return render(request, "password.html", principal, 400, error=str(exc))
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


# ---------------------------------------------------------------------- the map
@router.get("/")
def map_page(
    request: Request,
    principal: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    from vigil.app.forecasts import log_forecast_read, top_areas

    surface = ctx.surface_source()
    info = top = None
    if surface is not None:
        log_forecast_read(ctx, principal.actor, surface, "map page", k=15)
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
        can_open=ctx.cases.policy.permits(principal.actor, Action.OPEN),
    )


# ---------------------------------------------------------------------- cases
@router.get("/cases")
def cases_page(
    request: Request,
    status: str | None = None,
    principal: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    from vigil.app.views import case_summary
    from vigil.cases.states import Status

    statuses = [s.value for s in Status]
    wanted = status if status in statuses else None
    views = ctx.cases.list_cases(principal.actor, status=wanted, purpose="case list page")
    return render(
        request,
        "cases.html",
        principal,
        cases=[case_summary(v) for v in views],
        statuses=statuses,
        status_filter=wanted or "",
    )


@router.get("/cases/new")
def new_case_page(
    request: Request,
    area_id: str = "",
    principal: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    from datetime import timedelta

    ctx.cases.policy.check(principal.actor, Action.OPEN)
    now = ctx.clock.now().replace(second=0, microsecond=0)
    start = now + timedelta(hours=1)
    end = start + timedelta(hours=min(12, ctx.cases.policy.window.initial_max_hours))
    surface = ctx.surface_source()
    return render(
        request,
        "case_new.html",
        principal,
        area_id=area_id,
        start=forms.local_input(start),
        end=forms.local_input(end),
        surface=surface,
        max_hours=ctx.cases.policy.window.initial_max_hours,
    )


@router.post("/cases/new")
async def create_case(
    request: Request,
    principal: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    from vigil.app.cases import CaseIn, open_case

    form = await request.form()
    body = forms.validated(
        CaseIn,
        form,
        "trigger",
        "borough",
        "resources",
        "objectives",
        "justification",
        cells=[c.strip() for c in forms.text(form, "cells").split(",") if c.strip()],
        area_wkt=None,
        start=forms.utc_time(form, "start"),
        end=forms.utc_time(form, "end"),
        success_measures=forms.lines(form, "success_measures"),
        use_current_forecast=True,
        confirm_no_personal_data=forms.flag(form, "confirm_no_personal_data"),
    )
    case = open_case(ctx, principal.actor, body)
    return RedirectResponse(f"/cases/{case['id']}?flash=opened", status_code=303)


FLASHES = {
    "opened": "Case opened as a draft. Submit it when the request is ready.",
    "done": "Recorded.",
}


def _case_page(
    request: Request,
    principal: Principal,
    ctx: AppContext,
    case_id: CaseId,
    *,
    flash: str | None = None,
    flash_kind: str = "ok",
    status: int = 200,
) -> HTMLResponse:

    from vigil.app.audit import trail_dicts
    from vigil.app.views import area_wgs84_geojson, case_detail
    from vigil.cases.states import LIVE, Status
    from vigil.cases.workflow import ALLOWED_FROM
    from vigil.impact.assessment import REQUIRED_CONSULTEES, Position, TensionRating

    # one audited read for the whole page (the case and its trail)
    view, entries = ctx.cases.read_with_trail(principal.actor, case_id, purpose="case page")
    case = case_detail(view)
    audit = trail_dicts(entries)
    area_geojson = area_wgs84_geojson(view.record.area_wkt)
    policy = ctx.cases.policy
    current = Status(case["status"])
    can = {
        action: current in ALLOWED_FROM.get(action, frozenset())
        and policy.permits(principal.actor, ACTION_OF[action], view.record)
        for action in ACTIONS
    }
    latest = view.assessments[-1] if view.assessments else None
    return render(
        request,
        "case.html",
        principal,
        status=status,
        case=case,
        audit=audit,
        area_geojson=area_geojson,
        can=can,
        live=current in LIVE,
        cia=None if latest is None else dict(latest.content),
        cia_record=case["assessments"][-1] if case["assessments"] else None,
        consultees=policy.consultees_for(principal.actor),
        positions=["concur", "object", "abstain"],
        bodies=REQUIRED_CONSULTEES,
        cia_positions=[p.value for p in Position],
        ratings=[r.value for r in TensionRating],
        reviewer_roles=[r.value for r in policy.roles_for(Action.REVIEW_ASSESSMENT)],
        risk_rows=range(1, forms.RISK_ROWS + 1),
        mitigation_rows=range(1, forms.MITIGATION_ROWS + 1),
        local_input=forms.local_input,
        flash=flash,
        flash_kind=flash_kind,
        now_iso=ctx.clock.now().isoformat(),
    )


@router.get("/cases/{case_id}")
def case_page(
    request: Request,
    case_id: CaseId,
    flash: str | None = None,
    principal: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    return _case_page(request, principal, ctx, case_id, flash=FLASHES.get(flash or ""))


@router.post("/cases/{case_id}/actions/{action}")
async def case_action(
    request: Request,
    case_id: CaseId,
    action: str,
    principal: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    """One form, one service call; a refusal comes back on the case page with its reason."""
    from vigil.errors import VigilError
    from vigil.http.errors import status_for

    form = await request.form()
    handler = ACTIONS.get(action)
    if handler is None:
        return _case_page(
            request,
            principal,
            ctx,
            case_id,
            flash=f"unknown action '{action}'",
            flash_kind="error",
            status=404,
        )
    check_step_up(ctx, principal, action, f"/cases/{case_id}")
    try:
        # the role gate of the API route; rank, scope and state are the workflow's
        ctx.cases.policy.check(principal.actor, ACTION_OF[action])
        handler(ctx, principal, case_id, form)
    except VigilError as exc:
        return _case_page(
            request,
            principal,
            ctx,
            case_id,
            flash=f"Refused: {exc}",
            flash_kind="error",
            status=status_for(exc),
        )
    return RedirectResponse(f"/cases/{case_id}?flash=done", status_code=303)


def _act_submit(ctx: AppContext, p: Principal, case_id: int, form: Any) -> None:
    ctx.cases.submit(p.actor, case_id)


def _act_consult(ctx: AppContext, p: Principal, case_id: int, form: Any) -> None:
    from vigil.app.cases import ConsultationIn

    body = forms.validated(
        ConsultationIn,
        form,
        "consultee",
        "position",
        "reasons",
        confirm_no_personal_data=forms.flag(form, "confirm_no_personal_data"),
    )
    ctx.cases.record_consultation(
        p.actor,
        case_id,
        body.consultee,
        body.position,
        body.reasons,
        body.confirm_no_personal_data,
    )


def _act_assess(ctx: AppContext, p: Principal, case_id: int, form: Any) -> None:
    from vigil.app.assessment import draft_assessment, latest_content

    if forms.text(form, "mode") == "draft":
        draft_assessment(ctx, p.actor, case_id)
        return
    view = ctx.cases.get_case(p.actor, case_id, purpose="complete impact assessment")
    content = forms.cia_from_form(form, latest_content(view), case_id)
    ctx.cases.attach_impact_assessment(p.actor, case_id, content)


def _act_review(ctx: AppContext, p: Principal, case_id: int, form: Any) -> None:
    ctx.cases.review_impact_assessment(p.actor, case_id, forms.text(form, "notes"))


def _act_request(ctx: AppContext, p: Principal, case_id: int, form: Any) -> None:
    ctx.cases.request_authorisation(p.actor, case_id)


def _act_authorise(ctx: AppContext, p: Principal, case_id: int, form: Any) -> None:
    from vigil.app.cases import AuthoriseIn, authorise

    body = forms.validated(
        AuthoriseIn,
        form,
        "conditions",
        "override_reason",
        start=forms.utc_time(form, "start") if forms.text(form, "start") else None,
        end=forms.utc_time(form, "end") if forms.text(form, "end") else None,
        urgent=forms.flag(form, "urgent"),
    )
    authorise(ctx, p.actor, case_id, body)


def _act_reasons(method: str) -> Any:
    def act(ctx: AppContext, p: Principal, case_id: int, form: Any) -> None:
        from vigil.app.cases import ReasonsIn

        body = forms.validated(ReasonsIn, form, "reasons")
        getattr(ctx.cases, method)(p.actor, case_id, body.reasons)

    return act


def _act_notify(ctx: AppContext, p: Principal, case_id: int, form: Any) -> None:
    from vigil.app.cases import MessageIn

    body = forms.validated(MessageIn, form, "message")
    ctx.cases.notify_oversight(p.actor, case_id, body.message)


def _act_activate(ctx: AppContext, p: Principal, case_id: int, form: Any) -> None:
    ctx.cases.activate(p.actor, case_id)


def _act_extend(ctx: AppContext, p: Principal, case_id: int, form: Any) -> None:
    from vigil.app.cases import ExtendIn

    body = forms.validated(ExtendIn, form, "hours", "reasons", "override_reason")
    ctx.cases.extend(p.actor, case_id, body.hours, body.reasons, body.override_reason or None)


def _act_debrief(ctx: AppContext, p: Principal, case_id: int, form: Any) -> None:
    from vigil.app.cases import DebriefIn

    body = forms.validated(
        DebriefIn,
        form,
        "what_happened",
        "incidents",
        "complaints",
        "community_feedback",
        confirm_no_personal_data=forms.flag(form, "confirm_no_personal_data"),
    )
    ctx.cases.record_debrief(
        p.actor,
        case_id,
        what_happened=body.what_happened,
        incidents=body.incidents,
        complaints=body.complaints,
        community_feedback=body.community_feedback,
        confirm_no_personal_data=body.confirm_no_personal_data,
    )


def _act_close(ctx: AppContext, p: Principal, case_id: int, form: Any) -> None:
    from vigil.app.cases import NotesIn

    ctx.cases.close(p.actor, case_id, forms.validated(NotesIn, form, "notes").notes)


#: the form action -> the permission-table action it asks for
ACTION_OF: dict[str, Action] = {
    "submit": Action.SUBMIT,
    "consult": Action.CONSULT,
    "assess": Action.ASSESS,
    "review_assessment": Action.REVIEW_ASSESSMENT,
    "request_authorisation": Action.REQUEST_AUTHORISATION,
    "authorise": Action.AUTHORISE,
    "refuse": Action.REFUSE,
    "ratify": Action.RATIFY,
    "withdraw": Action.WITHDRAW,
    "notify_oversight": Action.NOTIFY_OVERSIGHT,
    "activate": Action.ACTIVATE,
    "extend": Action.EXTEND,
    "cancel": Action.CANCEL,
    "debrief": Action.DEBRIEF,
    "close": Action.CLOSE,
}

ACTIONS: dict[str, Any] = {
    "submit": _act_submit,
    "consult": _act_consult,
    "assess": _act_assess,
    "review_assessment": _act_review,
    "request_authorisation": _act_request,
    "authorise": _act_authorise,
    "refuse": _act_reasons("refuse"),
    "ratify": _act_reasons("ratify_urgent"),
    "withdraw": _act_reasons("withdraw"),
    "notify_oversight": _act_notify,
    "activate": _act_activate,
    "extend": _act_extend,
    "cancel": _act_reasons("cancel"),
    "debrief": _act_debrief,
    "close": _act_close,
}


# ---------------------------------------------------------------------- oversight
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


# ---------------------------------------------------------------------- accounts
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


# ---------------------------------------------------------------------- incident uploads
@router.get("/incidents/upload")
def upload_page(
    request: Request,
    principal: Principal = RequirePolicy(Action.UPLOAD_INCIDENTS),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    from vigil.data.mapping import shipped_mappings

    return render(request, "upload.html", principal, mappings=shipped_mappings())
