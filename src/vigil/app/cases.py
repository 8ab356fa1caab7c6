"""Deployment cases as use cases: the request bodies every shell validates with (the API's JSON,
the web forms and the command line share them, so a value refused in one is refused in all), and
the calls that turn a validated body into a ``CaseService`` call, so the API and the pages cannot
pass its fields differently."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field

from vigil.app.context import AppContext
from vigil.app.exceptional import freeze_figure
from vigil.app.text import RequestModel
from vigil.app.views import CaseDetail, NotificationOut, case_detail, notification
from vigil.cases.policy import POSITIONS
from vigil.cases.statements import Consultation, Debrief
from vigil.clock import as_utc
from vigil.errors import NotFound, VigilError
from vigil.roles import Actor

Text = Field(min_length=1, max_length=4000)


def _utc_moment(value: datetime) -> datetime:
    """Naive times are UTC; anything outside 1990-2200 is a typo, not a deployment window."""
    if not (datetime(1990, 1, 2) <= value.replace(tzinfo=None) <= datetime(2199, 12, 30)):
        raise ValueError("must be between 1990 and 2200")
    return as_utc(value)


Moment = Annotated[datetime, AfterValidator(_utc_moment)]


# ---------------------------------------------------------------------- bodies
class CaseIn(RequestModel):
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


class ReasonsIn(RequestModel):
    reasons: str = Text
    confirm_no_personal_data: bool = False


class ConsultationIn(ReasonsIn):
    consultee: str = Field(min_length=1, max_length=64)
    position: str = Field(min_length=1, max_length=16, description=" | ".join(POSITIONS))


class AuthoriseIn(RequestModel):
    conditions: str = Text
    start: Moment | None = Field(None, description="default: the requested window")
    end: Moment | None = None
    override_reason: str | None = Field(None, max_length=4000)
    urgent: bool = False


class MessageIn(RequestModel):
    message: str = Text


class ExtendIn(RequestModel):
    hours: float = Field(gt=0, le=24 * 7, allow_inf_nan=False)
    reasons: str = Text
    override_reason: str | None = Field(None, max_length=4000)


class DebriefIn(RequestModel):
    what_happened: str = Text
    incidents: int = Field(ge=0, le=1_000_000)
    complaints: int = Field(ge=0, le=1_000_000)
    community_feedback: str = Field("", max_length=4000)
    confirm_no_personal_data: bool = False


class NotesIn(RequestModel):
    notes: str = Field("", max_length=4000)


# ---------------------------------------------------------------------- domain calls
def open_case(ctx: AppContext, actor: Actor, body: CaseIn) -> CaseDetail:
    evidence = ctx.surface_source() if body.use_current_forecast else None
    if body.use_current_forecast and evidence is None:
        raise NotFound("no current forecast to freeze as evidence: run `vigil forecast` first")
    if evidence is not None:
        # the one "exceptional" figure of the case area, frozen with (and hashed into) the evidence
        evidence = freeze_figure(evidence, body.cells or None, body.area_wkt)
    view = ctx.cases.open_case(
        actor,
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


def authorise(ctx: AppContext, actor: Actor, case_id: int, body: AuthoriseIn) -> CaseDetail:
    window = None
    if body.start is not None or body.end is not None:
        if body.start is None or body.end is None:
            raise VigilError("give both start and end of the authorised window, or neither")
        window = (as_utc(body.start), as_utc(body.end))
    view = ctx.cases.authorise(
        actor,
        case_id,
        conditions=body.conditions,
        window=window,
        override_reason=body.override_reason or None,
        urgent=body.urgent,
    )
    return case_detail(view)


def extend(ctx: AppContext, actor: Actor, case_id: int, body: ExtendIn) -> CaseDetail:
    view = ctx.cases.extend(actor, case_id, body.hours, body.reasons, body.override_reason or None)
    return case_detail(view)


def record_consultation(
    ctx: AppContext, actor: Actor, case_id: int, body: ConsultationIn
) -> CaseDetail:
    consultation = Consultation(body.consultee, body.position, body.reasons)
    view = ctx.cases.record_consultation(
        actor, case_id, consultation, confirm_no_personal_data=body.confirm_no_personal_data
    )
    return case_detail(view)


def record_debrief(ctx: AppContext, actor: Actor, case_id: int, body: DebriefIn) -> CaseDetail:
    debrief = Debrief(body.what_happened, body.incidents, body.complaints, body.community_feedback)
    view = ctx.cases.record_debrief(
        actor, case_id, debrief, confirm_no_personal_data=body.confirm_no_personal_data
    )
    return case_detail(view)


def notification_feed(ctx: AppContext, actor: Actor) -> list[NotificationOut]:
    views = ctx.cases.list_cases(actor, purpose="oversight notifications")
    items = [notification(n) for v in views for n in v.notifications]
    for v in views:
        for a in v.authorisations:
            items.append(
                NotificationOut(
                    case_id=v.id,
                    kind=f"authorisation:{a.kind}",
                    recipient="oversight",
                    message=(
                        f"{a.actor_role} ({a.actor_id}) authorised {a.start:%Y-%m-%d %H:%M} to "
                        f"{a.end:%Y-%m-%d %H:%M} UTC"
                        + (
                            f"; guardrails overridden: {', '.join(a.overridden_rules)}"
                            if a.overridden_rules
                            else ""
                        )
                    ),
                    actor_id=a.actor_id,
                    created_at=as_utc(a.decided_at).isoformat(),
                    acknowledged_at=None,
                )
            )
    items.sort(key=lambda n: n.created_at or "", reverse=True)
    return items
