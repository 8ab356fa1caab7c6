"""Deployment cases: every transition is one call of ``vigil.cases.service.CaseService``, the
same calls the CLI makes. Who may call each route comes from the policy's permission table
(``RequirePolicy(Action...)``), so the policy file stays the one place that says it; the
service then checks everything else (rank, borough scope, state, maker-checker, consultations,
guardrails, the clock)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import AfterValidator, BaseModel, Field

from vigil.api.context import AppContext
from vigil.api.deps import CaseId, Principal, RequirePolicy, get_ctx
from vigil.api.errors import NotFound
from vigil.api.views import case_detail, case_summary, notification
from vigil.cases.policy import Action
from vigil.cases.states import Status
from vigil.clock import as_utc
from vigil.errors import VigilError

router = APIRouter(prefix="/api/cases", tags=["cases"])

Text = Field(min_length=1, max_length=4000)


def _utc_moment(value: datetime) -> datetime:
    """Naive times are UTC; anything outside 1990-2200 is a typo, not a deployment window."""
    if not (datetime(1990, 1, 2) <= value.replace(tzinfo=None) <= datetime(2199, 12, 30)):
        raise ValueError("must be between 1990 and 2200")
    return as_utc(value)


Moment = Annotated[datetime, AfterValidator(_utc_moment)]


# ---------------------------------------------------------------------- bodies
class CaseIn(BaseModel):
    trigger: str = Field("proactive", description="proactive (forecast-led) or reactive")
    cells: list[str] = Field(
        default_factory=list, max_length=400, description="area ids of the current forecast"
    )
    area_wkt: str | None = Field(None, max_length=200_000, description="polygon, EPSG:27700")
    borough: str | None = Field(None, max_length=64)
    start: Moment
    end: Moment
    resources: str = Text
    objectives: str = Text
    success_measures: list[str] = Field(min_length=1, max_length=20)
    justification: str = Field("", max_length=4000)
    use_current_forecast: bool = Field(
        True, description="freeze the map's current forecast as the case's evidence"
    )
    confirm_no_personal_data: bool = False


class ReasonsIn(BaseModel):
    reasons: str = Text
    confirm_no_personal_data: bool = False


class ConsultationIn(ReasonsIn):
    consultee: str = Field(min_length=1, max_length=64)
    position: str = Field(min_length=1, max_length=16, description="concur, object or abstain")


class AuthoriseIn(BaseModel):
    conditions: str = Text
    start: Moment | None = Field(None, description="default: the requested window")
    end: Moment | None = None
    override_reason: str | None = Field(None, max_length=4000)
    urgent: bool = False


class MessageIn(BaseModel):
    message: str = Text


class ExtendIn(BaseModel):
    hours: float = Field(gt=0, le=24 * 7, allow_inf_nan=False)
    reasons: str = Text
    override_reason: str | None = Field(None, max_length=4000)


class DebriefIn(BaseModel):
    what_happened: str = Text
    incidents: int = Field(ge=0, le=1_000_000)
    complaints: int = Field(ge=0, le=1_000_000)
    community_feedback: str = Field("", max_length=4000)
    confirm_no_personal_data: bool = False


class NotesIn(BaseModel):
    notes: str = Field("", max_length=4000)


Json = dict[str, Any]


# ---------------------------------------------------------------------- domain calls
def open_case(ctx: AppContext, principal: Principal, body: CaseIn) -> Json:
    evidence = ctx.surface_source() if body.use_current_forecast else None
    if body.use_current_forecast and evidence is None:
        raise NotFound("no current forecast to freeze as evidence: run `vigil forecast` first")
    view = ctx.cases.open_case(
        principal.actor,
        trigger=body.trigger,
        window=(as_utc(body.start), as_utc(body.end)),
        resources=body.resources,
        objectives=body.objectives,
        success_measures=body.success_measures,
        area_wkt=body.area_wkt,
        cells=body.cells or None,
        borough=body.borough,
        evidence=evidence,
        justification=body.justification,
        confirm_no_personal_data=body.confirm_no_personal_data,
    )
    return case_detail(view)


def authorise(ctx: AppContext, principal: Principal, case_id: int, body: AuthoriseIn) -> Json:
    window = None
    if body.start is not None or body.end is not None:
        if body.start is None or body.end is None:
            raise VigilError("give both start and end of the authorised window, or neither")
        window = (as_utc(body.start), as_utc(body.end))
    view = ctx.cases.authorise(
        principal.actor,
        case_id,
        conditions=body.conditions,
        window=window,
        override_reason=body.override_reason or None,
        urgent=body.urgent,
    )
    return case_detail(view)


# ---------------------------------------------------------------------- routes
@router.get("", response_model=list[dict[str, Any]])
def list_cases(
    status: Status | None = Query(None, description="effective status (by the clock)"),
    borough: str | None = Query(None, max_length=64),
    principal: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> list[Json]:
    views = ctx.cases.list_cases(
        principal.actor, status=status, borough=borough, purpose="case list (api)"
    )
    return [case_summary(v) for v in views]


@router.post("", status_code=201, response_model=dict[str, Any])
def create_case(
    body: CaseIn,
    principal: Principal = RequirePolicy(Action.OPEN),
    ctx: AppContext = Depends(get_ctx),
) -> Json:
    return open_case(ctx, principal, body)


@router.get("/notifications", response_model=list[dict[str, Any]])
def notifications(
    principal: Principal = RequirePolicy(Action.READ_NOTIFICATIONS),
    ctx: AppContext = Depends(get_ctx),
) -> list[Json]:
    """Everything oversight must see, newest first (the read is audited as a case list)."""
    return notification_feed(ctx, principal)


def notification_feed(ctx: AppContext, principal: Principal) -> list[Json]:
    views = ctx.cases.list_cases(principal.actor, purpose="oversight notifications")
    items = [notification(n) for v in views for n in v.notifications]
    for v in views:
        for a in v.authorisations:
            items.append(
                {
                    "case_id": v.id,
                    "kind": f"authorisation:{a.kind}",
                    "recipient": "oversight",
                    "message": (
                        f"{a.actor_role} ({a.actor_id}) authorised {a.start:%Y-%m-%d %H:%M} to "
                        f"{a.end:%Y-%m-%d %H:%M} UTC"
                        + (
                            f"; guardrails overridden: {', '.join(a.overridden_rules)}"
                            if a.overridden_rules
                            else ""
                        )
                    ),
                    "actor_id": a.actor_id,
                    "created_at": as_utc(a.decided_at).isoformat(),
                    "acknowledged_at": None,
                }
            )
    items.sort(key=lambda n: n["created_at"] or "", reverse=True)
    return items


@router.get("/{case_id}", response_model=dict[str, Any])
def get_case(
    case_id: CaseId,
    principal: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> Json:
    return case_detail(ctx.cases.get_case(principal.actor, case_id, purpose="api read"))


@router.get(
    "/{case_id}/evidence",
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {}}}},
)
def evidence(
    case_id: CaseId,
    principal: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    """The frozen forecast the case rests on, checked against its digest, as GeoJSON."""
    from vigil.api.routers.forecasts import surface_geojson

    surface = ctx.cases.evidence(principal.actor, case_id)
    return Response(surface_geojson(surface), media_type="application/geo+json")


@router.post("/{case_id}/submit", response_model=dict[str, Any])
def submit(
    case_id: CaseId,
    principal: Principal = RequirePolicy(Action.SUBMIT),
    ctx: AppContext = Depends(get_ctx),
) -> Json:
    return case_detail(ctx.cases.submit(principal.actor, case_id))


@router.post("/{case_id}/consultations", response_model=dict[str, Any])
def consult(
    case_id: CaseId,
    body: ConsultationIn,
    principal: Principal = RequirePolicy(Action.CONSULT),
    ctx: AppContext = Depends(get_ctx),
) -> Json:
    view = ctx.cases.record_consultation(
        principal.actor,
        case_id,
        body.consultee,
        body.position,
        body.reasons,
        body.confirm_no_personal_data,
    )
    return case_detail(view)


@router.post("/{case_id}/request-authorisation", response_model=dict[str, Any])
def request_authorisation(
    case_id: CaseId,
    principal: Principal = RequirePolicy(Action.REQUEST_AUTHORISATION),
    ctx: AppContext = Depends(get_ctx),
) -> Json:
    return case_detail(ctx.cases.request_authorisation(principal.actor, case_id))


@router.post("/{case_id}/authorise", response_model=dict[str, Any])
def authorise_case(
    case_id: CaseId,
    body: AuthoriseIn,
    principal: Principal = RequirePolicy(Action.AUTHORISE, Action.AUTHORISE_URGENT),
    ctx: AppContext = Depends(get_ctx),
) -> Json:
    return authorise(ctx, principal, case_id, body)


@router.post("/{case_id}/ratify", response_model=dict[str, Any])
def ratify(
    case_id: CaseId,
    body: ReasonsIn,
    principal: Principal = RequirePolicy(Action.RATIFY),
    ctx: AppContext = Depends(get_ctx),
) -> Json:
    return case_detail(ctx.cases.ratify_urgent(principal.actor, case_id, body.reasons))


@router.post("/{case_id}/refuse", response_model=dict[str, Any])
def refuse(
    case_id: CaseId,
    body: ReasonsIn,
    principal: Principal = RequirePolicy(Action.REFUSE),
    ctx: AppContext = Depends(get_ctx),
) -> Json:
    return case_detail(ctx.cases.refuse(principal.actor, case_id, body.reasons))


@router.post("/{case_id}/withdraw", response_model=dict[str, Any])
def withdraw(
    case_id: CaseId,
    body: ReasonsIn,
    principal: Principal = RequirePolicy(Action.WITHDRAW),
    ctx: AppContext = Depends(get_ctx),
) -> Json:
    return case_detail(ctx.cases.withdraw(principal.actor, case_id, body.reasons))


@router.post("/{case_id}/notify-oversight", response_model=dict[str, Any])
def notify_oversight(
    case_id: CaseId,
    body: MessageIn,
    principal: Principal = RequirePolicy(Action.NOTIFY_OVERSIGHT),
    ctx: AppContext = Depends(get_ctx),
) -> Json:
    return case_detail(ctx.cases.notify_oversight(principal.actor, case_id, body.message))


@router.post("/{case_id}/activate", response_model=dict[str, Any])
def activate(
    case_id: CaseId,
    principal: Principal = RequirePolicy(Action.ACTIVATE),
    ctx: AppContext = Depends(get_ctx),
) -> Json:
    return case_detail(ctx.cases.activate(principal.actor, case_id))


@router.post("/{case_id}/extend", response_model=dict[str, Any])
def extend(
    case_id: CaseId,
    body: ExtendIn,
    principal: Principal = RequirePolicy(Action.EXTEND),
    ctx: AppContext = Depends(get_ctx),
) -> Json:
    view = ctx.cases.extend(
        principal.actor, case_id, body.hours, body.reasons, body.override_reason or None
    )
    return case_detail(view)


@router.post("/{case_id}/cancel", response_model=dict[str, Any])
def cancel(
    case_id: CaseId,
    body: ReasonsIn,
    principal: Principal = RequirePolicy(Action.CANCEL),
    ctx: AppContext = Depends(get_ctx),
) -> Json:
    return case_detail(ctx.cases.cancel(principal.actor, case_id, body.reasons))


@router.post("/{case_id}/debrief", response_model=dict[str, Any])
def debrief(
    case_id: CaseId,
    body: DebriefIn,
    principal: Principal = RequirePolicy(Action.DEBRIEF),
    ctx: AppContext = Depends(get_ctx),
) -> Json:
    view = ctx.cases.record_debrief(
        principal.actor,
        case_id,
        what_happened=body.what_happened,
        incidents=body.incidents,
        complaints=body.complaints,
        community_feedback=body.community_feedback,
        confirm_no_personal_data=body.confirm_no_personal_data,
    )
    return case_detail(view)


@router.post("/{case_id}/close", response_model=dict[str, Any])
def close(
    case_id: CaseId,
    body: NotesIn,
    principal: Principal = RequirePolicy(Action.CLOSE),
    ctx: AppContext = Depends(get_ctx),
) -> Json:
    return case_detail(ctx.cases.close(principal.actor, case_id, body.notes))
