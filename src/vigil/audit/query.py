"""Reading the audit log a page at a time: a case's decisions (its reads summarised, not listed)
and the force-wide search with filters.

A case's log grows by one ``case.read`` entry every time anyone opens it, so a case page that
listed its whole log grew with its views (and cost more to draw the more it was read: issue 11).
The decisions (state changes, consultations, notes, expiry) are what a reader of the case needs
in full; the reads are counted, with the last one named, and stay searchable in the audit view.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, not_, or_, select, true
from sqlalchemy.orm import Session

from vigil.db.audit import AuditEntry

#: the entries that disclose and change nothing: reads of a case, its evidence, its trail, the
#: case list (``case.list``) and other reads (``*.read``)
READ_ACTIONS_LIKE = "%.read"
LIST_ACTION = "case.list"


def is_read(action: str) -> bool:
    """Whether an entry's action is a read (see :data:`READ_ACTIONS_LIKE`)."""
    return action.endswith(".read") or action == LIST_ACTION


def _reads() -> ColumnElement[bool]:
    return or_(AuditEntry.action.like(READ_ACTIONS_LIKE), AuditEntry.action == LIST_ACTION)


@dataclass(frozen=True)
class ReadSummary:
    """How often a case was read, and the last read (None when never)."""

    count: int
    last: AuditEntry | None


