"""Read-only questions other parts ask of the case database (guardrails, outcomes, reports,
the scheduler). They do not write audit entries: callers that show case content to a person go
through ``CaseService``, which does. Everything here judges state by the clock, so an
unswept expired case never counts as live.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from vigil.cases.policy import Policy, default_policy
from vigil.cases.states import (
    ENDED,
    LIVE,
    Status,
    authorised_window,
    effective_status,
    lapse,
)
from vigil.clock import as_utc
from vigil.db.cases import Case


def whole_case() -> list[Any]:
    """Loader options that bring a case with everything recorded about it: consultations,
    assessments, authorisations, extensions, notifications and debriefs."""
    return [
        selectinload(r)
        for r in (
            Case.consultations,
            Case.assessments,
            Case.authorisations,
            Case.extensions,
            Case.notifications,
            Case.debriefs,
        )
    ]


@dataclass(frozen=True)
class DeploymentWindow:
    """Where and when a case put (or may put) officers on the ground.

    ``end`` is when the deployment ended or will end: the authorised end, cut short by an early
    cancellation or a lapsed urgent authorisation. ``area_wkt`` is EPSG:27700.
    """

    case_id: int
    area_wkt: str
    borough: str | None
    start: datetime
    end: datetime
    status: str


def _window_end(case: Case, now: datetime | None) -> datetime:
    _, end = authorised_window(case)
    if case.ended_at is not None:
        end = min(end, as_utc(case.ended_at))
    if now is not None:
        due = lapse(case, now)
        if due is not None:
            end = min(end, due[0])
    return end


def deployment_windows(
    session: Session, since: datetime, until: datetime, now: datetime | None = None
) -> list[DeploymentWindow]:
    """Every authorised deployment overlapping [since, until), earliest first.

    Pending, refused and withdrawn cases never deployed and are left out. ``now`` (optional)
    applies the clock: a lapsed case reads as expired with its end cut at the lapse.
    """
    since, until = as_utc(since), as_utc(until)
    rows = session.execute(
        select(Case)
        .where(Case.start.is_not(None), Case.start < until, Case.end > since)
        .order_by(Case.start, Case.id)
    ).scalars()
    out = []
    for case in rows:
        start, _ = authorised_window(case)
        end = _window_end(case, now)
        if end <= since:
            continue
        status = effective_status(case, now) if now is not None else Status(case.status)
        out.append(
            DeploymentWindow(
                case_id=case.id,
                area_wkt=case.area_wkt,
                borough=case.borough,
                start=start,
                end=end,
                status=status.value,
            )
        )
    return out


def active_cases(session: Session, now: datetime) -> list[Case]:
    """Cases authorised or active at ``now`` and not lapsed (stored live but expired excluded)."""
    rows = session.execute(
        select(Case)
        .where(Case.status.in_([s.value for s in LIVE]))
        .options(selectinload(Case.authorisations), selectinload(Case.extensions))
        .order_by(Case.id)
    ).scalars()
    return [c for c in rows if effective_status(c, now) in LIVE]


def debrief_due(case: Case, now: datetime, policy: Policy | None = None) -> datetime | None:
    """When the debrief is (or was) due: the stored deadline, or for an unswept lapse, the lapse
    time plus the policy's allowance."""
    if case.debrief_due is not None:
        return as_utc(case.debrief_due)
    due = lapse(case, now)
    if due is None:
        return None
    return due[0] + timedelta(hours=(policy or default_policy()).debrief.within_hours)


def overdue_debriefs(session: Session, now: datetime, policy: Policy | None = None) -> list[Case]:
    """Ended cases (by the clock) whose debrief deadline has passed without a debrief."""
    now = as_utc(now)
    rows = session.execute(
        select(Case)
        .where(
            or_(
                Case.status.in_([s.value for s in ENDED]),
                Case.status.in_([s.value for s in LIVE]),
            )
        )
        .options(selectinload(Case.notifications))
        .order_by(Case.id)
    ).scalars()
    out = []
    for case in rows:
        if effective_status(case, now) not in ENDED:
            continue
        due = debrief_due(case, now, policy)
        if due is not None and now > due:
            out.append(case)
    return out
