"""Deployment cases: every transition is one call of ``vigil.cases.service.CaseService``, the
same calls the CLI makes. Who may call each route comes from the policy's permission table
(``RequirePolicy(Action...)``), so the policy file stays the one place that says it; the
service then checks everything else (rank, borough scope, state, maker-checker, consultations,
guardrails, the clock)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from vigil.app.cases import (
    AuthoriseIn,
    CaseIn,
    ConsultationIn,
    DebriefIn,
    ExtendIn,
    MessageIn,
    NotesIn,
    ReasonsIn,
    authorise,
    notification_feed,
    open_case,
    record_consultation,
    record_debrief,
)
from vigil.app.context import AppContext
from vigil.app.views import CaseDetail, CaseSummary, NotificationOut, case_detail, case_summary
from vigil.cases.policy import Action
from vigil.cases.service import CaseService, CaseView
from vigil.cases.states import Status
from vigil.http.deps import (
    CaseId,
    Principal,
    RequirePolicy,
    get_ctx,
)
from vigil.roles import Actor

router = APIRouter(prefix="/api/cases", tags=["cases"])


# ---------------------------------------------------------------------- routes
@router.get("", response_model=list[CaseSummary])
def list_cases(
    status: Status | None = Query(None, description="effective status (by the clock)"),
    borough: str | None = Query(None, max_length=64),
    principal: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> list[CaseSummary]:
    views = ctx.cases.list_cases(
        principal.actor, status=status, borough=borough, purpose="case list (api)"
    )
    return [case_summary(v) for v in views]


@router.post("", status_code=201, response_model=CaseDetail)
def create_case(
    body: CaseIn,
    principal: Principal = RequirePolicy(Action.OPEN),
    ctx: AppContext = Depends(get_ctx),
) -> CaseDetail:
    return open_case(ctx, principal.actor, body)


@router.get("/notifications", response_model=list[NotificationOut])
def notifications(
    principal: Principal = RequirePolicy(Action.READ_NOTIFICATIONS),
    ctx: AppContext = Depends(get_ctx),
) -> list[NotificationOut]:
    """Everything oversight must see, newest first (the read is audited as a case list)."""
    return notification_feed(ctx, principal.actor)


@router.get("/{case_id}", response_model=CaseDetail)
def get_case(
    case_id: CaseId,
    principal: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> CaseDetail:
    return case_detail(ctx.cases.get_case(principal.actor, case_id, purpose="api read"))


@router.get(
    "/{case_id}/evidence",
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {}}}},
)
def evidence(
    request: Request,
    case_id: CaseId,
    principal: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    """The frozen forecast the case rests on, checked against its digest, as GeoJSON (built
    once per snapshot; gzip and 304 as for the map layer)."""
    from vigil.app.forecasts import evidence_layer
    from vigil.http.caching import encoded_response

    return encoded_response(request, evidence_layer(ctx, principal.actor, case_id))


@router.post("/{case_id}/consultations", response_model=CaseDetail)
def consult(
    case_id: CaseId,
    body: ConsultationIn,
    principal: Principal = RequirePolicy(Action.CONSULT),
    ctx: AppContext = Depends(get_ctx),
) -> CaseDetail:
    """Record a consultee's position (concur, object or abstain) with reasons; the roles that
    may record each consultee come from the policy."""
    return record_consultation(ctx, principal.actor, case_id, body)


@router.post("/{case_id}/authorise", response_model=CaseDetail)
def authorise_case(
    case_id: CaseId,
    body: AuthoriseIn,
    principal: Principal = RequirePolicy(Action.AUTHORISE, Action.AUTHORISE_URGENT),
    ctx: AppContext = Depends(get_ctx),
) -> CaseDetail:
    return authorise(ctx, principal.actor, case_id, body)


@router.post("/{case_id}/notify-oversight", response_model=CaseDetail)
def notify_oversight(
    case_id: CaseId,
    body: MessageIn,
    principal: Principal = RequirePolicy(Action.NOTIFY_OVERSIGHT),
    ctx: AppContext = Depends(get_ctx),
) -> CaseDetail:
    return case_detail(ctx.cases.notify_oversight(principal.actor, case_id, body.message))


@router.post("/{case_id}/extend", response_model=CaseDetail)
def extend(
    case_id: CaseId,
    body: ExtendIn,
    principal: Principal = RequirePolicy(Action.EXTEND),
    ctx: AppContext = Depends(get_ctx),
) -> CaseDetail:
    view = ctx.cases.extend(
        principal.actor, case_id, body.hours, body.reasons, body.override_reason or None
    )
    return case_detail(view)


@router.post("/{case_id}/debrief", response_model=CaseDetail)
def debrief(
    case_id: CaseId,
    body: DebriefIn,
    principal: Principal = RequirePolicy(Action.DEBRIEF),
    ctx: AppContext = Depends(get_ctx),
) -> CaseDetail:
    """Record the debrief of a deployment that ran."""
    return record_debrief(ctx, principal.actor, case_id, body)


@router.post("/{case_id}/close", response_model=CaseDetail)
def close(
    case_id: CaseId,
    body: NotesIn,
    principal: Principal = RequirePolicy(Action.CLOSE),
    ctx: AppContext = Depends(get_ctx),
) -> CaseDetail:
    return case_detail(ctx.cases.close(principal.actor, case_id, body.notes))


# ---------------------------------------------------------------------- routes from a table
def _simple(
    path: str,
    action: Action,
    act: Callable[[CaseService, Actor, int], CaseView],
    doc: str,
) -> None:
    """``POST /api/cases/{case_id}/<path>`` with no body: ``act`` by the caller, if the policy
    lets them do ``action``; the case after."""

    def route(
        case_id: CaseId,
        principal: Principal = RequirePolicy(action),
        ctx: AppContext = Depends(get_ctx),
    ) -> CaseDetail:
        return case_detail(act(ctx.cases, principal.actor, case_id))

    route.__name__ = route.__qualname__ = path.replace("-", "_")
    route.__doc__ = doc
    router.post(f"/{{case_id}}/{path}", response_model=CaseDetail)(route)


def _with_reasons(
    path: str,
    action: Action,
    act: Callable[[CaseService, Actor, int, str], CaseView],
    doc: str,
) -> None:
    """``POST /api/cases/{case_id}/<path>`` whose body is only the reasons (``ReasonsIn``)."""

    def route(
        case_id: CaseId,
        body: ReasonsIn,
        principal: Principal = RequirePolicy(action),
        ctx: AppContext = Depends(get_ctx),
    ) -> CaseDetail:
        return case_detail(act(ctx.cases, principal.actor, case_id, body.reasons))

    route.__name__ = route.__qualname__ = path.replace("-", "_")
    route.__doc__ = doc
    router.post(f"/{{case_id}}/{path}", response_model=CaseDetail)(route)


_simple("submit", Action.SUBMIT, CaseService.submit, "Submit the draft for consultation.")
_simple(
    "request-authorisation",
    Action.REQUEST_AUTHORISATION,
    CaseService.request_authorisation,
    "Consultation done: put the case before an authorising officer.",
)
_simple("activate", Action.ACTIVATE, CaseService.activate, "Officers deployed: the window runs.")
_with_reasons("ratify", Action.RATIFY, CaseService.ratify_urgent, "Ratify an urgent authorisation.")
_with_reasons("refuse", Action.REFUSE, CaseService.refuse, "Refuse the request, with reasons.")
_with_reasons("withdraw", Action.WITHDRAW, CaseService.withdraw, "Withdraw before a decision.")
_with_reasons("cancel", Action.CANCEL, CaseService.cancel, "End the deployment early.")
