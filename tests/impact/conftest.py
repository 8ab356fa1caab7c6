"""Fixtures for the impact tests that go through the case workflow.

Evidence surface from real data: police.uk street crime in Lambeth, 2022 (met-street-2022),
victim-reported serious violence ("violent or sexual", "robbery") on a 250 m BNG grid. The
forecast for July is June's count per cell; each cell's long-run level (the ``long_run`` driver)
is its mean monthly count over January-June. The cells the tests use:

* r34c12: 12 in June against 7.8 a month (ratio 1.53), 99.3th percentile: exceptional;
* r22c10: 27 in June against 26.7 a month (ratio 1.01), the borough's second highest cell:
  always high, not exceptional.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.cases.lambeth import lambeth_first_half_2022
from tests.impact.test_assessment import complete_cia
from vigil.cases.policy import Policy, default_policy
from vigil.cases.service import CaseService
from vigil.cases.statements import Consultation
from vigil.clock import FixedClock
from vigil.forecast.surface import RiskSurface
from vigil.geo.projection import BNG
from vigil.impact.case_service import case_service
from vigil.roles import Actor, Rank, Role

ANALYST = Actor("u-analyst", Role.ANALYST)
# Lambeth's commander (``ready`` uses the commander of each case's own borough)
COMMANDER = Actor("u-bcu", Role.LOCAL_COMMANDER, Rank.CHIEF_SUPERINTENDENT, borough="Lambeth")
COMMUNITY_LEAD = Actor("u-community", Role.COMMUNITY_LEAD, Rank.INSPECTOR)
AUTHORISER = Actor("u-auth", Role.AUTHORISING_OFFICER, Rank.COMMANDER)
ASSISTANT_COMMISSIONER = Actor("u-ac", Role.AUTHORISING_OFFICER, Rank.ASSISTANT_COMMISSIONER)
OVERSIGHT = Actor("u-oversight", Role.OVERSIGHT)

EXCEPTIONAL = "r34c12"
NEXT_DOOR = "r34c13"  # 250 m east of EXCEPTIONAL: within the 500 m neighbour distance
ALWAYS_HIGH = "r22c10"
FAR = "r22c4"  # 3 km from EXCEPTIONAL


@pytest.fixture(scope="module")
def surface(shared_data: Path) -> RiskSurface:
    months, x, y, grid = lambeth_first_half_2022(shared_data, ["violent or sexual", "robbery"])
    june = months == "2022-06"
    risk = grid.counts(x[june], y[june])
    long_run = grid.counts(x, y) / 6
    cx, cy = grid.centres()
    ids = grid.area_ids()
    return RiskSurface(
        area_id=ids,
        x=cx,
        y=cy,
        risk=risk,
        crs=BNG,
        start=pd.Timestamp("2022-07-01T00:00Z"),
        end=pd.Timestamp("2022-08-01T00:00Z"),
        model="last-month-counts",
        grid=grid,
        drivers=pd.DataFrame({"area_id": ids, "long_run": long_run}),
        data_version={"source": "met-street-2022", "police_generated_share": 0.0},
    )


def relaxed(**guardrails: float) -> Policy:
    """The default policy with the evidence rule switched off, so one other rule is tested."""
    base = default_policy()
    g = base.guardrails.model_copy(
        update={"min_city_percentile": 0.0, "min_ratio_to_own_history": 0.0, **guardrails}
    )
    return base.model_copy(update={"guardrails": g})


@pytest.fixture
def make(
    session_factory: sessionmaker[Session], clock: FixedClock, surface: RiskSurface
) -> Callable[..., tuple[CaseService, Callable[..., int]]]:
    def _make(policy: Policy | None = None) -> tuple[CaseService, Callable[..., int]]:
        service = case_service(session_factory, clock, policy=policy or default_policy())

        def ready(cell: str, hours: float = 8, lead: float = 1) -> int:
            """A case over ``cell`` awaiting authorisation, window starting ``lead`` h from now."""
            now = clock.now()
            start = now + timedelta(hours=lead)
            view = service.open_case(
                ANALYST,
                trigger="proactive",
                cells=[cell],
                window=(start, start + timedelta(hours=hours)),
                resources="two armed officers on foot",
                objectives="deter knife violence around the interchange",
                success_measures=["no serious violence in the area during the window"],
                evidence=surface,
            )
            case_id = view.id
            # the commander of the case's own borough (some cells lie in Southwark)
            commander = replace(COMMANDER, borough=view.record.borough)
            service.submit(ANALYST, case_id)
            service.record_consultation(
                commander, case_id, Consultation("local_commander", "concur", "agreed")
            )
            service.record_consultation(
                COMMUNITY_LEAD, case_id, Consultation("community", "object", "too long")
            )
            service.attach_impact_assessment(COMMUNITY_LEAD, case_id, complete_cia())
            service.review_impact_assessment(AUTHORISER, case_id, "sufficient")
            service.request_authorisation(ANALYST, case_id)
            return case_id

        return service, ready

    return _make
