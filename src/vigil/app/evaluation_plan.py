"""The pre-registered evaluation plan, declared when a case is opened, against what the
evaluation will be able to detect (issue 17).

The domain (:mod:`vigil.outcomes.plan`) records the plan; measuring the minimum detectable
reduction needs the incident history of every area, which the domain does not read. This use
case joins the two: the entry points hand the case service :func:`plan_on_open` with their
incident source, and it runs in the transaction that opens the case, so a case never exists
without its plan and the figure is frozen (and audited) before anyone authorises anything.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from pydantic import Field
from sqlalchemy.orm import Session, sessionmaker

from vigil.app.context import IncidentSource
from vigil.app.text import RequestModel
from vigil.app.views import EvaluationPlanOut, evaluation_plan_out
from vigil.cases.evidence import EvidenceError, thaw
from vigil.cases.policy import Action
from vigil.cases.service import CaseService, OpenHook
from vigil.cases.states import Status
from vigil.clock import as_utc
from vigil.db.cases import Case
from vigil.errors import VigilError
from vigil.localtime import LONDON
from vigil.outcomes.detectable import Detectable, detectable_from_history, season_detectable
from vigil.outcomes.plan import (
    EvaluationPlan,
    PlanError,
    current_plan,
    declare_default_plan,
    declare_plan,
)
from vigil.roles import Actor

log = logging.getLogger(__name__)


def detectable_for_case(case: Case, source: IncidentSource | None) -> Detectable | None:
    """The placebo test's minimum detectable reduction for ``case``'s requested area and window,
    from its frozen forecast and ``source``'s history; None without either."""
    import pandas as pd

    start = case.start or case.requested_start
    end = case.end or case.requested_end
    if source is None or not case.evidence_json or start is None or end is None or not case.cells:
        return None
    try:
        surface = thaw(case.evidence_json, case.evidence_digest)
        incidents = source(surface)
        if incidents is None or len(incidents) == 0:
            return None

        def local(t: datetime) -> pd.Timestamp:
            return pd.Timestamp(as_utc(t)).tz_convert(LONDON).tz_localize(None)

        return detectable_from_history(
            incidents, surface, [str(c) for c in case.cells], local(start), local(end)
        )
    except (VigilError, EvidenceError, ValueError, OSError) as exc:
        # the plan is still declared; the note says no figure could be measured
        log.warning("case %s: minimum detectable reduction not measured: %s", case.id, exc)
        return None


def plan_on_open(source: IncidentSource | None) -> OpenHook:
    """The case service's open hook: the default plan, declared against the minimum detectable
    reduction measured on ``source``'s history (none stated without a history)."""

    def hook(session: Session, case: Case, actor: Any, now: datetime) -> None:
        detectable = detectable_for_case(case, source)
        if detectable is not None:
            detectable = with_season(session, case, source, detectable)
        declare_default_plan(session, case, actor, now, detectable)

    return hook


#: states of a case whose officers are, or were, on the ground: the deployments of a season
DEPLOYED = frozenset(
    {Status.AUTHORISED, Status.ACTIVE, Status.EXPIRED, Status.DEBRIEFED, Status.CLOSED}
)


def quarter_of(case: Case) -> str | None:
    """The quarter (London time) the case's window starts in: "2022Q3"."""
    import pandas as pd

    start = case.start or case.requested_start
    if start is None:
        return None
    return str(pd.Timestamp(as_utc(start)).tz_convert(LONDON).tz_localize(None).to_period("Q"))


def season_of(session: Session, case: Case) -> list[Case]:
    """The season ``case`` would join, as a season is evaluated and reported: the force's
    deployments (authorised, live or ended after deploying) starting in the same quarter, so
    far; ``case`` itself not included."""
    from sqlalchemy import select

    quarter = quarter_of(case)
    rows = session.execute(
        select(Case).where(Case.id != case.id, Case.status.in_([str(s) for s in DEPLOYED]))
    ).scalars()
    return [
        c
        for c in rows
        if quarter is not None
        and quarter_of(c) == quarter
        and (c.status in (Status.AUTHORISED, Status.ACTIVE) or c.activated_at is not None)
    ]


def with_season(
    session: Session, case: Case, source: IncidentSource | None, detectable: Detectable
) -> Detectable:
    """``detectable`` with the season's minimum detectable reduction added to its sentence
    (issue 17: "and for the season it would join"), frozen with the plan as the one note."""
    from dataclasses import replace

    members = [d for c in season_of(session, case) if (d := detectable_for_case(c, source))]
    quarter = quarter_of(case)
    label = f"the force's deployments starting in {quarter} so far and this one"
    _, sentence = season_detectable([*members, detectable], label)
    return replace(detectable, sentence=f"{detectable.sentence} {sentence}")


def plan_of(session: Session, case_id: int) -> EvaluationPlanOut | None:
    """The current plan of a case, for the case page and the CIA document."""
    row = current_plan(session, case_id)
    return None if row is None else evaluation_plan_out(row)


def detectable_note(session_factory: sessionmaker[Session], case_id: int) -> str | None:
    """What the case's evaluation can detect, as frozen with its plan (for the CIA document)."""
    with session_factory() as s:
        plan = plan_of(s, case_id)
    return None if plan is None else plan.mdr_note


def change_plan(
    service: CaseService,
    actor: Actor,
    case_id: int,
    changes: dict[str, str],
    justification: str = "",
) -> EvaluationPlanOut:
    """Declare a new version of ``case_id``'s evaluation plan: the current one with
    ``changes`` (``outcome``, ``comparison``, ``window``, ``analysis``). Who may is the
    permission table's ``change_plan`` row; after
    the window has started a ``justification`` is required and the change is audited as such
    (:func:`vigil.outcomes.plan.declare_plan`). The frozen minimum detectable reduction stays."""
    from dataclasses import replace

    unknown = sorted(set(changes) - set(EvaluationPlan().to_dict()))
    if unknown or not changes:
        raise PlanError(
            f"plan change: give one or more of outcome, comparison, window, analysis "
            f"(unknown: {', '.join(unknown) or 'none given'})"
        )
    empty = sorted(k for k, v in changes.items() if not v.strip())
    if empty:
        raise PlanError(f"plan change: {', '.join(empty)} may not be empty")
    view = service.get_case(actor, case_id, purpose="change evaluation plan")
    service.policy.check(actor, Action.CHANGE_PLAN, view.record)
    with service.session_factory() as s, s.begin():
        case = s.get(Case, case_id)
        assert case is not None  # get_case found it
        row = current_plan(s, case_id)
        base = (
            EvaluationPlan()
            if row is None
            else EvaluationPlan(row.outcome, row.comparison, row.window, row.analysis)
        )
        new = declare_plan(
            s, case, replace(base, **changes), actor, service.clock.now(),
            justification=justification,
        )  # fmt: skip
        return evaluation_plan_out(new)


class PlanChangeIn(RequestModel):
    """A change to a case's evaluation plan: the parts changed, and why (required once the
    deployment window has started)."""

    outcome: str | None = Field(None, max_length=2000)
    comparison: str | None = Field(None, max_length=2000)
    window: str | None = Field(None, max_length=2000)
    analysis: str | None = Field(None, max_length=2000)
    justification: str = Field("", max_length=4000)

    def changes(self) -> dict[str, str]:
        parts = ("outcome", "comparison", "window", "analysis")
        return {k: v for k in parts if (v := getattr(self, k)) is not None}
