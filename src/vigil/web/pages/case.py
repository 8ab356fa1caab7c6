"""The case page: the request with its justification, the task list (what is done, what is
outstanding, whose turn it is), the forms the permission table offers this account now, the
guardrail check before a decision, the evaluation and the trail; and the "check your answers"
page before submitting and authorising.

What a form may do is decided by the permission table and the workflow's states; the page only
offers the forms they allow (the workflow re-checks when a form is posted)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from vigil.app.context import AppContext
from vigil.app.evaluation_plan import plan_of
from vigil.app.exceptional import figure_in_words
from vigil.app.forecast_store import evidence_staleness
from vigil.app.views import EvaluationPlanOut
from vigil.cases.policy import POSITIONS, Action
from vigil.errors import PermissionDenied
from vigil.http.deps import CaseId, Principal, RequirePolicy, get_ctx
from vigil.web import forms
from vigil.web.layout import render

router = APIRouter(include_in_schema=False)

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

FLASHES = {
    "opened": "Case opened as a draft. Submit it when the request is ready.",
    "done": "Recorded.",
    "submit": "Submitted for consultation. The local commander and the community lead are asked.",
    "consult": "Consultation recorded.",
    "assess": "Community impact assessment saved as a new version.",
    "review_assessment": "Community impact assessment reviewed.",
    "request_authorisation": "Authorisation requested. The authorising officer is asked.",
    "refuse": "Request refused. The requester is told.",
    "ratify": "Urgent authorisation ratified.",
    "withdraw": "Request withdrawn.",
    "notify_oversight": "Oversight notified.",
    "activate": "Deployment active: officers are on the ground.",
    "extend": "Deployment extended.",
    "cancel": "Deployment cancelled: officers stood down.",
    "debrief": "Debrief recorded.",
    "close": "Case closed.",
}

#: decisions on one page of the case page's timeline
TRAIL_PAGE = 20

#: actions that show a "check your answers" page before they are carried out
CONFIRM = {
    "authorise": "Check your answers before authorising",
    "submit": "Check the request before submitting it",
}


def guardrail_preview(ctx: AppContext, view: Any) -> list[Any] | None:
    """The guardrail check the authorisation will run, shown to the authoriser beforehand
    (None when it cannot be run now: the decision itself still runs it)."""
    from vigil.cases.workflow import GuardView
    from vigil.impact.guardrails import check

    r = view.record
    guard = GuardView(
        id=r.id,
        area_wkt=r.area_wkt,
        requested_start=r.requested_start,
        requested_end=r.requested_end,
        evidence=None if r.evidence_json is None else json.loads(r.evidence_json),
    )
    try:
        with ctx.session_factory() as s:
            return list(check(s, guard, ctx.cases.policy.guardrails, ctx.clock.now()))
    except Exception:  # a preview must never block the page; the decision re-checks
        return None


def _evaluation(ctx: AppContext, case_id: int) -> dict[str, Any] | None:
    """The latest "did it help?" evaluation of the case, if one was run."""
    from vigil.outcomes.record import latest_evaluation

    with ctx.session_factory() as s:
        row = latest_evaluation(s, case_id)
        if row is None:
            return None
        return {
            "verdict": row.verdict,
            "rate_ratio": row.rate_ratio,
            "ci_low": row.ci_low,
            "ci_high": row.ci_high,
            "message": row.message,
            "evaluated_at": row.evaluated_at,
            "resolution": row.resolution,
        }


def _plan(ctx: AppContext, case_id: int) -> EvaluationPlanOut | None:
    """The pre-registered evaluation plan, with what it can detect, frozen when the case was
    opened: the authoriser reads it before deciding, not after the result (issue 17)."""
    with ctx.session_factory() as s:
        return plan_of(s, case_id)


def _reviewers(ctx: AppContext) -> list[tuple[str, str]]:
    """(account id, name and role) of the active accounts the policy lets review a CIA (the
    account list as the identity store keeps it for a moment: a choice offered in a form, which
    the workflow checks again when the form is posted)."""
    from vigil.web.helpers import label

    allowed = ctx.cases.policy.roles_for(Action.REVIEW_ASSESSMENT)
    return [
        (u.id, f"{u.display_name or u.username}, {label(u.role).lower()}")
        for u in ctx.identity.list_users_recent()
        if u.active and u.role in allowed
    ]


def _kept(ctx: AppContext, what: str, case_id: int, trail: Any, build: Any) -> Any:
    """``build()``, kept by the case's last decision (``trail.stamp``): the evaluation and the
    plan are written with a decision entry on the case (vigil.outcomes), so they cannot change
    without it moving (issue 11: each was a session and a query on every case page view)."""
    stamp = getattr(trail, "stamp", None)
    if stamp is None:
        return build()
    from vigil.lru import Lru

    parts: Lru[tuple[str, int, int | None], Any] = ctx.cached("case_page_parts", lambda: Lru(1024))
    key = (what, case_id, stamp.last_decision_seq)
    if key in parts:
        return parts[key]
    value = build()
    parts[key] = value
    return value


def case_page_response(
    request: Request,
    principal: Principal,
    ctx: AppContext,
    case_id: CaseId,
    *,
    flash: str | None = None,
    flash_kind: str = "ok",
    status: int = 200,
    errors: dict[str, str] | None = None,
    failed: str = "",
    values: dict[str, str] | None = None,
    panel: str = "",
    trail_page: int = 1,
) -> HTMLResponse:
    """The case page; after a refused form, with the error summary, the message next to its
    field and what was typed kept in the form (``failed`` names that form). The trail shows
    page ``trail_page`` of the decisions and counts the reads (vigil.audit.query)."""
    from vigil.app.area_names import area_place
    from vigil.app.audit import CaseTrailOut
    from vigil.app.views import area_wgs84_geojson, case_detail
    from vigil.cases.states import LIVE, Status
    from vigil.cases.workflow import ALLOWED_FROM
    from vigil.impact.assessment import REQUIRED_CONSULTEES, Position, TensionRating
    from vigil.web.tasks import case_tasks

    # one audited read for the whole page (the case and its trail)
    view, found = ctx.cases.read_with_trail(
        principal.actor, case_id, purpose="case page", page=max(1, trail_page), per_page=TRAIL_PAGE
    )
    case = case_detail(view)
    trail = CaseTrailOut.of(found)
    area_geojson = area_wgs84_geojson(view.record.area_wkt)
    place = area_place(view.record.area_wkt, ctx.settings.shared_data)
    policy = ctx.cases.policy
    actor = principal.actor
    current = Status(case["status"])
    can = {
        action: current in ALLOWED_FROM.get(action, frozenset())
        and policy.permits(actor, ACTION_OF[action], view.record)
        for action in ACTION_OF
    }
    can["authorise_urgent"] = (
        case["trigger"] in policy.urgent.triggers
        and current in ALLOWED_FROM["authorise_urgent"]
        and current is not Status.AWAITING_AUTHORISATION
        and policy.permits(actor, Action.AUTHORISE_URGENT, view.record)
    )
    can["ratify"] = can["ratify"] and bool(case["urgent"]) and not case["ratified_at"]
    can["submit_any"] = current is Status.DRAFT
    latest = view.assessments[-1] if view.assessments else None
    evaluation = _kept(ctx, "evaluation", case_id, found, lambda: _evaluation(ctx, case_id))
    tasks = case_tasks(case, policy, evaluation is not None, principal.user.role, can)
    deciding = can["authorise"] or can["authorise_urgent"] or can["refuse"]
    kept = values or {}

    def v(action: str, name: str, default: Any = "") -> Any:
        """What the person typed, if ``action``'s form was refused; else ``default``."""
        return kept.get(name, default) if failed == action else default

    return render(
        request,
        "case.html",
        principal,
        status=status,
        case=case,
        trail=trail,
        audit_link=f"/audit?case={case_id}" if policy.permits(actor, Action.READ_AUDIT) else None,
        area_geojson=area_geojson,
        place=place,
        can=can,
        live=current in LIVE,
        cia=None if latest is None else dict(latest.content),
        cia_record=case["assessments"][-1] if case["assessments"] else None,
        consultees=policy.consultees_for(actor),
        positions=list(POSITIONS),
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
        errors=errors or {},
        v=v,
        justification=trail.justification,
        fig=figure_in_words(case.exceptional, policy.guardrails),
        stale_evidence=evidence_staleness(
            view.record.evidence_json, view.record.evidence_digest, view.record.requested_start
        ),
        guardrails=guardrail_preview(ctx, view) if deciding else None,
        evaluation=evaluation,
        plan=_kept(ctx, "plan", case_id, found, lambda: _plan(ctx, case_id)),
        tasks=tasks,
        panel=panel,
        max_hours=policy.window.initial_max_hours,
        urgent_rules=policy.urgent,
        urgent_min_rank=policy.rule(Action.AUTHORISE_URGENT).min_rank,
        reviewers=_reviewers(ctx),
        failed=failed,
    )


