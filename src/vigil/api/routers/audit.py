"""The audit trail of a case (itself an audited read) and verification of the whole chain."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from vigil.app.audit import trail
from vigil.app.context import AppContext
from vigil.cases.policy import Action
from vigil.http.deps import CaseId, Principal, RequirePolicy, get_ctx

router = APIRouter(prefix="/api", tags=["audit"])


@router.get("/cases/{case_id}/audit", response_model=list[dict[str, Any]])
def case_audit(
    case_id: CaseId,
    principal: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> list[dict[str, Any]]:
    return trail(ctx, principal.actor, case_id)


@router.get("/audit/verify", response_model=dict[str, Any])
def verify(
    _: Principal = RequirePolicy(Action.VERIFY_AUDIT),
    ctx: AppContext = Depends(get_ctx),
) -> dict[str, Any]:
    """Walk the whole hash chain and the stored signed checkpoints; ``ok`` when unbroken."""
    from vigil.audit.verify import report_dict, stored_checkpoints, verify_chain

    with ctx.session_factory() as s:
        report = verify_chain(s, checkpoints=stored_checkpoints(s))
    return report_dict(report)
