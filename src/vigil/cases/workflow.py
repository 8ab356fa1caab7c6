"""Every change to a case, in one place: who may do it, from which state, under which rule of
the policy, at which time, and the audit entry that records it.

Each function takes the open session (the caller's transaction), the case row already locked
(``SELECT ... FOR UPDATE``), the actor, the policy and ``now`` from the clock. It either raises
a :class:`~vigil.errors.VigilError` naming the broken rule, or changes the case and appends the
audit entry in that same transaction: a change never lands without its entry, nor an entry
without its change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from vigil.audit.log import Category, append
from vigil.cases.area import AreaError, known_boroughs
from vigil.cases.evidence import thaw
from vigil.cases.policy import POSITIONS, TRIGGERS, Action, Policy
from vigil.cases.states import (
    ENDED,
    LIVE,
    PENDING,
    Status,
    authorised_window,
    effective_status,
    lapse,
)
from vigil.clock import as_utc
from vigil.db.cases import (
    Authorisation,
    Case,
    Consultation,
    Debrief,
    Extension,
    ImpactAssessmentRecord,
    Notification,
)
from vigil.errors import PermissionDenied, PolicyViolation, VigilError
from vigil.forecast.surface import RiskSurface
from vigil.localtime import london_and_utc
from vigil.roles import Actor, Role

#: the account the scheduler acts as when it writes a transition that the clock made
SYSTEM = Actor(user_id="system:scheduler", role=Role.ADMINISTRATOR, display_name="scheduler")

#: action -> states it may start from (the target state is set by the action itself)
ALLOWED_FROM: dict[str, frozenset[Status]] = {
    "submit": frozenset({Status.DRAFT}),
    "consult": frozenset(
        {Status.SUBMITTED, Status.CONSULTATION, Status.AWAITING_AUTHORISATION, *LIVE}
    ),
    "assess": frozenset(PENDING | LIVE),
    "review_assessment": frozenset(PENDING | LIVE),
    "request_authorisation": frozenset({Status.SUBMITTED, Status.CONSULTATION}),
    "authorise": frozenset({Status.AWAITING_AUTHORISATION}),
    "authorise_urgent": frozenset(
        {Status.SUBMITTED, Status.CONSULTATION, Status.AWAITING_AUTHORISATION}
    ),
    "ratify": frozenset(LIVE),
    "notify_oversight": frozenset(LIVE),
    "activate": frozenset({Status.AUTHORISED}),
    "extend": frozenset(LIVE),
    "cancel": frozenset(LIVE),
    "expire": frozenset(LIVE),
    "refuse": frozenset({Status.SUBMITTED, Status.CONSULTATION, Status.AWAITING_AUTHORISATION}),
    "withdraw": frozenset(PENDING),
    "debrief": frozenset(ENDED),
    "close": frozenset({Status.DEBRIEFED}),
}


class InvalidTransition(PolicyViolation):
    """The action is not possible from the case's current state."""


class CaseExpired(InvalidTransition):
    """The case's window (or its urgent authorisation) has run out."""


class MissingRequirement(PolicyViolation):
    """Something the policy requires first (consultation, assessment, notice) is absent."""


#: (session, guard view, guardrail policy, now) -> breaches (objects with .rule and .message);
#: vigil.impact.guardrails.check, handed in by vigil.impact.case_service
GuardrailCheck = Callable[..., Sequence[Any]]


# ---------------------------------------------------------------------- helpers
def case_state(case: Case) -> dict[str, Any]:
    """The facts a transition changes; their digest goes in the audit entry, and
    ``vigil audit verify`` recomputes it from the stored rows (the replay), so a case row,
    authorisation, extension, consultation or debrief edited in the database is caught."""
    return {
        "id": case.id,
        "version": case.version,
        "status": case.status,
        "area_wkt": case.area_wkt,
        "cells": list(case.cells or []),
        "start": case.start,
        "end": case.end,
        "requested_start": case.requested_start,
        "requested_end": case.requested_end,
        "urgent": case.urgent,
        "ratified_at": case.ratified_at,
        "conditions": case.conditions,
        "evidence_digest": case.evidence_digest,
        "ended_at": case.ended_at,
        "end_reason": case.end_reason,
        "authorisations": [
            {
                "kind": a.kind,
                "start": a.start,
                "end": a.end,
                "conditions": a.conditions,
                "override_reason": a.override_reason,
                "overridden_rules": list(a.overridden_rules or []),
                "decided_at": a.decided_at,
                "actor": [a.actor_id, a.actor_role, a.actor_rank],
            }
            for a in case.authorisations
        ],
        "extensions": [[e.number, e.hours, e.previous_end, e.new_end] for e in case.extensions],
        "consultations": [
            [c.consultee, c.position, c.reasons, c.recorded_at, c.actor_id]
            for c in case.consultations
        ],
        "debriefs": [[d.incidents, d.complaints, d.recorded_at, d.actor_id] for d in case.debriefs],
    }