@router.get("/cases/{case_id}")
def case_page(
    request: Request,
    case_id: CaseId,
    flash: str | None = None,
    trail: int = 1,
    principal: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    panel = flash if flash in ("authorise", "authorise_urgent") else ""
    return case_page_response(
        request,
        principal,
        ctx,
        case_id,
        flash=None if panel else FLASHES.get(flash or ""),
        panel=panel,
        trail_page=trail,
    )


def confirm_page(
    request: Request,
    principal: Principal,
    ctx: AppContext,
    case_id: int,
    action: str,
    values: dict[str, str],
) -> HTMLResponse:
    """Check your answers: what will be recorded, with the reasons and the guardrail check,
    before the decision is made. Refused (PermissionDenied) when the permission table refuses
    this account the decision on this case (another borough's, not their own): nobody is shown
    a page whose button could only be refused."""
    from vigil.app.views import case_detail

    view, trail = ctx.cases.read_with_trail(principal.actor, case_id, purpose="check answers page")
    wanted = Action.AUTHORISE_URGENT if forms.flag(values, "urgent") else ACTION_OF[action]
    reason = ctx.cases.policy.refusal(principal.actor, wanted, view.record)
    if reason is not None:
        raise PermissionDenied(reason[:1].upper() + reason[1:])
    case = case_detail(view)
    start = forms.utc_time(values, "start") if values.get("start") else None  # type: ignore[arg-type]
    end = forms.utc_time(values, "end") if values.get("end") else None  # type: ignore[arg-type]
    return render(
        request,
        "case_confirm.html",
        principal,
        case=case,
        action=action,
        heading=CONFIRM[action],
        values=values,
        start=start or case["requested_start"],
        end=end or case["requested_end"],
        justification=trail.justification,
        fig=figure_in_words(case.exceptional, ctx.cases.policy.guardrails),
        stale_evidence=evidence_staleness(
            view.record.evidence_json,
            view.record.evidence_digest,
            start or view.record.requested_start,
        ),
        guardrails=guardrail_preview(ctx, view) if action == "authorise" else None,
    )
