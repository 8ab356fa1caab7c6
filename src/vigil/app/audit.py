"""The audit trail of a case as people and scripts read it (the read is itself audited by the
case service), and the logging of reads and uploads that have no case transaction of their own
to ride in (reports, forecasts, account lists, verification, mappings and incident files: DPA
2018 s.62 asks for them too)."""

from __future__ import annotations

from typing import Any

from vigil.app.context import AppContext
from vigil.app.views import Out
from vigil.audit.log import Category, entry_payload, record_access
from vigil.audit.verify import VerifyReport
from vigil.db.audit import AuditEntry
from vigil.roles import Actor


class AuditEntryOut(Out):
    """An audit entry as the API and the case page show it: every field its hash covers (so a
    reader can recompute it), and the hash."""

    seq: int
    at: str
    actor_id: str
    actor_role: str
    actor_rank: int
    action: str
    category: str
    case_id: int | None
    before_digest: str | None
    after_digest: str | None
    justification: str
    #: the entry's detail as the canonical JSON text that was hashed
    detail: str
    prev_hash: str
    hash: str


class VerifyOut(Out):
    """What ``vigil audit verify --json`` prints and ``GET /api/audit/verify`` answers."""

    ok: bool
    entries: int
    head_seq: int
    head_hash: str
    root: str
    checkpoints_checked: int
    proven_to: int
    cases_checked: int | None
    problems: list[str]
    notes: list[str]

    @classmethod
    def of(cls, report: VerifyReport) -> VerifyOut:
        return cls(
            ok=report.ok,
            entries=report.entries,
            head_seq=report.head_seq,
            head_hash=report.head_hash,
            root=report.root,
            checkpoints_checked=report.checkpoints_checked,
            proven_to=report.proven_to,
            cases_checked=report.cases_checked,
            problems=list(report.problems),
            notes=list(report.notes),
        )


def trail_dicts(entries: list[AuditEntry]) -> list[AuditEntryOut]:
    """Entries as the API and the case page show them: every hashed field, and the hash."""
    return [AuditEntryOut(**entry_payload(e), hash=e.hash) for e in entries]


def trail(ctx: AppContext, actor: Actor, case_id: int) -> list[AuditEntryOut]:
    return trail_dicts(ctx.cases.audit_trail(actor, case_id))


def record_read(
    ctx: AppContext,
    actor: Actor,
    action: str,
    *,
    category: Category = Category.CONSULTATION,
    detail: dict[str, Any] | None = None,
) -> None:
    """Log one read (or, with another ``category``, an event outside the case tables, such as
    a mapping or incident upload) in its own short transaction, durable before the caller
    answers."""
    record_access(
        ctx.session_factory,
        actor=actor,
        action=action,
        category=category,
        at=ctx.clock.now(),
        detail=detail,
    )


def record_account_list(ctx: AppContext, actor: Actor, user_ids: list[str], where: str) -> None:
    """The account list discloses who holds which role and rank: logged with the ids shown."""
    record_read(ctx, actor, "user.list", detail={"user_ids": user_ids, "where": where})