def _hours(start: datetime, end: datetime) -> float:
    return (as_utc(end) - as_utc(start)).total_seconds() / 3600.0


def _fmt(when: datetime | None) -> str:
    """A time in a refusal a person reads: London time, labelled, with the UTC the log keeps."""
    return "-" if when is None else london_and_utc(as_utc(when))


def require_state(case: Case, action: str, now: datetime) -> Status:
    """The case's effective state, if ``action`` may start from it; else a clear refusal."""
    status = effective_status(case, now)
    allowed = ALLOWED_FROM[action]
    if status in allowed:
        return status
    if status is Status.EXPIRED:
        due = lapse(case, now) or (case.ended_at, case.end_reason or "window ended")
        raise CaseExpired(
            f"case {case.id}: cannot {action.replace('_', ' ')}: it expired at {_fmt(due[0])} "
            f"({due[1]})"
        )
    names = ", ".join(sorted(s.value for s in allowed))
    raise InvalidTransition(
        f"case {case.id}: cannot {action.replace('_', ' ')} a case that is {status.value} "
        f"(allowed from: {names})"
    )


def require_not_requester(case: Case, actor: Actor, policy: Policy, action: str) -> None:
    if policy.authorisation.maker_checker and actor.user_id == case.requester_id:
        raise PolicyViolation(
            f"case {case.id}: {action} refused: account {actor.user_id} requested this case and "
            "cannot also decide it (maker-checker)"
        )


