"""Evaluating ended cases and recording the result (the domain side of :mod:`vigil.outcomes`).

A case is evaluated only after its deployment has ended (an evaluation of a live deployment
would publish where officers are). The forecast the case was decided on (its frozen evidence)
supplies the comparable control areas, so the controls are the areas the decision-maker could
equally have chosen. Each run is stored, and written to the audit log, never overwritten.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.audit.log import Category, append
from vigil.cases.evidence import thaw
from vigil.cases.states import ENDED, FINAL, Status, effective_status
from vigil.clock import as_utc
from vigil.db.cases import Case
from vigil.db.outcomes import OutcomeCalibration, OutcomeEvaluation
from vigil.errors import VigilError
from vigil.forecast.surface import RiskSurface
from vigil.outcomes.evaluation import (
    DeploymentWindow,
    Evaluation,
    evaluate_deployments,
    resolution_for,
)

#: Incidents are in naive local time; case times are UTC. London's local time is this zone.
LOCAL_TZ = "Europe/London"
#: Months before the deployment used as the "before" period when none is given.
DEFAULT_BEFORE_MONTHS = 6
#: States in which a deployment has happened and is over.
EVALUABLE = ENDED | {Status.DEBRIEFED, Status.CLOSED}


class NotEvaluable(VigilError):
    """The case cannot be evaluated (not found, never deployed, or not yet ended)."""


def _local(when: datetime, tz: str) -> pd.Timestamp:
    return pd.Timestamp(as_utc(when)).tz_convert(tz).tz_localize(None)


def case_window(case: Case, tz: str = LOCAL_TZ) -> DeploymentWindow:
    """The deployment as it happened: activation (or authorised start) to its actual end."""
    start = case.activated_at or case.start
    end = case.ended_at or case.end
    if start is None or end is None or not case.cells:
        raise NotEvaluable(f"case {case.id} has no deployed window or area to evaluate")
    return DeploymentWindow(
        str(case.id), tuple(str(c) for c in case.cells), _local(start, tz), _local(end, tz)
    )


def _load(session: Session, case_id: int, now: datetime) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotEvaluable(f"case {case_id} not found")
    status = effective_status(case, now)
    if status not in EVALUABLE:
        why = "was never deployed" if status in FINAL else f"is {status.value}, not yet ended"
        raise NotEvaluable(f"case {case_id} {why}: only ended deployments are evaluated")
    if status in FINAL and case.activated_at is None:
        raise NotEvaluable(f"case {case_id} was never deployed")
    ended = case.ended_at or case.end
    if ended is not None and as_utc(now) < as_utc(ended):
        raise NotEvaluable(f"case {case_id} is not yet ended at {as_utc(now):%Y-%m-%d %H:%M} UTC")
    return case


def evaluate_cases(
    session: Session,
    case_ids: Sequence[int],
    incidents: pd.DataFrame,
    actor: Any,
    now: datetime,
    *,
    surface: RiskSurface | None = None,
    study_start: pd.Timestamp | None = None,
    study_end: pd.Timestamp | None = None,
    tz: str = LOCAL_TZ,
    record: bool = True,
    **options: Any,
) -> Evaluation:
    """Evaluate one ended case, or a season of them pooled (staggered difference-in-differences).

    ``incidents``: the canonical table with ``x``/``y`` in the evidence surface's CRS. The
    evidence of the first case supplies the controls unless ``surface`` is given. The study period
    runs from ``DEFAULT_BEFORE_MONTHS`` before the first deployment to the end of the incident
    data, never past ``now``. With ``record`` each case gets a stored row and an audit entry.
    """
    if not case_ids:
        raise NotEvaluable("no case to evaluate")
    cases = [_load(session, int(c), now) for c in case_ids]
    windows = [case_window(c, tz) for c in cases]
    if surface is None:
        first = cases[0]
        if first.evidence_json is None:
            raise NotEvaluable(f"case {first.id} has no frozen forecast to choose controls from")
        surface = thaw(first.evidence_json, first.evidence_digest)
    earliest = min(w.start for w in windows)
    if study_start is None:
        study_start = (earliest.to_period("M") - DEFAULT_BEFORE_MONTHS).to_timestamp()
        study_start = max(study_start, incidents["time"].min().to_period("M").to_timestamp())
    if study_end is None:
        last = incidents["time"].max()
        study_end = (last.to_period("M") + 1).to_timestamp()
    local_now = _local(now, tz)
    if (options.get("resolution") or resolution_for(incidents)) == "M":
        # month-only data: only whole months that have ended by now count (no peeking into
        # the rest of the current month)
        local_now = local_now.to_period("M").to_timestamp()
        last_window_end = max(w.end for w in windows)
        if last_window_end > local_now:
            raise NotEvaluable(
                "the incident data are known only to their month: a deployment ending in "
                f"{last_window_end:%B %Y} can be evaluated once that month is over"
            )
    study_end = min(pd.Timestamp(study_end), local_now)
    result = evaluate_deployments(
        incidents,
        surface,
        windows,
        study_start=pd.Timestamp(study_start),
        study_end=study_end,
        **options,
    )
    if record:
        for case in cases:
            _store(session, case, result, actor, now, pooled=len(cases) > 1, incidents=incidents)
    return result


def _store(
    session: Session,
    case: Case,
    result: Evaluation,
    actor: Any,
    now: datetime,
    *,
    pooled: bool,
    incidents: pd.DataFrame,
) -> OutcomeEvaluation:
    wdq = result.per_deployment_wdq.get(str(case.id), result.wdq)
    payload = result.to_dict()
    payload["pooled_over_cases"] = pooled
    payload["case_wdq"] = wdq.to_dict()
    version = {
        "datasets": sorted(str(x) for x in pd.unique(incidents.get("dataset", pd.Series([])))),
        "incidents": int(len(incidents)),
        "last_period": str(incidents["time"].max()),
    }
    row = OutcomeEvaluation(
        case_id=case.id,
        evaluated_at=as_utc(now),
        actor_id=actor.user_id,
        actor_role=str(actor.role),
        resolution=result.resolution,
        verdict=str(result.verdict),
        rate_ratio=result.rate_ratio,
        ci_low=result.ci[0],
        ci_high=result.ci[1],
        wdq=wdq.wdq,
        message=result.message,
        result_json=json.dumps(payload, sort_keys=True, default=str),
        data_version=json.dumps(version, sort_keys=True),
    )
    session.add(row)
    session.flush()
    append(
        session,
        actor=actor,
        action="outcome.evaluate",
        category=Category.COMBINATION,
        at=now,
        case_id=case.id,
        after={"evaluation_id": row.id, "verdict": row.verdict, "rate_ratio": row.rate_ratio},
        detail={"evaluation_id": row.id, "pooled": pooled, "resolution": row.resolution},
    )
    return row


def latest_evaluation(session: Session, case_id: int) -> OutcomeEvaluation | None:
    return session.execute(
        select(OutcomeEvaluation)
        .where(OutcomeEvaluation.case_id == case_id)
        .order_by(OutcomeEvaluation.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def store_calibration(
    session: Session, calibration: Any, actor: Any, now: datetime
) -> OutcomeCalibration:
    """Keep a calibration run (:class:`vigil.outcomes.calibrate.Calibration`) and write
    ``outcome.calibrate`` to the audit log: oversight reads the latest in its report."""
    payload = calibration.to_dict()
    row = OutcomeCalibration(
        run_at=as_utc(now),
        actor_id=actor.user_id,
        dataset=str(calibration.dataset)[:200],
        year=int(calibration.settings.get("year", 0)),
        method=calibration.method,
        single_false_alarm=_finite(calibration.singles.false_alarm),
        season_false_alarm=_finite(calibration.seasons.false_alarm),
        result_json=json.dumps(payload, sort_keys=True, default=str),
    )
    session.add(row)
    session.flush()
    append(
        session,
        actor=actor,
        action="outcome.calibrate",
        category=Category.COMBINATION,
        at=now,
        after={"calibration_id": row.id, "dataset": row.dataset, "year": row.year},
        detail={
            "single_false_alarm": row.single_false_alarm,
            "season_false_alarm": row.season_false_alarm,
        },
    )
    return row


def _finite(v: float) -> float | None:
    return None if v != v else float(v)


def latest_calibration(session: Session) -> OutcomeCalibration | None:
    """The most recent calibration run, or None when the evaluation was never calibrated."""
    return session.execute(
        select(OutcomeCalibration).order_by(OutcomeCalibration.id.desc()).limit(1)
    ).scalar_one_or_none()
