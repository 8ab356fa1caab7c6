"""The case service: the Python API the CLI, the web app and the other domain parts call.

Each method is one database transaction: lock the case row (``SELECT ... FOR UPDATE``; SQLite
serialises writers with ``BEGIN IMMEDIATE``), apply one transition from
:mod:`vigil.cases.workflow` (which checks role, policy and clock, and appends the audit entry),
commit. Reads are audited too (Data Protection Act 2018 s.62: consultation). Before a change,
an expiry the clock has already made is written down first, so a late action meets an expired
case, not a live one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from vigil.audit.canonical import sha256_hex
from vigil.audit.log import Category, append, entries_for_case, new_entry
from vigil.audit.query import CaseTrail, case_trail, stamp_of, trail_stamp_columns
from vigil.audit.writer import writer_for
from vigil.cases import workflow
from vigil.cases.area import build_area
from vigil.cases.evidence import check_digest, freeze, thaw
from vigil.cases.policy import Policy, default_policy
from vigil.cases.queries import overdue_debriefs, whole_case
from vigil.cases.statements import Consultation, Debrief, Statement
from vigil.cases.states import LIVE, Status, effective_status, lapse
from vigil.cases.text import check_free_text
from vigil.clock import Clock, as_utc
from vigil.db import cases as rows
from vigil.db.audit import AuditEntry
from vigil.db.cases import (
    Authorisation,
    Case,
    Extension,
    ImpactAssessmentRecord,
    Notification,
)
from vigil.errors import PolicyViolation, VigilError
from vigil.forecast.surface import RiskSurface
from vigil.lru import Lru
from vigil.roles import Actor

log = logging.getLogger(__name__)


def _log_change(action: str, view: CaseView, actor: Actor | None) -> None:
    """One log line per change: which case, which action, the state after and the actor's role.
    Ids and states only, never the case's free text (that is in the audit log, for those
    entitled to read it)."""
    log.info(
        "case %s: %s",
        view.id,
        action,
        extra={
            "fields": {
                "case_id": view.id,
                "action": action,
                "status": view.status.value,
                "version": view.record.version,
                "actor_role": None if actor is None else str(actor.role),
            }
        },
    )


class CaseNotFound(VigilError):
    """No case with that id."""


class StaleCase(PolicyViolation):
    """The case changed since the version the decision-maker was shown."""


@dataclass
class CaseView:
    """A case as read at ``as_of``: the stored record (detached, relations loaded) and its
    effective status by the clock."""

    record: Case
    status: Status
    as_of: datetime
    #: why a live case reads as expired before the scheduler wrote it down
    lapsed: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.record.id

    @property
    def stored_status(self) -> Status:
        return Status(self.record.status)

    @property
    def consultations(self) -> list[rows.Consultation]:
        return list(self.record.consultations)

    @property
    def assessments(self) -> list[ImpactAssessmentRecord]:
        return list(self.record.assessments)

    @property
    def authorisations(self) -> list[Authorisation]:
        return list(self.record.authorisations)

    @property
    def extensions(self) -> list[Extension]:
        return list(self.record.extensions)

    @property
    def notifications(self) -> list[Notification]:
        return list(self.record.notifications)

    @property
    def debriefs(self) -> list[rows.Debrief]:
        return list(self.record.debriefs)

    def __getattr__(self, name: str) -> Any:
        # convenience: view.area_wkt, view.start, view.borough ... read through to the record
        if name.startswith("_") or name == "record":
            raise AttributeError(name)
        return getattr(self.record, name)


def _view(case: Case, now: datetime, warnings: list[str] | None = None) -> CaseView:
    due = lapse(case, now)
    return CaseView(
        record=case,
        status=effective_status(case, now),
        as_of=now,
        lapsed=None if due is None else due[1],
        warnings=list(warnings or []),
    )


#: where a read's entry waits, on its session, for the read's transaction to end
_READ_ENTRY = "vigil.cases.read_entry"


def _log_read(s: Session, actor: Actor, now: datetime, action: str, **entry: Any) -> None:
    """Write a read of case content to the audit log (DPA 2018 s.62: consultation)."""
    append(s, actor=actor, action=action, category=Category.CONSULTATION, at=now, **entry)


#: reads a community impact assessment (a model or its JSON) into (its JSON, the required items
#: still missing); raises PolicyViolation naming the fields when it is not an assessment
AssessmentReader = Callable[[Any], tuple[dict[str, Any], list[str]]]
#: Run inside the transaction that opens a case (session, case, actor, now): the entry points
#: hand in ``vigil.app.evaluation_plan.plan_on_open`` (the pre-registered evaluation plan).
OpenHook = Callable[[Session, Case, Actor, datetime], None]


class CaseService:
    """The whole life of a case.

    The community-impact rules (the guardrail check and what a complete assessment is) live in
    ``vigil.impact``, a layer above this one, so they are handed in rather than imported:
    ``vigil.impact.case_service`` builds a service with them wired. Both are required, so a
    service can never be built that silently skips the guardrails.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Clock,
        policy: Policy | None = None,
        *,
        guardrail_check: workflow.GuardrailCheck,
        read_assessment: AssessmentReader | None = None,
        on_open: OpenHook | None = None,
    ) -> None:
        self._sf = session_factory
        self.clock = clock
        self.policy = policy or default_policy()
        self._guardrail_check = guardrail_check
        self._read_assessment = read_assessment
        self._on_open = on_open
        #: cases as last loaded, by (id, version, last decision's seq): read_with_trail
        self._loaded: Lru[tuple[int, int, int | None], Case] = Lru(256)
        #: pages of decisions, by case and last decision's seq: read_with_trail
        self._decisions: Lru[tuple[int, int | None, int, int], tuple[list[AuditEntry], str]] = Lru(
            512
        )

    @property
    def session_factory(self) -> sessionmaker[Session]:
        return self._sf

    # ------------------------------------------------------------------ plumbing
    def _now(self) -> datetime:
        return as_utc(self.clock.now())

    def _load(self, session: Session, case_id: int, *, lock: bool) -> Case:
        stmt = (
            select(Case)
            .where(Case.id == case_id)
            .options(*whole_case())
            .execution_options(populate_existing=True)
        )
        if lock:
            stmt = stmt.with_for_update(of=Case)
        case = session.execute(stmt).scalar_one_or_none()
        if case is None:
            raise CaseNotFound(f"case {case_id} does not exist")
        return case

    def _settle(self, case_id: int, now: datetime) -> None:
        """Write down an expiry the clock has made, in its own transaction."""
        with self._sf() as s, s.begin():
            case = self._load(s, case_id, lock=True)
            if Status(case.status) in LIVE and lapse(case, now) is not None:
                workflow.expire(s, case, now, self.policy)

    def _change(
        self,
        action: str,
        case_id: int,
        fn: Callable[[Session, Case, datetime], object],
        text: dict[str, str | None] | None = None,
        confirm: bool = False,
        actor: Actor | None = None,
        expected_version: int | None = None,
    ) -> CaseView:
        """Apply the transition ``fn`` to the locked case in one transaction; the case after."""
        now = self._now()
        hits = check_free_text(text or {}, confirm)
        self._settle(case_id, now)
        with self._sf() as s, s.begin():
            case = self._load(s, case_id, lock=True)
            if expected_version is not None and case.version != expected_version:
                raise StaleCase(
                    f"case {case_id} changed since you opened it (version {expected_version}, "
                    f"now {case.version}): reload it and decide on what it says now"
                )
            fn(s, case, now)
            if hits and actor is not None:
                self._confirmed_text(s, actor, case.id, now, hits)
            view = _view(case, now)
        _log_change(action, view, actor)
        return view

    def _act(
        self,
        actor: Actor,
        case_id: int,
        step: Callable[..., object],
        *,
        text: dict[str, str | None] | None = None,
        confirm: bool = False,
        expected_version: int | None = None,
        **arguments: Any,
    ) -> CaseView:
        """The workflow transition ``step`` by ``actor`` on the locked case, under this
        service's policy and clock, with its own ``arguments``: the one way every action
        below reaches ``cases/workflow.py``."""
        return self._change(
            getattr(step, "__name__", "change"),
            case_id,
            lambda s, c, now: step(s, c, actor, now, self.policy, **arguments),
            text,
            confirm,
            actor,
            expected_version,
        )

    def _said(
        self,
        actor: Actor,
        case_id: int,
        step: Callable[..., object],
        said: dict[str, str],
        *,
        confirm: bool = False,
        **other: Any,
    ) -> CaseView:
        """``step`` with its free text ``said`` (reasons, notes, a message): each is both the
        transition's argument and the text screened and logged, so it is named once here."""
        words: dict[str, Any] = dict(said)
        return self._act(actor, case_id, step, text=dict(said), confirm=confirm, **words, **other)

    def _stated(
        self,
        actor: Actor,
        case_id: int,
        step: Callable[..., object],
        statement: Statement,
        confirm: bool,
    ) -> CaseView:
        """``step`` with a :class:`Statement`'s fields: its free text screened and logged."""
        return self._said(
            actor, case_id, step, statement.said(), confirm=confirm, **statement.facts()
        )

    @staticmethod
    def _confirmed_text(
        s: Session, actor: Actor, case_id: int, now: datetime, hits: dict[str, list[str]]
    ) -> None:
        append(
            s,
            actor=actor,
            action="case.text_confirmed_not_personal",
            category=Category.COLLECTION,
            at=now,
            case_id=case_id,
            justification="the actor confirmed these phrases do not name a person",
            detail={"fields": sorted(hits)},
        )

    # ------------------------------------------------------------------ opening
    def open_case(
        self,
        actor: Actor,
        *,
        trigger: str,
        window: tuple[datetime, datetime],
        resources: str,
        objectives: str,
        success_measures: Sequence[str],
        area_wkt: str | None = None,
        cells: Sequence[str] | None = None,
        borough: str | None = None,
        evidence: RiskSurface | None = None,
        justification: str = "",
        confirm_no_personal_data: bool = False,
    ) -> CaseView:
        """A draft case over an area (polygon WKT in EPSG:27700 and/or cells of ``evidence``)."""
        now = self._now()
        hits = check_free_text(
            {
                "resources": resources,
                "objectives": objectives,
                "success_measures": "; ".join(success_measures),
                "justification": justification,
            },
            confirm_no_personal_data,
        )
        area = build_area(area_wkt, cells, evidence, borough)
        frozen = None
        if evidence is not None:
            text, digest = freeze(evidence)
            frozen = (text, digest, evidence.model)
        with self._sf() as s, s.begin():
            case = workflow.new_case(
                s,
                actor,
                now,
                self.policy,
                trigger=trigger,
                area_wkt=area.wkt,
                cells=area.cells,
                boroughs=area.boroughs,
                start=window[0],
                end=window[1],
                resources=resources,
                objectives=objectives,
                success_measures=success_measures,
                evidence=frozen,
                justification=justification,
            )
            if hits:
                self._confirmed_text(s, actor, case.id, now, hits)
            case = self._load(s, case.id, lock=False)
            if self._on_open is not None:
                # in the same transaction: a case never exists without its evaluation plan
                self._on_open(s, case, actor, now)
            view = _view(case, now)
        _log_change("open", view, actor)
        return view

    def submit(self, actor: Actor, case_id: int) -> CaseView:
        return self._act(actor, case_id, workflow.submit)

    # ------------------------------------------------------------------ consultation, CIA
    def record_consultation(
        self,
        actor: Actor,
        case_id: int,
        consultation: Consultation,
        *,
        confirm_no_personal_data: bool = False,
    ) -> CaseView:
        """A consultee's position, with reasons."""
        return self._stated(
            actor, case_id, workflow.consult, consultation, confirm_no_personal_data
        )

    def attach_impact_assessment(self, actor: Actor, case_id: int, content: Any) -> CaseView:
        """A new CIA version: a ``CommunityImpactAssessment`` or a dict validated as one."""
        if self._read_assessment is None:
            raise PolicyViolation(
                "this case service was built without the impact assessment rules "
                "(build it with vigil.impact.case_service)"
            )
        data, missing = self._read_assessment(content)
        return self._act(actor, case_id, workflow.attach_assessment, content=data, missing=missing)

    def review_impact_assessment(self, actor: Actor, case_id: int, notes: str) -> CaseView:
        """The latest assessment reviewed as sufficient (by someone other than its author)."""
        return self._said(actor, case_id, workflow.review_assessment, {"notes": notes})

    def request_authorisation(self, actor: Actor, case_id: int) -> CaseView:
        """Consultation done: the case goes before an authorising officer."""
        return self._act(actor, case_id, workflow.request_authorisation)

    # ------------------------------------------------------------------ decisions
    def authorise(
        self,
        actor: Actor,
        case_id: int,
        *,
        conditions: str,
        window: tuple[datetime, datetime] | None = None,
        override_reason: str | None = None,
        urgent: bool = False,
        expected_version: int | None = None,
    ) -> CaseView:
        """Authorise ``window`` (default: the requested window). ``expected_version``: the
        ``record.version`` the officer was shown; a case changed since is refused (StaleCase)."""

        def fn(s: Session, c: Case, now: datetime) -> Authorisation:
            start, end = window or (c.requested_start, c.requested_end)
            return workflow.authorise(
                s,
                c,
                actor,
                now,
                self.policy,
                start=start,
                end=end,
                conditions=conditions,
                urgent=urgent,
                override_reason=override_reason,
                guardrail_check=self._guardrail_check,
            )

        return self._change(
            "authorise_urgent" if urgent else "authorise",
            case_id,
            fn,
            {"conditions": conditions, "override_reason": override_reason},
            actor=actor,
            expected_version=expected_version,
        )

    def authorise_urgent(
        self,
        actor: Actor,
        case_id: int,
        *,
        conditions: str,
        window: tuple[datetime, datetime] | None = None,
        override_reason: str | None = None,
    ) -> CaseView:
        return self.authorise(
            actor,
            case_id,
            conditions=conditions,
            window=window,
            override_reason=override_reason,
            urgent=True,
        )

    def ratify_urgent(self, actor: Actor, case_id: int, reasons: str) -> CaseView:
        return self._said(actor, case_id, workflow.ratify, {"reasons": reasons})

    def refuse(self, actor: Actor, case_id: int, reasons: str) -> CaseView:
        """Refuse the request, with reasons; the case ends undeployed."""
        return self._said(actor, case_id, workflow.refuse, {"reasons": reasons})

    def withdraw(self, actor: Actor, case_id: int, reasons: str = "") -> CaseView:
        """The requester withdraws the case before a decision."""
        return self._said(actor, case_id, workflow.withdraw, {"reasons": reasons})

    def notify_oversight(self, actor: Actor, case_id: int, message: str) -> CaseView:
        """Tell oversight of the authorisation (required before activation)."""
        return self._said(actor, case_id, workflow.notify_oversight, {"message": message})

    def activate(self, actor: Actor, case_id: int) -> CaseView:
        """Officers deployed: the authorised window is running."""
        return self._act(actor, case_id, workflow.activate)

    def extend(
        self,
        actor: Actor,
        case_id: int,
        hours: float,
        reasons: str,
        override_reason: str | None = None,
        expected_version: int | None = None,
    ) -> CaseView:
        """Extend the live window by ``hours``; the latest CIA must be reviewed since the last
        authorisation."""
        return self._act(
            actor,
            case_id,
            workflow.extend,
            text={"reasons": reasons, "override_reason": override_reason},
            expected_version=expected_version,
            hours=hours,
            reasons=reasons,
            override_reason=override_reason,
            guardrail_check=self._guardrail_check,
        )

    def cancel(self, actor: Actor, case_id: int, reasons: str) -> CaseView:
        return self._said(actor, case_id, workflow.cancel, {"reasons": reasons})

    # ------------------------------------------------------------------ after the end
    def record_debrief(
        self,
        actor: Actor,
        case_id: int,
        debrief: Debrief,
        *,
        confirm_no_personal_data: bool = False,
    ) -> CaseView:
        """How the ended deployment went (due by the policy's debrief deadline)."""
        return self._stated(
            actor, case_id, workflow.record_debrief, debrief, confirm_no_personal_data
        )

    def close(self, actor: Actor, case_id: int, notes: str = "") -> CaseView:
        return self._said(actor, case_id, workflow.close, {"notes": notes})

    # ------------------------------------------------------------------ scheduler
    def sweep_expired(self, now: datetime | None = None) -> list[int]:
        """Write the expiry of every live case the clock has ended; the ids written."""
        now = as_utc(now) if now is not None else self._now()
        with self._sf() as s:
            ids = list(
                s.execute(
                    select(Case.id)
                    .where(
                        Case.status.in_([st.value for st in LIVE]),
                        or_(Case.end <= now, Case.ratify_by <= now),
                    )
                    .order_by(Case.id)
                ).scalars()
            )
        expired = self._each_locked(ids, lambda s, case: workflow.expire(s, case, now, self.policy))
        for case_id in expired:
            log.info(
                "case %s: expire",
                case_id,
                extra={"fields": {"case_id": case_id, "action": "expire"}},
            )
        return expired

    def flag_overdue_debriefs(self, now: datetime | None = None) -> list[int]:
        """Notify oversight (once per case) of every debrief past its deadline; ids flagged."""
        now = as_utc(now) if now is not None else self._now()
        self.sweep_expired(now)
        with self._sf() as s:
            ids = [c.id for c in overdue_debriefs(s, now, self.policy)]
        return self._each_locked(ids, lambda s, case: workflow.flag_overdue_debrief(s, case, now))

    def _each_locked(self, ids: list[int], step: Callable[[Session, Case], bool]) -> list[int]:
        """``step`` on each case, row locked, one transaction each; the ids it changed."""
        done = []
        for case_id in ids:
            with self._sf() as s, s.begin():
                if step(s, self._load(s, case_id, lock=True)):
                    done.append(case_id)
        return done

    # ------------------------------------------------------------------ audited reads
    def get_case(self, actor: Actor, case_id: int, purpose: str = "") -> CaseView:
        """The case, with its effective status; the read is logged (DPA 2018 s.62)."""
        now = self._now()
        with self._sf() as s, s.begin():
            case = self._load(s, case_id, lock=False)
            _log_read(s, actor, now, "case.read", case_id=case.id, justification=purpose)
            return _view(case, now)

    def read_with_trail(
        self, actor: Actor, case_id: int, purpose: str = "", page: int = 1, per_page: int = 20
    ) -> tuple[CaseView, CaseTrail]:
        """The case and its audit trail, as the case page shows them: page ``page`` of its
        decisions, its reads counted (before this one) with the last named, and the opening
        justification. One transaction and ONE audit entry for the request (it discloses
        both), instead of one per part; the cost does not grow with the number of reads.

        One aggregate over the case's log (with the case's version) says whether anything was
        decided since the case was last loaded: the case with everything recorded about it and
        the page of decisions are kept by (version, last decision's seq), so a case read again
        unchanged costs that aggregate, the last read's row and the audit entry, not the eight
        statements that load it (issue 11)."""
        now = self._now()
        with self._sf() as s, s.begin():
            row = s.execute(
                select(
                    *trail_stamp_columns(),
                    select(Case.version).where(Case.id == case_id).scalar_subquery(),
                ).where(AuditEntry.case_id == case_id)
            ).one()
            version = row[-1]
            if version is None:
                raise CaseNotFound(f"case {case_id} does not exist")
            stamp = stamp_of(row)
            key = (case_id, int(version), stamp.last_decision_seq)
            case = self._loaded.get(key)
            if case is None:
                case = self._load(s, case_id, lock=False)
                self._loaded[key] = case
            trail = case_trail(s, case_id, page, per_page, stamp=stamp, decisions=self._decisions)
            self._read_logged(
                s,
                actor,
                now,
                "case.read",
                case_id=case.id,
                justification=purpose,
                detail={"with": ["audit_trail"]},
            )
        self._read_durable(s)
        return _view(case, now), trail

    def _read_logged(
        self, s: Session, actor: Actor, now: datetime, action: str, **entry: Any
    ) -> None:
        """Log a read in ``s``'s transaction, or (PostgreSQL) hand it to the process's audit
        writer once the read's transaction ends (:meth:`_read_durable`): the read changes
        nothing, so its entry need not ride in its transaction, and the writer chains the
        entries of concurrent requests in one transaction (vigil.audit.writer)."""
        if writer_for(self._sf) is None:
            _log_read(s, actor, now, action, **entry)
            return
        s.info[_READ_ENTRY] = new_entry(
            actor=actor, action=action, category=Category.CONSULTATION, at=now, **entry
        )

    def _read_durable(self, s: Session) -> None:
        """The entry :meth:`_read_logged` handed over, durable before the caller answers."""
        entry = s.info.pop(_READ_ENTRY, None)
        if entry is not None:
            writer = writer_for(self._sf)
            assert writer is not None
            writer.write([entry])

    def list_cases(
        self,
        actor: Actor,
        *,
        status: Status | str | None = None,
        borough: str | None = None,
        purpose: str = "",
    ) -> list[CaseView]:
        """Cases, newest first, filtered by *effective* status and/or borough; one audit entry
        lists the ids disclosed."""
        now = self._now()
        want = None if status is None else Status(status)
        with self._sf() as s, s.begin():
            stmt = select(Case).options(*whole_case())
            if borough is not None:
                stmt = stmt.where(Case.borough == borough)
            rows = s.execute(stmt.order_by(Case.id.desc())).scalars().all()
            views = [_view(c, now) for c in rows]
            if want is not None:
                views = [v for v in views if v.status is want]
            _log_read(
                s,
                actor,
                now,
                "case.list",
                justification=purpose,
                detail={"case_ids": [v.id for v in views], "status": status, "borough": borough},
            )
            return views

    def evidence(self, actor: Actor, case_id: int) -> RiskSurface:
        """The frozen forecast surface, checked against its digest; the read is logged."""
        text, _ = self.evidence_snapshot(actor, case_id)
        return thaw(text, None)  # checked against its digest before the read was logged

    def evidence_snapshot(self, actor: Actor, case_id: int) -> tuple[str, str]:
        """The frozen evidence as stored and its digest, the content checked against the digest
        (a mismatch is refused, and no read logged); the read is logged. For callers that keep
        what they derive from a snapshot by its digest instead of decoding it every time."""
        now = self._now()
        with self._sf() as s, s.begin():
            row = s.execute(
                select(Case.id, Case.evidence_json, Case.evidence_digest).where(Case.id == case_id)
            ).one_or_none()
            if row is None:
                raise CaseNotFound(f"case {case_id} does not exist")
            if row.evidence_json is None:
                raise VigilError(f"case {case_id} has no evidence snapshot")
            check_digest(row.evidence_json, row.evidence_digest)
            self._read_logged(
                s,
                actor,
                now,
                "case.evidence.read",
                case_id=row.id,
                detail={"evidence_digest": row.evidence_digest},
            )
        self._read_durable(s)
        return row.evidence_json, row.evidence_digest or sha256_hex(row.evidence_json)

    def audit_trail(self, actor: Actor, case_id: int) -> list[AuditEntry]:
        now = self._now()
        with self._sf() as s, s.begin():
            self._load(s, case_id, lock=False)
            entries = entries_for_case(s, case_id)
            _log_read(s, actor, now, "case.audit.read", case_id=case_id)
            return entries
