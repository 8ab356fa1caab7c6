"""The deployments a report covers, with the numbers every report needs about each.

Windows come from :func:`vigil.cases.queries.deployment_windows` (the same reading of "when did
it run" the guardrails use); hours count only deployments that were activated, cut to the
period reported on and to the clock (a running deployment counts the hours so far).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.cases.queries import deployment_windows
from vigil.clock import as_utc
from vigil.db.cases import Authorisation, Case
from vigil.db.outcomes import OutcomeEvaluation
from vigil.impact.guardrails import overlap_hours


@dataclass
class DeploymentRow:
    case_id: int
    borough: str
    boroughs: list[str]
    trigger: str
    urgent: bool
    status: str
    start: datetime
    end: datetime
    activated: bool
    #: hours on the ground inside the period (and before the clock)
    hours: float
    extensions: int
    area_wkt: str
    overrides: list[tuple[str, str, int]] = field(default_factory=list)  # rules, reason, rank
    verdict: str | None = None
    rate_ratio: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    wdq: float | None = None
    outcome_message: str | None = None
    resolution: str | None = None

    @property
    def ended(self) -> bool:
        return self.status in {"expired", "cancelled", "debriefed", "closed"}


def deployments_between(
    session: Session, since: datetime, until: datetime, now: datetime
) -> list[DeploymentRow]:
    """Every authorised deployment overlapping ``[since, until)``, as the clock sees it at
    ``now``."""
    now = as_utc(now)
    windows = deployment_windows(session, since, until, now)
    if not windows:
        return []
    ids = [w.case_id for w in windows]
    cases = {c.id: c for c in session.execute(select(Case).where(Case.id.in_(ids))).scalars()}
    auths = session.execute(
        select(Authorisation).where(Authorisation.case_id.in_(ids)).order_by(Authorisation.id)
    ).scalars()
    overrides: dict[int, list[tuple[str, str, int]]] = {}
    for a in auths:
        if a.overridden_rules:
            overrides.setdefault(a.case_id, []).append(
                (", ".join(a.overridden_rules), a.override_reason or "", a.actor_rank)
            )
    latest: dict[int, OutcomeEvaluation] = {}
    for row in session.execute(
        select(OutcomeEvaluation)
        .where(OutcomeEvaluation.case_id.in_(ids))
        .order_by(OutcomeEvaluation.id)
    ).scalars():
        latest[row.case_id] = row
    rows = []
    for w in windows:
        c = cases[w.case_id]
        on_ground = c.activated_at is not None
        start = as_utc(c.activated_at) if c.activated_at is not None else as_utc(w.start)
        hours = overlap_hours(start, min(as_utc(w.end), now), since, until) if on_ground else 0.0
        ev = latest.get(c.id)
        rows.append(
            DeploymentRow(
                case_id=c.id,
                borough=c.borough or "unknown borough",
                boroughs=list(c.boroughs or []),
                trigger=c.trigger,
                urgent=bool(c.urgent),
                status=w.status,
                start=as_utc(w.start),
                end=as_utc(w.end),
                activated=on_ground,
                hours=hours,
                extensions=len(c.extensions),
                area_wkt=c.area_wkt,
                overrides=overrides.get(c.id, []),
                verdict=None if ev is None else ev.verdict,
                rate_ratio=None if ev is None else ev.rate_ratio,
                ci_low=None if ev is None else ev.ci_low,
                ci_high=None if ev is None else ev.ci_high,
                wdq=None if ev is None else ev.wdq,
                outcome_message=None if ev is None else ev.message,
                resolution=None if ev is None else ev.resolution,
            )
        )
    return rows


def hours_by_borough(rows: list[DeploymentRow]) -> dict[str, float]:
    out: dict[str, float] = {}
    for r in rows:
        out[r.borough] = out.get(r.borough, 0.0) + r.hours
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))


def outcome_counts(rows: list[DeploymentRow]) -> dict[str, int]:
    """How many deployments had each evaluation verdict ("not yet evaluated" for none)."""
    out: dict[str, int] = {}
    for r in rows:
        key = r.verdict or "not yet evaluated"
        out[key] = out.get(key, 0) + 1
    return out
