"""Every automatic indicator of the community impact assessment, for an area or for a case.

This module assembles the blocks of :mod:`vigil.impact.computations` (who lives there, how
heavily it is already policed, the serious-violence trend, exceptional or always high, past
deployments, the standing on the case's forecast) into one :class:`AreaIndicators`, and is the
one place a case becomes indicators: the API, the web pages and the CLI all draft through
:func:`indicators_for_record`, so they show the same figures for the same case.

"Now" for the street-crime figures is never a constant: for a case it is the last whole month
before its requested window; for a bare area the caller names a month or gets the data's last.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from vigil.cases.evidence import thaw
from vigil.cases.guardrail_policy import GuardrailPolicy
from vigil.cases.queries import deployment_windows
from vigil.clock import as_utc
from vigil.db.cases import Case
from vigil.forecast.surface import RiskSurface
from vigil.impact.area import AreaNotFound, AreaSelection, select_area
from vigil.impact.assessment import CommunityImpactAssessment
from vigil.impact.computations import (
    area_profile,
    city_comparison,
    deployment_history,
    forecast_standing,
    latest_month,
    stop_search_indicators,
    violence_trend,
)
from vigil.impact.models import AreaIndicators
from vigil.impact.sources import AREA_STOP_SEARCH_FILE
from vigil.localtime import to_london


def month_before(when: datetime) -> str:
    """The last whole month (YYYY-MM, London time) before ``when``."""
    local = to_london(as_utc(when))
    return (local.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def compute_indicators(
    area: AreaSelection,
    *,
    as_of_month: str | None = None,
    policy: GuardrailPolicy | None = None,
    session: Session | None = None,
    now: datetime | None = None,
    surface: RiskSurface | None = None,
    shared: Path | None = None,
) -> AreaIndicators:
    """Every automatic indicator for ``area``, with street-crime figures up to ``as_of_month``
    (YYYY-MM; None = the last month in the data). Past deployments need a case-database
    ``session`` and ``now``; without them that block is left empty (and said so in ``notes``).
    Given the case's evidence ``surface``, the area's standing on that forecast is added."""
    policy = policy or GuardrailPolicy()
    area_ss, force_ss = stop_search_indicators(area, shared)
    notes = [
        f"Stop-and-search 'area' figures come from one month ({AREA_STOP_SEARCH_FILE[:7]}), the "
        "only Met month published with locations; force-wide figures cover every Met month "
        "available.",
        "Searches are located where they happened; residents are the denominator, as in Home "
        "Office disproportionality figures, so areas with many visitors show high rates.",
    ]
    last = latest_month(shared)
    if as_of_month is not None and last < as_of_month:
        notes.append(
            f"Street-crime data end in {last}, before {as_of_month}: the violence figures are "
            "the latest available, not those of the month asked for."
        )
    deployments = None
    if session is not None and now is not None:
        now = as_utc(now)
        windows = deployment_windows(session, now - timedelta(days=366), now, now=now)
        deployments = deployment_history(windows, area.geometry, now, policy.neighbour_distance_m)
    else:
        notes.append("Past deployments: not computed (no case database given).")
    return AreaIndicators(
        area_kind=area.kind,
        area_code=area.code,
        area_name=area.name,
        area_km2=area.km2,
        lsoas={str(k): float(v) for k, v in area.lsoa_weights.items()},
        profile=area_profile(area, shared),
        stop_search_area=area_ss,
        stop_search_force=force_ss,
        violence_trend=violence_trend(area, as_of_month, shared=shared),
        city=city_comparison(area, as_of_month, policy=policy, shared=shared),
        deployments=deployments,
        forecast=None if surface is None else forecast_standing(surface, area.geometry, policy),
        notes=notes,
    )


def indicators_for_record(
    case: Case,
    session: Session,
    now: datetime,
    *,
    policy: GuardrailPolicy | None = None,
    shared: Path | None = None,
) -> AreaIndicators:
    """The indicators for a case's area: street-crime figures to the last whole month before
    its requested window, its frozen evidence forecast (digest-checked) and the deployments on
    record before ``now``. Read-only: the case is not changed and no audit entry written."""
    surface = None
    if case.evidence_json:
        surface = thaw(case.evidence_json, case.evidence_digest)
    area = select_area(polygon=case.area_wkt, name=f"case {case.id} area", shared=shared)
    return compute_indicators(
        area,
        as_of_month=month_before(case.requested_start),
        policy=policy,
        session=session,
        now=now,
        surface=surface,
        shared=shared,
    )


def indicators_for_case(
    session: Session,
    case_id: int,
    now: datetime,
    *,
    policy: GuardrailPolicy | None = None,
    shared: Path | None = None,
) -> AreaIndicators:
    """:func:`indicators_for_record` for the case stored as ``case_id``."""
    case = session.get(Case, case_id)
    if case is None:
        raise AreaNotFound(f"case {case_id} does not exist")
    return indicators_for_record(case, session, now, policy=policy, shared=shared)


def start_assessment(
    indicators: AreaIndicators, case_id: str | int | None = None
) -> CommunityImpactAssessment:
    """A CIA draft with its area profile and automatic indicators filled in; the rest (tension,
    consultation, risks, mitigations, communication, review) is for people to complete."""
    return CommunityImpactAssessment(
        case_id=None if case_id is None else str(case_id),
        area_profile=indicators.profile,
        indicators=indicators.model_dump(mode="json"),
    )
