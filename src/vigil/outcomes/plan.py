"""The pre-registered evaluation plan of a case (issue 17).

A success measure chosen after seeing the result is not a test. When a case is opened Vigil
declares how it will be evaluated: the outcome (victim-reported serious violence), the
comparison (matched undeployed areas), the window (the deployment's periods and the one after,
against the periods before) and the analysis (the placebo-in-space test), against the minimum
detectable reduction of that test measured on the area's history and the control pool
(:mod:`vigil.outcomes.detectable`; the application layer hands in the incident history, see
``vigil.app.evaluation_plan``). The figure is frozen when the case is opened: a later version of
the plan keeps it. The plan may be changed; every version is kept and audited, and a change after
the deployment window has started needs a justification and is marked as such, so oversight can
see it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.audit.log import Category, append
from vigil.clock import as_utc
from vigil.db.cases import Case
from vigil.db.outcomes import EvaluationPlanRow
from vigil.errors import VigilError
from vigil.outcomes.detectable import Detectable

DEFAULT_OUTCOME = (
    "victim-reported serious violence (violence and sexual offences, robbery, homicide, "
    "aggravated assault); police-generated offences (possession of weapons, drugs) excluded"
)
DEFAULT_COMPARISON = (
    "79 undeployed areas matched on before-period count, trend and forecast risk, outside the "
    "deployed area's surroundings (placebo-in-space)"
)
DEFAULT_WINDOW = (
    "the periods the deployment touched and the one after, against the periods before "
    "(months for month-only data, days for timed data)"
)
DEFAULT_ANALYSIS = (
    "placebo-in-space rank test, 95% interval by test inversion (primary); quasi-Poisson with "
    "area and period effects, SEs clustered by area (confirming); displacement: surrounding "
    "area against placebo surroundings"
)


#: The statement frozen when no incident history was at hand to measure the figure on.
NO_HISTORY = (
    "No minimum detectable reduction was stated: no incident history was available when the "
    "case was opened."
)


class PlanError(VigilError):
    """A plan change that is refused (names what is missing)."""


@dataclass(frozen=True)
class EvaluationPlan:
    outcome: str = DEFAULT_OUTCOME
    comparison: str = DEFAULT_COMPARISON
    window: str = DEFAULT_WINDOW
    analysis: str = DEFAULT_ANALYSIS

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _window_started(case: Case, now: datetime) -> bool:
    start = case.activated_at or case.start
    return start is not None and as_utc(start) <= as_utc(now)


def declare_plan(
    session: Session,
    case: Case,
    plan: EvaluationPlan,
    actor: Any,
    now: datetime,
    *,
    justification: str = "",
    detectable: Detectable | None = None,
) -> EvaluationPlanRow:
    """Record a version of ``case``'s plan, in the caller's transaction, with its audit entry.
    After the window has started a change needs ``justification`` and is marked.

    ``detectable``: the minimum detectable reduction measured when the case is opened; a later
    version keeps the first version's figure (it was stated before authorisation)."""
    previous = current_plan(session, case.id)
    if previous is not None:
        mdr, note = previous.mdr_pct, previous.mdr_note
    elif detectable is not None:
        mdr, note = detectable.mdr_pct, detectable.sentence
    else:
        mdr, note = None, NO_HISTORY
    late = previous is not None and _window_started(case, now)
    if late and not justification.strip():
        raise PlanError(
            f"case {case.id}: the deployment window has started, so changing the evaluation "
            "plan needs a justification (it is audited and shown to oversight)"
        )
    row = EvaluationPlanRow(
        case_id=case.id,
        version=1 if previous is None else previous.version + 1,
        declared_at=as_utc(now),
        actor_id=actor.user_id,
        outcome=plan.outcome,
        comparison=plan.comparison,
        window=plan.window,
        analysis=plan.analysis,
        mdr_pct=mdr,
        mdr_note=note,
        after_window_start=late,
        justification=justification,
    )
    session.add(row)
    session.flush()
    append(
        session,
        actor=actor,
        action="outcome.plan.change_after_start" if late else "outcome.plan.declare",
        category=Category.COMBINATION,
        at=now,
        case_id=case.id,
        before=None if previous is None else _as_dict(previous),
        after=_as_dict(row),
        justification=justification,
    )
    return row


def declare_default_plan(
    session: Session,
    case: Case,
    actor: Any,
    now: datetime,
    detectable: Detectable | None = None,
) -> None:
    """The default plan, declared when a case is opened against ``detectable`` (the entry
    points hand the case service ``vigil.app.evaluation_plan.plan_on_open``, which measures it
    on the incident history and calls this)."""
    declare_plan(session, case, EvaluationPlan(), actor, now, detectable=detectable)


def current_plan(session: Session, case_id: int) -> EvaluationPlanRow | None:
    return session.execute(
        select(EvaluationPlanRow)
        .where(EvaluationPlanRow.case_id == case_id)
        .order_by(EvaluationPlanRow.version.desc())
        .limit(1)
    ).scalar_one_or_none()


def plan_history(session: Session, case_id: int) -> list[EvaluationPlanRow]:
    return list(
        session.execute(
            select(EvaluationPlanRow)
            .where(EvaluationPlanRow.case_id == case_id)
            .order_by(EvaluationPlanRow.version)
        ).scalars()
    )


def _as_dict(row: EvaluationPlanRow) -> dict[str, Any]:
    return {
        "version": row.version,
        "outcome": row.outcome,
        "comparison": row.comparison,
        "window": row.window,
        "analysis": row.analysis,
        "mdr_pct": row.mdr_pct,
        "mdr_note": row.mdr_note,
        "after_window_start": row.after_window_start,
    }


def frozen_plan(session: Session, case_id: int) -> EvaluationPlanRow | None:
    """The first version of a case's plan: the one declared when it was opened, whose minimum
    detectable reduction every later version keeps."""
    return session.execute(
        select(EvaluationPlanRow)
        .where(EvaluationPlanRow.case_id == case_id)
        .order_by(EvaluationPlanRow.version)
        .limit(1)
    ).scalar_one_or_none()
