"""A case's pre-registered evaluation plan (issue 17): read it, and change it. Who may change
it is the permission table's ``change_plan`` row; a change after the deployment window has started
needs a justification and is audited as such (``vigil.app.evaluation_plan.change_plan``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from vigil.app.context import AppContext
from vigil.app.evaluation_plan import PlanChangeIn, change_plan, plan_of
from vigil.app.views import EvaluationPlanOut
from vigil.cases.policy import Action
from vigil.http.deps import CaseId, Principal, RequirePolicy, get_ctx
from vigil.http.errors import NotFound

router = APIRouter(prefix="/api/cases", tags=["evaluation"])


@router.get("/{case_id}/evaluation-plan", response_model=EvaluationPlanOut)
def read_plan(
    case_id: CaseId,
    principal: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> EvaluationPlanOut:
    ctx.cases.get_case(principal.actor, case_id, purpose="read evaluation plan")
    with ctx.session_factory() as s:
        plan = plan_of(s, case_id)
    if plan is None:
        raise NotFound(f"case {case_id} has no evaluation plan")
    return plan


@router.post("/{case_id}/evaluation-plan", response_model=EvaluationPlanOut)
def change(
    case_id: CaseId,
    body: PlanChangeIn,
    principal: Principal = RequirePolicy(Action.CHANGE_PLAN),
    ctx: AppContext = Depends(get_ctx),
) -> EvaluationPlanOut:
    return change_plan(ctx.cases, principal.actor, case_id, body.changes(), body.justification)
