"""The audit trail of a case as people and scripts read it (the read is itself audited by the
case service), and the logging of reads and uploads that have no case transaction of their own
to ride in (reports, forecasts, account lists, verification, mappings and incident files: DPA
2018 s.62 asks for them too)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from vigil.app.context import AppContext
from vigil.app.views import Out
from vigil.audit.log import Category, entry_payload, record_access
from vigil.audit.query import AuditFilter, CaseTrail, EntryPage
from vigil.audit.verify import VerifyReport
from vigil.clock import as_utc
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
    case_id: int | None = None,
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
        case_id=case_id,
        detail=detail,
    )


def record_account_list(ctx: AppContext, actor: Actor, user_ids: list[str], where: str) -> None:
    """The account list discloses who holds which role and rank: logged with the ids shown."""
    record_read(ctx, actor, "user.list", detail={"user_ids": user_ids, "where": where})


# ---------------------------------------------------------------------- as people read it
#: account ids of the service's own actors (the scheduler that expires cases by the clock)
SYSTEM_PREFIX = "system:"
#: what a person is told in place of case text their role may not read
WITHHELD = "(withheld: your role may not read cases)"


def who(actor_id: str, actor_role: str) -> str:
    """Who did it, in words: the service itself for its own entries (automatic expiry is
    written as the scheduler, whose account carries the administrator role only so the log has
    a role to record; no administrator did it), else the role."""
    if actor_id.startswith(SYSTEM_PREFIX):
        return "Vigil (automatic, by the clock)"
    text = actor_role.replace("_", " ")
    return text[:1].upper() + text[1:]


class EntryRowOut(Out):
    """An audit entry as a person reads it: London time with the UTC instant beside it, who in
    words, and the case text only for roles that may read cases."""

    seq: int
    at: str
    at_london: str
    actor_id: str
    actor_role: str
    who: str
    action: str
    case_id: int | None
    justification: str
    detail: str
    hash: str

    @classmethod
    def of(cls, e: AuditEntry, case_text: bool = True) -> EntryRowOut:
        from vigil.localtime import london

        withheld = not case_text and e.case_id is not None
        return cls(
            seq=e.seq,
            at=as_utc(e.at).isoformat(),
            at_london=london(e.at),
            actor_id=e.actor_id,
            actor_role=e.actor_role,
            who=who(e.actor_id, e.actor_role),
            action=e.action,
            case_id=e.case_id,
            justification=(WITHHELD if withheld and e.justification else e.justification),
            detail=WITHHELD if withheld else e.detail,
            hash=e.hash,
        )


class EntryPageOut(Out):
    """One page of entries, newest first."""

    entries: list[EntryRowOut]
    total: int
    page: int
    pages: int
    per_page: int

    @classmethod
    def of(cls, page: EntryPage, case_text: bool = True) -> EntryPageOut:
        return cls(
            entries=[EntryRowOut.of(e, case_text) for e in page.entries],
            total=page.total,
            page=page.page,
            pages=page.pages,
            per_page=page.per_page,
        )


class CaseTrailOut(Out):
    """The case page's trail: a page of its decisions; its reads counted, the last named."""

    decisions: EntryPageOut
    reads: int
    last_read: EntryRowOut | None
    justification: str

    @classmethod
    def of(cls, trail: CaseTrail) -> CaseTrailOut:
        last = trail.reads.last
        return cls(
            decisions=EntryPageOut.of(trail.decisions),
            reads=trail.reads.count,
            last_read=None if last is None else EntryRowOut.of(last),
            justification=trail.justification,
        )


def search_audit(
    ctx: AppContext, actor: Actor, wanted: AuditFilter, page: int = 1, per_page: int = 50
) -> EntryPageOut:
    """The force-wide audit view: page ``page`` of what ``wanted`` selects. The search is
    itself logged (``audit.read``, with the filter and the entries shown; on the case when it is
    filtered to one). Case text (justifications, details) only for roles that may read cases."""
    from vigil.audit.query import search

    with ctx.session_factory() as s:
        found = search(s, wanted, page, per_page)
    _log_search(ctx, actor, wanted, "html", [e.seq for e in found.entries])
    return EntryPageOut.of(found, case_text=may_read_cases(ctx, actor))


def export_audit(ctx: AppContext, actor: Actor, wanted: AuditFilter) -> Iterator[EntryRowOut]:
    """Every entry ``wanted`` selects, oldest first, for the CSV export (logged first, with the
    filter: what was disclosed is the filtered set)."""
    from vigil.audit.query import each_match

    _log_search(ctx, actor, wanted, "csv", None)
    case_text = may_read_cases(ctx, actor)
    with ctx.session_factory() as s:
        for e in each_match(s, wanted):
            yield EntryRowOut.of(e, case_text)


def audit_actions(ctx: AppContext) -> list[str]:
    """The actions in the log, for the audit view's filter."""
    from vigil.audit.query import actions

    with ctx.session_factory() as s:
        return actions(s)


def may_read_cases(ctx: AppContext, actor: Actor) -> bool:
    from vigil.cases.policy import Action

    return ctx.cases.policy.permits(actor, Action.READ)


def _log_search(
    ctx: AppContext, actor: Actor, wanted: AuditFilter, form: str, seqs: list[int] | None
) -> None:
    detail: dict[str, Any] = {
        "format": form,
        "action": wanted.action,
        "actor_id": wanted.actor_id,
        "since": None if wanted.since is None else as_utc(wanted.since).isoformat(),
        "until": None if wanted.until is None else as_utc(wanted.until).isoformat(),
    }
    if seqs is not None:
        detail["shown"] = seqs
    record_read(ctx, actor, "audit.read", case_id=wanted.case_id, detail=detail)


def verify_audit(ctx: AppContext, actor: Actor) -> VerifyOut:
    """Walk the whole hash chain; check every signed checkpoint (stored and witnessed) for its
    signature and Merkle consistency; replay the case rows against the log. ``ok`` when all
    hold. The verification reads every case, so it is itself logged (``audit.verify``). The
    API route and the audit view's page both call this."""
    from vigil.cases.audit_check import verify_log

    with ctx.session_factory() as s:
        report = verify_log(s, ctx.settings)
    record_read(
        ctx,
        actor,
        "audit.verify",
        detail={"ok": report.ok, "entries": report.entries, "problems": len(report.problems)},
    )
    return VerifyOut.of(report)