@dataclass(frozen=True)
class EntryPage:
    """One page of entries, newest first, and how many match in all."""

    entries: list[AuditEntry]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _page(session: Session, where: ColumnElement[bool], page: int, per_page: int) -> EntryPage:
    if page < 1 or per_page < 1:
        raise ValueError(f"page {page} of {per_page} entries: both must be at least 1")
    total = session.execute(select(func.count()).select_from(AuditEntry).where(where)).scalar_one()
    rows = session.execute(
        select(AuditEntry)
        .where(where)
        .order_by(AuditEntry.seq.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).scalars()
    return EntryPage(list(rows), int(total), page, per_page)


@dataclass(frozen=True)
class CaseTrail:
    """What the case page shows of a case's log: a page of its decisions, its reads summarised
    and the opening justification."""

    decisions: EntryPage
    reads: ReadSummary
    justification: str
    #: the aggregate it was read with (what a caller keeps derived parts of the page by)
    stamp: TrailStamp | None = None


@dataclass(frozen=True)
class TrailStamp:
    """What one aggregate over a case's entries says: how many there are, how many are reads,
    the seq of the last read, of the opening and of the last decision. The last decision's seq
    names the case's recorded state: every change to a case, its plan or its evaluation writes
    a decision entry on it in the same transaction (vigil.audit.log), so whatever is derived
    from the case's decisions can be kept by it."""

    total: int
    reads: int
    last_read_seq: int | None
    open_seq: int | None
    last_decision_seq: int | None

    @property
    def decisions(self) -> int:
        return self.total - self.reads


def trail_stamp_columns() -> list[ColumnElement[Any]]:
    """The aggregate columns of :class:`TrailStamp`, over ``audit_log`` where ``case_id``
    (a caller may add its own columns to the same statement)."""
    reads = _reads()
    return [
        func.count(),
        func.count(case((reads, 1))),
        func.max(case((reads, AuditEntry.seq))),
        func.min(case((AuditEntry.action == "case.open", AuditEntry.seq))),
        func.max(case((not_(reads), AuditEntry.seq))),
    ]


def trail_stamp(session: Session, case_id: int) -> TrailStamp:
    row = session.execute(select(*trail_stamp_columns()).where(AuditEntry.case_id == case_id)).one()
    return stamp_of(row)


def stamp_of(row: Any) -> TrailStamp:
    """The :class:`TrailStamp` of a row whose first five columns are :func:`trail_stamp_columns`."""
    total, n_reads, last_seq, open_seq, last_decision = tuple(row)[:5]
    return TrailStamp(int(total), int(n_reads), last_seq, open_seq, last_decision)


#: a page of a case's decisions and its opening justification, by (case id, last decision's
#: seq, page, per page): they change only when a decision is added
DecisionCache = MutableMapping[tuple[int, int | None, int, int], tuple[list[AuditEntry], str]]


def case_trail(
    session: Session,
    case_id: int,
    page: int = 1,
    per_page: int = 20,
    *,
    stamp: TrailStamp | None = None,
    decisions: DecisionCache | None = None,
) -> CaseTrail:
    """Page ``page`` of the case's entries that are not reads, newest first; how many reads are
    logged and the last one; the requester's "why this is exceptional" as recorded when the case
    was opened. One aggregate over the case's entries gives both counts, the last read's seq and
    the opening's (``stamp``, when the caller already ran it); then the page of decisions; then,
    by primary key, whichever of the last read and the opening entry that page did not already
    bring (issue 11: it was five queries, one round trip each on every case page view).

    With ``decisions`` (a cache the caller keeps), the page of decisions and the justification
    are kept by the last decision's seq, so a case read again with no new decision costs the
    aggregate and the last read's row only."""
    if page < 1 or per_page < 1:
        raise ValueError(f"page {page} of {per_page} entries: both must be at least 1")
    stamp = stamp or trail_stamp(session, case_id)
    n_decisions = stamp.decisions
    key = (case_id, stamp.last_decision_seq, page, per_page)
    kept = None if decisions is None else decisions.get(key)
    if kept is not None:
        shown, justification = kept
        last = None
        if stamp.last_read_seq is not None:
            last = session.execute(
                select(AuditEntry).where(AuditEntry.seq == stamp.last_read_seq)
            ).scalar_one_or_none()
        return CaseTrail(
            decisions=EntryPage(list(shown), n_decisions, page, per_page),
            reads=ReadSummary(stamp.reads, last),
            justification=justification,
            stamp=stamp,
        )
    shown = []
    if (page - 1) * per_page < n_decisions:
        shown = list(
            session.execute(
                select(AuditEntry)
                .where(AuditEntry.case_id == case_id, not_(_reads()))
                .order_by(AuditEntry.seq.desc())
                .offset((page - 1) * per_page)
                .limit(per_page)
            ).scalars()
        )
    last_seq, open_seq = stamp.last_read_seq, stamp.open_seq
    by_seq = {e.seq: e for e in shown}
    wanted = [q for q in (last_seq, open_seq) if q is not None and q not in by_seq]
    if wanted:
        by_seq.update(
            (e.seq, e)
            for e in session.execute(select(AuditEntry).where(AuditEntry.seq.in_(wanted))).scalars()
        )
    opening = by_seq.get(open_seq) if open_seq is not None else None
    justification = (opening.justification if opening is not None else None) or ""
    if decisions is not None:
        decisions[key] = (shown, justification)
    return CaseTrail(
        decisions=EntryPage(list(shown), n_decisions, page, per_page),
        reads=ReadSummary(stamp.reads, by_seq.get(last_seq) if last_seq is not None else None),
        justification=justification,
        stamp=stamp,
    )


@dataclass(frozen=True)
class AuditFilter:
    """What the force-wide audit view asks for; None/empty: no filter. ``since``/``until`` are
    UTC instants (the page turns the London dates people type into them), ``until`` exclusive.
    ``action`` matches the action or, ending in '.', every action under it ('case.')."""

    case_id: int | None = None
    action: str = ""
    actor_id: str = ""
    since: datetime | None = None
    until: datetime | None = None

    def where(self) -> ColumnElement[bool]:
        parts: list[ColumnElement[bool]] = []
        if self.case_id is not None:
            parts.append(AuditEntry.case_id == self.case_id)
        if self.action:
            if self.action.endswith("."):
                parts.append(AuditEntry.action.startswith(self.action, autoescape=True))
            else:
                parts.append(AuditEntry.action == self.action)
        if self.actor_id:
            parts.append(AuditEntry.actor_id == self.actor_id)
        if self.since is not None:
            parts.append(AuditEntry.at >= self.since)
        if self.until is not None:
            parts.append(AuditEntry.at < self.until)
        return and_(true(), *parts)


def search(session: Session, wanted: AuditFilter, page: int = 1, per_page: int = 50) -> EntryPage:
    """Page ``page`` of the entries ``wanted`` selects, newest first."""
    return _page(session, wanted.where(), page, per_page)


def each_match(session: Session, wanted: AuditFilter, batch: int = 1000) -> Iterator[AuditEntry]:
    """Every entry ``wanted`` selects, oldest first, read ``batch`` at a time (for an export:
    the whole log is never held in memory)."""
    after = 0
    while True:
        rows = list(
            session.execute(
                select(AuditEntry)
                .where(wanted.where(), AuditEntry.seq > after)
                .order_by(AuditEntry.seq)
                .limit(batch)
            ).scalars()
        )
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].seq


def actions(session: Session) -> list[str]:
    """The actions the log holds, for the filter's choices."""
    return list(
        session.execute(select(AuditEntry.action).distinct().order_by(AuditEntry.action)).scalars()
    )
