"""The audit trail of a case as people and scripts read it (the read is itself audited by the
case service), and the logging of reads and uploads that have no case transaction of their own
to ride in (reports, forecasts, account lists, verification, mappings and incident files: DPA
2018 s.62 asks for them too)."""

from __future__ import annotations

from typing import Any

from vigil.app.context import AppContext
from vigil.audit.log import Category, entry_payload, record_access
from vigil.db.audit import AuditEntry
from vigil.roles import Actor


def trail_dicts(entries: list[AuditEntry]) -> list[dict[str, Any]]:
    """Entries as the API and the case page show them: every hashed field, and the hash."""
    return [{**entry_payload(e), "hash": e.hash} for e in entries]


def trail(ctx: AppContext, actor: Actor, case_id: int) -> list[dict[str, Any]]:
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
