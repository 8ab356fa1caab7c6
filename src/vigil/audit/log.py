"""Appending to the hash-chained audit log, inside the caller's transaction.

Each entry's hash covers its own fields and the previous entry's hash, so editing, deleting or
reordering any entry breaks the chain from there on. Appenders lock the single ``audit_head``
row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serialises
writers), so concurrent transactions extend the chain one at a time and a rolled-back
transaction leaves neither its change nor its audit entry behind.

Reads are logged too, with the Data Protection Act 2018 s.62 category of processing.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from vigil.audit.canonical import canonical_json, digest, sha256_hex
from vigil.clock import as_utc
from vigil.db.audit import AuditEntry, AuditHead
from vigil.errors import VigilError
from vigil.roles import Actor

GENESIS_HASH = "0" * 64


class Category(StrEnum):
    """Data Protection Act 2018 s.62(1): the operations a log must record."""

    COLLECTION = "collection"
    ALTERATION = "alteration"
    CONSULTATION = "consultation"
    DISCLOSURE = "disclosure"
    COMBINATION = "combination"
    ERASURE = "erasure"


class AuditError(VigilError):
    """The audit log cannot be written or read as required."""


def entry_payload(entry: Any) -> dict[str, Any]:
    """The fields an entry's hash covers (everything but the hash itself); ``entry`` is an
    :class:`AuditEntry` or a row of the ``audit_log`` table."""
    return {
        "seq": entry.seq,
        "at": as_utc(entry.at).isoformat(),
        "actor_id": entry.actor_id,
        "actor_role": entry.actor_role,
        "actor_rank": entry.actor_rank,
        "action": entry.action,
        "category": entry.category,
        "case_id": entry.case_id,
        "before_digest": entry.before_digest,
        "after_digest": entry.after_digest,
        "justification": entry.justification,
        "detail": entry.detail,
        "prev_hash": entry.prev_hash,
    }


def entry_hash(entry: Any) -> str:
    return sha256_hex(canonical_json(entry_payload(entry)))


def _with_auth_time(detail: dict[str, Any] | None, actor: Actor) -> dict[str, Any]:
    """The entry's detail with the time the actor last authenticated (step-up), when known."""
    at = getattr(actor, "authenticated_at", None)
    if at is None:
        return detail or {}
    return {**(detail or {}), "auth_time": as_utc(at).isoformat()}


def append(
    session: Session,
    *,
    actor: Actor,
    action: str,
    category: Category | str,
    at: datetime,
    case_id: int | None = None,
    before: Any = None,
    after: Any = None,
    justification: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add one entry after the current head, in (and committed with) the caller's transaction.

    Returns a transient copy of the entry (it is written with Core statements, not added to the
    session).

    ``before``/``after`` are the states the action moved between (any JSON-able value); only
    their digests are logged, so the log never duplicates case content.
    """
    # Core statements, not ORM units of work: three round trips under the head lock
    head = session.execute(
        select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1).with_for_update()
    ).one_or_none()
    if head is None:
        raise AuditError("audit_head row missing: the database was not migrated (vigil db upgrade)")
    entry = AuditEntry(
        seq=head.seq + 1,
        at=as_utc(at),
        actor_id=actor.user_id,
        actor_role=str(actor.role),
        actor_rank=int(actor.rank),
        action=action,
        category=str(Category(category)),
        case_id=case_id,
        before_digest=None if before is None else digest(before),
        after_digest=None if after is None else digest(after),
        justification=justification or "",
        detail=canonical_json(_with_auth_time(detail, actor)),
        prev_hash=head.hash,
    )
    entry.hash = entry_hash(entry)
    columns = AuditEntry.__mapper__.columns
    session.execute(insert(AuditEntry).values({c.name: getattr(entry, c.key) for c in columns}))
    session.execute(
        update(AuditHead).where(AuditHead.id == 1).values(seq=entry.seq, hash=entry.hash)
    )
    return entry


def entries_for_case(session: Session, case_id: int) -> list[AuditEntry]:
    return list(
        session.execute(
            select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(AuditEntry.seq)
        ).scalars()
    )
