"""Appending to the hash-chained audit log, inside the caller's transaction.

Each entry's hash covers its own fields and the previous entry's hash, so editing, deleting or
reordering any entry breaks the chain from there on. A rolled-back transaction leaves neither
its change nor its audit entry behind.

How concurrent writers keep one chain without a long lock: :func:`append` does no database
work at all; it computes the entry and parks it on the session. When the session commits, a
``before_commit`` hook locks the chain head row (``SELECT ... FOR UPDATE``; SQLite's
``BEGIN IMMEDIATE`` already serialises writers), numbers and hashes the parked entries, inserts
them and moves the head: three statements, and the lock is released by the commit that follows.
So the head is locked only for the last moments of a transaction, never while it does its work
(loading a case, checking policy, rendering), and several app processes on PostgreSQL keep one
chain: each waits, at most, for another's final three statements and commit. The entries are
written in the same transaction as the change they record, so a request is answered only after
its entry is durable, and a rolled-back transaction leaves neither behind.

Reads are logged too, with the Data Protection Act 2018 s.62 category of processing.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Required, TypedDict, Unpack, cast

from sqlalchemy import Table, bindparam, event, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

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


class EntryFields(TypedDict, total=False):
    """What an entry is made of, as :func:`new_entry` takes it: :func:`append` passes these on
    unchanged, so the two cannot drift apart."""

    actor: Required[Actor]
    action: Required[str]
    category: Required[Category | str]
    at: Required[datetime]
    case_id: int | None
    before: Any
    after: Any
    justification: str
    detail: dict[str, Any] | None


def append(session: Session, **fields: Unpack[EntryFields]) -> AuditEntry:
    """Add one entry after the current head, in (and committed with) the caller's transaction.

    Returns the entry, transient: it is numbered, hashed and inserted when the transaction
    commits (see the module docstring), with Core statements, not added to the session.

    ``before``/``after`` are the states the action moved between (any JSON-able value); only
    their digests are logged, so the log never duplicates case content.
    """
    entry = new_entry(**fields)
    session.info.setdefault(_PARKED, []).append(entry)
    return entry


def new_entry(
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
    """An entry not yet numbered, hashed or written (:func:`append` parks it on a session;
    :class:`vigil.audit.writer.AuditWriter` writes it with others)."""
    return AuditEntry(
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
    )


_PARKED = "vigil.audit.parked_entries"


def park(session: Session, entries: list[AuditEntry]) -> None:
    """Add ``entries`` (from :func:`new_entry`) to the session's transaction: chained and
    inserted when it commits."""
    session.info.setdefault(_PARKED, []).extend(entries)


_HEAD = cast(Table, AuditHead.__table__)
_HEAD_FOR_UPDATE = select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1).with_for_update()
_INSERT = insert(cast(Table, AuditEntry.__table__))
_MOVE_HEAD = (
    update(_HEAD).where(_HEAD.c.id == 1).values(seq=bindparam("seq"), hash=bindparam("hash"))
)


@event.listens_for(Session, "before_commit")
def _chain_parked(session: Session) -> None:
    """Chain the entries parked in this transaction, under the head lock, just before commit."""
    parked: list[AuditEntry] = session.info.pop(_PARKED, [])
    if not parked:
        return
    # Core statements on the session's connection: the ORM's bulk insert machinery cost more
    # than the three statements themselves (issue 11)
    conn = session.connection()
    head = conn.execute(_HEAD_FOR_UPDATE).one_or_none()
    if head is None:
        raise AuditError("audit_head row missing: the database was not migrated (vigil db upgrade)")
    seq, prev = head.seq, head.hash
    rows = []
    columns = AuditEntry.__mapper__.columns
    for entry in parked:
        seq += 1
        entry.seq, entry.prev_hash = seq, prev
        entry.hash = prev = entry_hash(entry)
        rows.append({c.name: getattr(entry, c.key) for c in columns})
    conn.execute(_INSERT, rows)
    conn.execute(_MOVE_HEAD, {"seq": seq, "hash": prev})


@event.listens_for(Session, "after_rollback")
def _drop_parked(session: Session) -> None:
    session.info.pop(_PARKED, None)


def record_access(
    session_factory: sessionmaker[Session],
    *,
    actor: Actor,
    action: str,
    at: datetime,
    category: Category | str = Category.CONSULTATION,
    case_id: int | None = None,
    justification: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """Log a read that has no transaction of its own to ride in (reports, forecasts, account
    lists, verification): one entry, committed (and chained) before the caller answers; on
    PostgreSQL with the other entries waiting in this process (vigil.audit.writer)."""
    from vigil.audit.writer import writer_for

    entry = new_entry(
        actor=actor,
        action=action,
        category=category,
        at=at,
        case_id=case_id,
        justification=justification,
        detail=detail,
    )
    writer = writer_for(session_factory)
    if writer is not None:
        writer.write([entry])
        return
    with session_factory() as s, s.begin():
        park(s, [entry])


def entries_for_case(session: Session, case_id: int) -> list[AuditEntry]:
    return list(
        session.execute(
            select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(AuditEntry.seq)
        ).scalars()
    )
