"""The audit trail of a case (itself an audited read) and verification of the whole log."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from vigil.app.audit import AuditEntryOut, VerifyOut, trail
from vigil.app.context import AppContext
from vigil.audit.log import Category, append
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
    """Walk the whole hash chain; check every signed checkpoint (stored and witnessed) for its
    signature and Merkle consistency; replay the case rows against the log. ``ok`` when all
    hold. The verification reads every case, so it is itself logged."""
    from vigil.cases.audit_check import verify_log

    with ctx.session_factory() as s:
        report = verify_log(s, ctx.settings)
    with ctx.session_factory() as s, s.begin():
        append(
            s,
            actor=principal.actor,
            action="audit.verify",
            category=Category.CONSULTATION,
            at=ctx.clock.now(),
            detail={"ok": report.ok, "entries": report.entries, "problems": len(report.problems)},
        )
    return VerifyOut.of(report)
