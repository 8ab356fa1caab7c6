"""The audit trail of a case (itself an audited read) and verification of the whole log."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from vigil.app.audit import AuditEntryOut, VerifyOut, trail, verify_audit
from vigil.app.context import AppContext
from vigil.cases.policy import Action
from vigil.http.deps import CaseId, Principal, RequirePolicy, get_ctx

router = APIRouter(prefix="/api", tags=["audit"])


@router.get("/cases/{case_id}/audit", response_model=list[AuditEntryOut])
def case_audit(
    case_id: CaseId,
    principal: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> list[AuditEntryOut]:
    return trail(ctx, principal.actor, case_id)


@router.get("/audit/verify", response_model=VerifyOut)
def verify(
    principal: Principal = RequirePolicy(Action.VERIFY_AUDIT),
    ctx: AppContext = Depends(get_ctx),
) -> VerifyOut:
    """Walk the whole hash chain, check every signed checkpoint and replay the case rows
    against the log (vigil.app.audit.verify_audit); the verification is itself logged."""
    return verify_audit(ctx, principal.actor)
