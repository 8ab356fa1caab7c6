"""The community impact assessment of a case: a draft from the automatic indicators, new
versions as people complete it, the independent review, and the rendered document. Completeness
is the assessment model's ``missing()``; who may write or review comes from the policy."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from vigil.app.assessment import AssessmentOut, draft_assessment, latest_content
from vigil.app.cases import NotesIn
from vigil.app.context import AppContext
from vigil.app.views import CaseDetail, case_detail
from vigil.cases.policy import Action
from vigil.http.deps import CaseId, Principal, RequirePolicy, get_ctx
from vigil.http.errors import NotFound

router = APIRouter(prefix="/api/cases", tags=["impact"])


@router.get("/{case_id}/impact-assessment", response_model=AssessmentOut)
def read_assessment(
    case_id: CaseId,
    principal: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> AssessmentOut:
    view = ctx.cases.get_case(principal.actor, case_id, purpose="read impact assessment")
    if not view.assessments:
        raise NotFound(f"case {case_id} has no impact assessment yet")
    return AssessmentOut.of(view.assessments[-1])


@router.get("/{case_id}/impact-assessment/document", response_class=HTMLResponse)
def assessment_document(
    case_id: CaseId,
    principal: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> HTMLResponse:
    """The latest CIA as a standalone HTML document (print or save as PDF)."""
    from vigil.app.evaluation_plan import detectable_note
    from vigil.impact.assessment import CommunityImpactAssessment
    from vigil.reports.cia import render_html

    view = ctx.cases.get_case(principal.actor, case_id, purpose="read impact assessment")
    content = latest_content(view)
    if content is None:
        raise NotFound(f"case {case_id} has no impact assessment yet")
    cia = CommunityImpactAssessment.model_validate(content)
    return HTMLResponse(
        render_html(cia, ctx.clock.now(), detectable=detectable_note(ctx.session_factory, case_id))
    )


@router.post("/{case_id}/impact-assessment/draft", response_model=CaseDetail)
def draft(
    case_id: CaseId,
    principal: Principal = RequirePolicy(Action.ASSESS),
    ctx: AppContext = Depends(get_ctx),
) -> CaseDetail:
    return case_detail(draft_assessment(ctx, principal.actor, case_id))


@router.post("/{case_id}/impact-assessment", response_model=CaseDetail)
def attach(
    case_id: CaseId,
    body: dict[str, Any],
    principal: Principal = RequirePolicy(Action.ASSESS),
    ctx: AppContext = Depends(get_ctx),
) -> CaseDetail:
    """A new CIA version (the whole assessment, as ``CommunityImpactAssessment`` JSON)."""
    return case_detail(ctx.cases.attach_impact_assessment(principal.actor, case_id, body))


@router.post("/{case_id}/impact-assessment/review", response_model=CaseDetail)
def review(
    case_id: CaseId,
    body: NotesIn,
    principal: Principal = RequirePolicy(Action.REVIEW_ASSESSMENT),
    ctx: AppContext = Depends(get_ctx),
) -> CaseDetail:
    view = ctx.cases.review_impact_assessment(principal.actor, case_id, body.notes)
    return case_detail(view)
