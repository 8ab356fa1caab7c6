"""Deployment cases: every transition is one call of ``vigil.cases.service.CaseService``, the
same calls the CLI makes. Who may call each route comes from the policy's permission table
(``RequirePolicy(Action...)``), so the policy file stays the one place that says it; the
service then checks everything else (rank, borough scope, state, maker-checker, consultations,
guardrails, the clock)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
    extend,
    notification_feed,
    open_case,
    record_consultation,
    record_debrief,
)
from vigil.app.context import AppContext
from vigil.app.text import RequestModel
from vigil.app.views import CaseDetail, CaseSummary, NotificationOut, case_detail, case_summary
from vigil.cases.policy import Action
from vigil.cases.service import CaseService, CaseView
from vigil.cases.states import Status
from vigil.http.caching import GEOJSON_ROUTE
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
    **GEOJSON_ROUTE,
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


# ---------------------------------------------------------------------- routes from a table
#: what a body route does: the use case, given the caller, the case and the validated body
BodyAct = Callable[[AppContext, Actor, int, Any], CaseDetail]


def _post(
    path: str,
    actions: tuple[Action, ...],
    act: BodyAct,
    doc: str | None = None,
    *,
    model: type[RequestModel] | None = None,
    name: str | None = None,
) -> None:
    """``POST /api/cases/{case_id}/<path>``: ``act`` by the caller, if the policy lets them do
    one of ``actions``; the case after. ``model`` is the request body's model, if it has one."""
    if model is None:

        def route(
            case_id: CaseId,
            principal: Principal = RequirePolicy(*actions),
            ctx: AppContext = Depends(get_ctx),
        ) -> CaseDetail:
            return act(ctx, principal.actor, case_id, None)

    else:

        def route(  # type: ignore[misc]  # the same route, with the body between
            case_id: CaseId,
            body: Any,
            principal: Principal = RequirePolicy(*actions),
            ctx: AppContext = Depends(get_ctx),
        ) -> CaseDetail:
            return act(ctx, principal.actor, case_id, body)

        # FastAPI reads the body's model from the annotation (the others are module names)
        route.__annotations__ = {**route.__annotations__, "body": model}
    route.__name__ = route.__qualname__ = name or path.replace("-", "_")
    route.__doc__ = doc
    router.post(f"/{{case_id}}/{path}", response_model=CaseDetail)(route)


def _service(step: Callable[..., CaseView], *fields: str) -> BodyAct:
    """A use case that is one ``CaseService`` step: the body's ``fields`` (none for no body) as
    its arguments after the caller and the case."""

    def act(ctx: AppContext, actor: Actor, case_id: int, body: Any) -> CaseDetail:
        return case_detail(step(ctx.cases, actor, case_id, *(getattr(body, f) for f in fields)))

    return act


def _simple(path: str, action: Action, step: Callable[..., CaseView], doc: str) -> None:
    """A route with no body."""
    _post(path, (action,), _service(step), doc)


def _with_reasons(path: str, action: Action, step: Callable[..., CaseView], doc: str) -> None:
    """A route whose body is only the reasons (``ReasonsIn``)."""
    _post(path, (action,), _service(step, "reasons"), doc, model=ReasonsIn)


_post(
    "consultations",
    (Action.CONSULT,),
    record_consultation,
    "Record a consultee's position (concur, object or abstain) with reasons; the roles that "
    "may record each consultee come from the policy.",
    model=ConsultationIn,
    name="consult",
)
_post(
    "authorise",
    (Action.AUTHORISE, Action.AUTHORISE_URGENT),
    authorise,
    model=AuthoriseIn,
    name="authorise_case",
)
_post(
    "notify-oversight",
    (Action.NOTIFY_OVERSIGHT,),
    _service(CaseService.notify_oversight, "message"),
    model=MessageIn,
)
_post("extend", (Action.EXTEND,), extend, model=ExtendIn)
_post(
    "debrief",
    (Action.DEBRIEF,),
    record_debrief,
    "Record the debrief of a deployment that ran.",
    model=DebriefIn,
)
_post("close", (Action.CLOSE,), _service(CaseService.close, "notes"), model=NotesIn)
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