def _record(
    session: Session,
    case: Case,
    actor: Actor,
    now: datetime,
    action: str,
    before: dict[str, Any] | None,
    *,
    category: Category = Category.ALTERATION,
    justification: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    session.flush()
    append(
        session,
        actor=actor,
        action=f"case.{action}",
        category=category,
        at=now,
        case_id=case.id,
        before=before,
        after=case_state(case),
        justification=justification,
        detail=detail,
    )


@dataclass
class _Step:
    """A transition under way: the case's facts before it, the state it started from, and what
    its audit entry will say (the body sets ``justification`` and ``detail``)."""

    before: dict[str, Any]
    status: Status | None = None
    justification: str = ""
    detail: dict[str, Any] | None = field(default=None)


@contextmanager
def _recorded(
    session: Session,
    case: Case,
    actor: Actor,
    now: datetime,
    name: str,
    *,
    category: Category = Category.ALTERATION,
) -> Iterator[_Step]:
    """The facts before, then, once the body has changed the case without raising, one version
    bump and the audit entry ``case.<name>`` in the caller's transaction. A body that raises
    leaves no entry (and the caller's transaction rolls its change back)."""
    step = _Step(before=case_state(case))
    yield step
    case.version += 1
    _record(
        session,
        case,
        actor,
        now,
        name,
        step.before,
        category=category,
        justification=step.justification,
        detail=step.detail,
    )


@contextmanager
def _transition(
    session: Session,
    case: Case,
    actor: Actor,
    now: datetime,
    policy: Policy,
    action: Action,
    *,
    category: Category = Category.ALTERATION,
) -> Iterator[_Step]:
    """The ceremony of every transition an account makes, done once: the permission table's
    check of ``action`` on this case, the state it may start from (``ALLOWED_FROM``, by the
    clock), then :func:`_recorded`. The body checks the action's own rules and makes the
    change."""
    policy.check(actor, action, case)
    status = require_state(case, action, now)
    with _recorded(session, case, actor, now, action.value, category=category) as step:
        step.status = status
        yield step


def _move(case: Case, to: Status) -> None:
    case.status = to.value


def _signed(actor: Actor) -> dict[str, Any]:
    """Who recorded a row, as they were at the time: account id, role and rank."""
    return {"actor_id": actor.user_id, "actor_role": str(actor.role), "actor_rank": int(actor.rank)}


def _notify(
    session: Session, case: Case, now: datetime, kind: str, message: str, actor_id: str
) -> Notification:
    """A notification to oversight, added to the case."""
    row = Notification(
        case_id=case.id,
        kind=kind,
        recipient="oversight",
        message=message,
        actor_id=actor_id,
        created_at=now,
    )
    session.add(row)
    case.notifications.append(row)
    return row


def _require_text(name: str, value: str | None, message: str = "required") -> None:
    if not value or not value.strip():
        raise PolicyViolation(f"field '{name}': {message}")


def _last_decision(case: Case) -> datetime:
    return max(as_utc(a.decided_at) for a in case.authorisations)


def _decide(
    session: Session,
    case: Case,
    actor: Actor,
    now: datetime,
    *,
    kind: str,
    start: datetime,
    end: datetime,
    conditions: str,
    assessment_id: int | None,
    overridden: list[str],
    override_reason: str | None = None,
) -> Authorisation:
    """An authorising officer's decision row, added to the case; the override reason is kept
    only when a guardrail was actually overridden."""
    row = Authorisation(
        case_id=case.id,
        kind=kind,
        start=start,
        end=end,
        conditions=conditions,
        assessment_id=assessment_id,
        override_reason=override_reason if overridden else None,
        overridden_rules=overridden,
        decided_at=now,
        **_signed(actor),
    )
    session.add(row)
    case.authorisations.append(row)
    return row


def latest_assessment(case: Case) -> ImpactAssessmentRecord | None:
    return max(case.assessments, key=lambda a: a.version) if case.assessments else None


def missing_consultations(case: Case, policy: Policy) -> list[str]:
    done = {c.consultee for c in case.consultations}
    return [c for c in policy.consultations.required if c not in done]


def _require_consultations(case: Case, policy: Policy, action: str) -> None:
    missing = missing_consultations(case, policy)
    if missing:
        raise MissingRequirement(
            f"case {case.id}: {action} refused: required consultation(s) not recorded: "
            f"{', '.join(missing)}"
        )


def _require_reviewed_assessment(
    case: Case, action: str, reviewed_after: datetime | None = None
) -> ImpactAssessmentRecord:
    cia = latest_assessment(case)
    if cia is None:
        raise MissingRequirement(
            f"case {case.id}: {action} refused: no community impact assessment attached"
        )
    if cia.missing:
        raise MissingRequirement(
            f"case {case.id}: {action} refused: community impact assessment v{cia.version} is "
            f"incomplete: missing {', '.join(cia.missing)}"
        )
    if cia.status != "reviewed" or cia.reviewed_at is None:
        raise MissingRequirement(
            f"case {case.id}: {action} refused: community impact assessment v{cia.version} has "
            "not been reviewed"
        )
    if reviewed_after is not None and as_utc(cia.reviewed_at) <= as_utc(reviewed_after):
        raise MissingRequirement(
            f"case {case.id}: {action} refused: the community impact assessment was last "
            f"reviewed at {_fmt(cia.reviewed_at)}, before the previous authorisation at "
            f"{_fmt(reviewed_after)}; review it again first"
        )
    return cia


@dataclass(frozen=True)
class _Proposed:
    """A case not yet written, as the permission check reads it (opening)."""

    boroughs: Sequence[str]
    requester_id: str
    id: int = 0


@dataclass
class GuardView:
    """What the guardrail check reads: this case with the window being decided."""

    id: int
    area_wkt: str
    requested_start: datetime
    requested_end: datetime
    evidence: RiskSurface | None


def _guardrails(
    session: Session,
    case: Case,
    actor: Actor,
    policy: Policy,
    now: datetime,
    start: datetime,
    end: datetime,
    override_reason: str | None,
    check: GuardrailCheck,
    action: str,
) -> list[str]:
    """Rules breached and overridden (empty when none); refuses un-overridden breaches."""
    view = GuardView(
        id=case.id,
        area_wkt=case.area_wkt,
        requested_start=start,
        requested_end=end,
        # the frozen evidence, refused if it no longer matches the digest it was submitted with
        evidence=None
        if case.evidence_json is None
        else thaw(case.evidence_json, case.evidence_digest),
    )
    breaches = list(check(session, view, policy.guardrails, now))
    if not breaches:
        return []
    text = "; ".join(f"{b.rule}: {b.message}" for b in breaches)
    if not override_reason or not override_reason.strip():
        rule = policy.rule(Action.OVERRIDE)
        raise PolicyViolation(
            f"case {case.id}: {action} refused by the guardrails ({text}). An officer "
            f"({', '.join(r.value for r in rule.roles)}) of rank "
            f"{rule.min_rank.name.lower()} or above may override with a reason"
        )
    reason = policy.refusal(actor, Action.OVERRIDE, case)
    if reason is not None:
        raise PermissionDenied(f"overriding guardrails ({text}) refused: {reason}")
    _notify(
        session,
        case,
        now,
        "guardrail_override",
        f"{action} overrode guardrails ({text}); reason: {override_reason}",
        actor.user_id,
    )
    return [b.rule for b in breaches]


# ---------------------------------------------------------------------- transitions
def new_case(
    session: Session,
    actor: Actor,
    now: datetime,
    policy: Policy,
    *,
    trigger: str,
    area_wkt: str,
    cells: Sequence[str],
    boroughs: Sequence[str],
    start: datetime,
    end: datetime,
    resources: str,
    objectives: str,
    success_measures: Sequence[str],
    evidence: tuple[str, str, str] | None,
    justification: str = "",
) -> Case:
    """A draft case. ``evidence`` is (snapshot JSON, digest, model) when a surface backs it.
    An area that touches no borough is owned by the policy's force-wide owner, or refused."""
    policy.check(actor, Action.OPEN)
    boroughs = list(boroughs)
    if not boroughs:
        if policy.force_wide_owner is None:
            known = known_boroughs()
            raise AreaError(
                "field 'area': the area touches no borough, so no local commander could be "
                "consulted or held to account; it must touch one of: "
                + (", ".join(known) if known else "(no borough boundaries are installed)")
            )
        boroughs = [policy.force_wide_owner]
    policy.check(actor, Action.OPEN, _Proposed(boroughs=boroughs, requester_id=actor.user_id))
    if trigger not in TRIGGERS:
        raise PolicyViolation(f"field 'trigger': '{trigger}' is not one of {list(TRIGGERS)}")
    start, end = as_utc(start), as_utc(end)
    if end <= start:
        raise PolicyViolation(
            f"field 'window': ends ({_fmt(end)}) at or before it starts ({_fmt(start)})"
        )
    _require_text("resources", resources)
    _require_text("objectives", objectives)
    case = Case(
        version=1,
        status=Status.DRAFT.value,
        trigger=trigger,
        area_wkt=area_wkt,
        cells=list(cells),
        boroughs=list(boroughs),
        borough=boroughs[0] if boroughs else None,
        requested_start=start,
        requested_end=end,
        resources=resources.strip(),
        objectives=objectives.strip(),
        success_measures=[m.strip() for m in success_measures if m and m.strip()],
        requester_id=actor.user_id,
        requester_role=str(actor.role),
        requester_rank=int(actor.rank),
        created_at=now,
        policy_version=policy.version,
        urgent=False,
    )
    if evidence is not None:
        case.evidence_json, case.evidence_digest, case.evidence_model = evidence
    session.add(case)
    session.flush()
    _record(
        session,
        case,
        actor,
        now,
        "open",
        None,
        category=Category.COLLECTION,
        justification=justification,
        detail={"trigger": trigger, "boroughs": list(boroughs), "policy": policy.version},
    )
    return case


def submit(session: Session, case: Case, actor: Actor, now: datetime, policy: Policy) -> None:
    """Submit for consultation; freezes the evidence and the declared success measures."""
    with _transition(session, case, actor, now, policy, Action.SUBMIT) as step:
        if policy.success_measures_required and not case.success_measures:
            raise MissingRequirement(
                f"case {case.id}: submit refused: declare the success measures up front "
                "(field 'success_measures')"
            )
        if case.trigger in policy.evidence_required_for and case.evidence_json is None:
            raise MissingRequirement(
                f"case {case.id}: submit refused: a {case.trigger} case needs a frozen evidence "
                "snapshot (a forecast surface)"
            )
        hours = _hours(case.requested_start, case.requested_end)
        if policy.window.initial_too_long(hours):
            raise PolicyViolation(
                f"case {case.id}: submit refused: the requested window is {hours:g} h; the "
                f"policy allows at most {policy.window.initial_max_hours:g} h initially"
            )
        case.submitted_at = now
        if case.evidence_json is not None:
            case.evidence_frozen_at = now
        _move(case, Status.SUBMITTED)
        step.detail = {
            "evidence_digest": case.evidence_digest,
            "success_measures": case.success_measures,
        }


def consult(
    session: Session,
    case: Case,
    actor: Actor,
    now: datetime,
    policy: Policy,
    *,
    consultee: str,
    position: str,
    reasons: str,
) -> Consultation:
    with _transition(session, case, actor, now, policy, Action.CONSULT) as step:
        recorders = policy.consultations.recorded_by.get(consultee)
        if recorders is None:
            known = ", ".join(policy.consultations.recorded_by)
            raise PolicyViolation(f"field 'consultee': '{consultee}' is not one of: {known}")
        if actor.role not in recorders:
            raise PermissionDenied(
                f"case {case.id}: the {consultee} consultation is recorded by "
                f"{', '.join(r.value for r in recorders)}, not by role '{actor.role.value}'"
            )
        if position not in POSITIONS:
            raise PolicyViolation(f"field 'position': '{position}' is not one of {list(POSITIONS)}")
        _require_text("reasons", reasons, "a consultation records its reasons")
        row = Consultation(
            case_id=case.id,
            consultee=consultee,
            position=position,
            reasons=reasons.strip(),
            recorded_at=now,
            **_signed(actor),
        )
        session.add(row)
        case.consultations.append(row)
        if step.status is Status.SUBMITTED:
            _move(case, Status.CONSULTATION)
        step.justification = reasons
        step.detail = {"consultee": consultee, "position": position}
    return row


def attach_assessment(
    session: Session,
    case: Case,
    actor: Actor,
    now: datetime,
    policy: Policy,
    *,
    content: dict[str, Any],
    missing: list[str],
) -> ImpactAssessmentRecord:
    """A new version of the CIA; ``missing`` is what the assessment model says is absent."""
    with _transition(session, case, actor, now, policy, Action.ASSESS) as step:
        version = 1 + max((a.version for a in case.assessments), default=0)
        row = ImpactAssessmentRecord(
            case_id=case.id,
            version=version,
            content=content,
            missing=list(missing),
            status="incomplete" if missing else "complete",
            created_at=now,
            **_signed(actor),
        )
        session.add(row)
        case.assessments.append(row)
        step.detail = {"version": version, "missing": list(missing)}
    return row


def review_assessment(
    session: Session,
    case: Case,
    actor: Actor,
    now: datetime,
    policy: Policy,
    *,
    notes: str,
) -> ImpactAssessmentRecord:
    """Record the latest CIA version as reviewed and sufficient: it must be complete, and its
    reviewer is not its author (an independent review)."""
    with _transition(session, case, actor, now, policy, Action.REVIEW_ASSESSMENT) as step:
        cia = latest_assessment(case)
        if cia is None:
            raise MissingRequirement(f"case {case.id}: no impact assessment to review")
        if cia.missing:
            raise MissingRequirement(
                f"case {case.id}: impact assessment v{cia.version} is incomplete (missing "
                f"{', '.join(cia.missing)}); it cannot be reviewed as sufficient"
            )
        if cia.actor_id == actor.user_id:
            raise PolicyViolation(
                f"case {case.id}: the author of impact assessment v{cia.version} cannot review it"
            )
        cia.status = "reviewed"
        cia.reviewer_id = actor.user_id
        cia.reviewer_role = str(actor.role)
        cia.reviewer_rank = int(actor.rank)
        cia.reviewed_at = now
        cia.review_notes = notes
        step.justification = notes
        step.detail = {"version": cia.version}
    return cia


def request_authorisation(
    session: Session, case: Case, actor: Actor, now: datetime, policy: Policy
) -> None:
    """Consultation complete: put the case before an authorising officer."""
    with _transition(session, case, actor, now, policy, Action.REQUEST_AUTHORISATION):
        _require_consultations(case, policy, "request for authorisation")
        _move(case, Status.AWAITING_AUTHORISATION)


def _check_window(
    case: Case, policy: Policy, now: datetime, start: datetime, end: datetime, action: str
) -> None:
    if end <= start:
        raise PolicyViolation(
            f"case {case.id}: {action} refused: the window ends ({_fmt(end)}) at or before it "
            f"starts ({_fmt(start)})"
        )
    hours = _hours(start, end)
    if policy.window.initial_too_long(hours):
        raise PolicyViolation(
            f"case {case.id}: {action} refused: window too long: {hours:g} h requested, the "
            f"policy allows at most {policy.window.initial_max_hours:g} h initially (longer "
            "needs extensions or a new case)"
        )
    tolerance = timedelta(minutes=policy.authorisation.start_tolerance_minutes)
    if start < now - tolerance:
        raise PolicyViolation(
            f"case {case.id}: {action} refused: the window starts at {_fmt(start)}, in the past "
            f"(now {_fmt(now)}); authorisations are not backdated"
        )
    requested = (as_utc(case.requested_start), as_utc(case.requested_end))
    if start < requested[0] or end > requested[1]:
        raise PolicyViolation(
            f"case {case.id}: {action} refused: the window {_fmt(start)} to {_fmt(end)} is not "
            f"within the requested window {_fmt(requested[0])} to {_fmt(requested[1])}; an "
            "authorisation may shorten or move the window inside the request, never go beyond "
            "it (a different window is a new request)"
        )


def authorise(
    session: Session,
    case: Case,
    actor: Actor,
    now: datetime,
    policy: Policy,
    *,
    start: datetime,
    end: datetime,
    conditions: str,
    urgent: bool = False,
    override_reason: str | None = None,
    guardrail_check: GuardrailCheck,
) -> Authorisation:
    """Authorise the window. Urgent: a reactive case, lower rank, to be ratified in time."""
    start, end = as_utc(start), as_utc(end)
    what = "urgent authorisation" if urgent else "authorisation"
    action = Action.AUTHORISE_URGENT if urgent else Action.AUTHORISE
    with _transition(session, case, actor, now, policy, action) as step:
        if urgent and case.trigger not in policy.urgent.triggers:
            raise PolicyViolation(
                f"case {case.id}: urgent authorisation is only for "
                f"{', '.join(policy.urgent.triggers)} cases; this one is {case.trigger}"
            )
        require_not_requester(case, actor, policy, what)
        _check_window(case, policy, now, start, end, what)
        if policy.success_measures_required and not case.success_measures:
            raise MissingRequirement(
                f"case {case.id}: {what} refused: no success measures declared"
            )
        cia = None
        if not urgent:
            _require_consultations(case, policy, what)
            cia = _require_reviewed_assessment(case, what)
        overridden = _guardrails(
            session, case, actor, policy, now, start, end, override_reason, guardrail_check, what
        )
        row = _decide(
            session,
            case,
            actor,
            now,
            kind="urgent" if urgent else "initial",
            start=start,
            end=end,
            conditions=conditions,
            assessment_id=None if cia is None else cia.id,
            overridden=overridden,
            override_reason=override_reason,
        )
        case.start, case.end, case.conditions = start, end, conditions
        case.urgent = urgent
        if urgent:
            case.ratify_by = now + timedelta(hours=policy.urgent.ratify_within_hours)
        _move(case, Status.AUTHORISED)
        step.justification = conditions
        step.detail = {
            "start": start,
            "end": end,
            "overridden": overridden,
            "override_reason": override_reason if overridden else None,
            "ratify_by": case.ratify_by,
        }
    return row


def ratify(
    session: Session,
    case: Case,
    actor: Actor,
    now: datetime,
    policy: Policy,
    *,
    reasons: str,
) -> Authorisation:
    """Confirm an urgent authorisation in time, by another officer of the full rank, on the
    consultations and a reviewed assessment the urgent one went without."""
    with _transition(session, case, actor, now, policy, Action.RATIFY) as step:
        if not case.urgent or case.ratified_at is not None:
            raise InvalidTransition(f"case {case.id}: there is no unratified urgent authorisation")
        require_not_requester(case, actor, policy, "ratification")
        urgent_row = case.authorisations[-1]
        if urgent_row.actor_id == actor.user_id:
            raise PolicyViolation(
                f"case {case.id}: ratification refused: account {actor.user_id} gave the urgent "
                "authorisation and cannot ratify it"
            )
        _require_consultations(case, policy, "ratification")
        cia = _require_reviewed_assessment(case, "ratification")
        start, end = authorised_window(case)
        row = _decide(
            session,
            case,
            actor,
            now,
            kind="ratification",
            start=start,
            end=end,
            conditions=reasons,
            assessment_id=cia.id,
            overridden=[],
        )
        case.ratified_at = now
        step.justification = reasons
    return row


def notify_oversight(
    session: Session, case: Case, actor: Actor, now: datetime, policy: Policy, *, message: str
) -> Notification:
    with _transition(
        session, case, actor, now, policy, Action.NOTIFY_OVERSIGHT, category=Category.DISCLOSURE
    ) as step:
        row = _notify(session, case, now, "authorisation_notice", message, actor.user_id)
        step.justification = message
    return row


def activate(session: Session, case: Case, actor: Actor, now: datetime, policy: Policy) -> None:
    with _transition(session, case, actor, now, policy, Action.ACTIVATE):
        start, _ = authorised_window(case)
        if now < start:
            raise PolicyViolation(
                f"case {case.id}: activation refused: the authorised window opens at {_fmt(start)}"
            )
        if not case.urgent:
            _require_consultations(case, policy, "activation")
        if policy.oversight_notification_required:
            last_decision = _last_decision(case)
            notified = [
                n
                for n in case.notifications
                if n.kind == "authorisation_notice" and as_utc(n.created_at) >= last_decision
            ]
            if not notified:
                raise MissingRequirement(
                    f"case {case.id}: activation refused: oversight has not been notified of "
                    f"the authorisation of {_fmt(last_decision)}"
                )
        case.activated_at = now
        _move(case, Status.ACTIVE)


def extend(
    session: Session,
    case: Case,
    actor: Actor,
    now: datetime,
    policy: Policy,
    *,
    hours: float,
    reasons: str,
    override_reason: str | None = None,
    guardrail_check: GuardrailCheck,
) -> Extension:
    """Add ``hours`` to the live window: re-authorised, on a freshly reviewed assessment."""
    with _transition(session, case, actor, now, policy, Action.EXTEND) as step:
        require_not_requester(case, actor, policy, "extension")
        if case.urgent and case.ratified_at is None:
            raise PolicyViolation(
                f"case {case.id}: extension refused: ratify the urgent authorisation first"
            )
        start, end = authorised_window(case)
        number = len(case.extensions)
        limits = policy.window.extensions_max_hours
        if number >= len(limits):
            raise PolicyViolation(
                f"case {case.id}: extension refused: {number} extension(s) already granted, "
                f"the policy allows {len(limits)}; a longer deployment is a new case"
            )
        if hours <= 0:
            raise PolicyViolation(f"field 'hours': must be positive, got {hours:g}")
        if policy.window.extension_too_long(number, hours):
            raise PolicyViolation(
                f"case {case.id}: extension refused: window too long: extension {number + 1} "
                f"may add at most {limits[number]:g} h, {hours:g} h requested"
            )
        new_end = end + timedelta(hours=hours)
        total = _hours(start, new_end)
        if policy.window.total_too_long(total):
            raise PolicyViolation(
                f"case {case.id}: extension refused: window too long: {total:g} h in all, the "
                f"policy allows {policy.window.total_max_hours:g} h; a longer deployment is a "
                "new case"
            )
        cia = _require_reviewed_assessment(case, "extension", reviewed_after=_last_decision(case))
        overridden = _guardrails(
            session,
            case,
            actor,
            policy,
            now,
            start,
            new_end,
            override_reason,
            guardrail_check,
            "extension",
        )
        auth = _decide(
            session,
            case,
            actor,
            now,
            kind="extension",
            start=end,
            end=new_end,
            conditions=reasons,
            assessment_id=cia.id,
            overridden=overridden,
            override_reason=override_reason,
        )
        session.flush()
        ext = Extension(
            case_id=case.id,
            number=number + 1,
            hours=hours,
            previous_end=end,
            new_end=new_end,
            authorisation_id=auth.id,
        )
        session.add(ext)
        case.extensions.append(ext)
        case.end = new_end
        step.justification = reasons
        step.detail = {
            "number": number + 1,
            "hours": hours,
            "new_end": new_end,
            "overridden": overridden,
        }
    return ext


def _end(case: Case, at: datetime, reason: str, to: Status, policy: Policy) -> None:
    """End the case at ``at``; a deployment that ran (``ENDED``) is owed a debrief."""
    case.ended_at = at
    case.end_reason = reason
    if to in ENDED:
        case.debrief_due = at + timedelta(hours=policy.debrief.within_hours)
    _move(case, to)


def cancel(
    session: Session, case: Case, actor: Actor, now: datetime, policy: Policy, *, reasons: str
) -> None:
    """End the deployment early."""
    with _transition(session, case, actor, now, policy, Action.CANCEL) as step:
        _require_text("reasons", reasons, "say why the deployment ends early")
        _end(case, now, f"cancelled early: {reasons.strip()}", Status.CANCELLED, policy)
        step.justification = reasons


def expire(session: Session, case: Case, now: datetime, policy: Policy) -> bool:
    """Write down an expiry the clock already made (the scheduler's job); False if none due."""
    due = lapse(case, now)
    if due is None:
        return False
    at, reason = due
    with _recorded(session, case, SYSTEM, now, "expire") as step:
        _end(case, at, reason, Status.EXPIRED, policy)
        if "ratified" in reason:
            _notify(
                session,
                case,
                now,
                "urgent_unratified",
                f"urgent authorisation lapsed unratified at {_fmt(at)}",
                SYSTEM.user_id,
            )
        step.justification = reason
        step.detail = {"ended_at": at}
    return True


def refuse(
    session: Session, case: Case, actor: Actor, now: datetime, policy: Policy, *, reasons: str
) -> None:
    with _transition(session, case, actor, now, policy, Action.REFUSE) as step:
        require_not_requester(case, actor, policy, "refusal")
        _require_text("reasons", reasons, "a refusal records its reasons")
        _end(case, now, f"refused: {reasons.strip()}", Status.REFUSED, policy)
        step.justification = reasons


def withdraw(
    session: Session, case: Case, actor: Actor, now: datetime, policy: Policy, *, reasons: str
) -> None:
    with _transition(session, case, actor, now, policy, Action.WITHDRAW) as step:
        reason = f"withdrawn: {reasons.strip()}" if reasons else "withdrawn"
        _end(case, now, reason, Status.WITHDRAWN, policy)
        step.justification = reasons


def record_debrief(
    session: Session,
    case: Case,
    actor: Actor,
    now: datetime,
    policy: Policy,
    *,
    what_happened: str,
    incidents: int,
    complaints: int,
    community_feedback: str,
) -> Debrief:
    with _transition(session, case, actor, now, policy, Action.DEBRIEF) as step:
        _require_text("what_happened", what_happened)
        for name, n in (("incidents", incidents), ("complaints", complaints)):
            if n < 0:
                raise PolicyViolation(f"field '{name}': must be 0 or more, got {n}")
        row = Debrief(
            case_id=case.id,
            what_happened=what_happened.strip(),
            incidents=incidents,
            complaints=complaints,
            community_feedback=(community_feedback or "").strip(),
            recorded_at=now,
            **_signed(actor),
        )
        session.add(row)
        case.debriefs.append(row)
        _move(case, Status.DEBRIEFED)
        late = case.debrief_due is not None and now > as_utc(case.debrief_due)
        step.detail = {"incidents": incidents, "complaints": complaints, "late": late}
    return row


def close(
    session: Session, case: Case, actor: Actor, now: datetime, policy: Policy, *, notes: str = ""
) -> None:
    with _transition(session, case, actor, now, policy, Action.CLOSE) as step:
        _move(case, Status.CLOSED)
        step.justification = notes


def flag_overdue_debrief(session: Session, case: Case, now: datetime) -> bool:
    """Tell oversight once that the debrief is overdue; False if already flagged."""
    if any(n.kind == "overdue_debrief" for n in case.notifications):
        return False
    _notify(
        session,
        case,
        now,
        "overdue_debrief",
        f"debrief due by {_fmt(case.debrief_due)} not recorded",
        SYSTEM.user_id,
    )
    _record(
        session,
        case,
        SYSTEM,
        now,
        "flag_overdue_debrief",
        case_state(case),
        category=Category.DISCLOSURE,
    )
    return True


__all__ = [
    "ALLOWED_FROM",
    "SYSTEM",
    "CaseExpired",
    "InvalidTransition",
    "MissingRequirement",
    "VigilError",
]
