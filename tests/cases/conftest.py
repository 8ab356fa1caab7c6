"""Fixtures for the case tests: actors, a real evidence surface, a complete CIA, the service.

The evidence surface is built from real data: police.uk street crime for London, 2022
(/work/shared/data/met-street-2022), "violent or sexual" and "weapon possession" crimes recorded
in Lambeth in January-June 2022, counted on a 250 m British National Grid over the borough.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import shapely
from sqlalchemy.orm import Session, sessionmaker

from tests.cases.lambeth import lambeth_first_half_2022
from vigil.cases.service import CaseService
from vigil.cases.statements import Consultation
from vigil.clock import FixedClock
from vigil.forecast.surface import RiskSurface
from vigil.geo.projection import BNG
from vigil.impact.case_service import case_service
from vigil.roles import Actor, Rank, Role

ANALYST = Actor("u-analyst-1", Role.ANALYST, Rank.NONE)
COMMANDER_LAMBETH = Actor(
    "u-bcu-lambeth", Role.LOCAL_COMMANDER, Rank.CHIEF_SUPERINTENDENT, borough="Lambeth"
)
COMMANDER_HACKNEY = Actor(
    "u-bcu-hackney", Role.LOCAL_COMMANDER, Rank.CHIEF_SUPERINTENDENT, borough="Hackney"
)
COMMUNITY_LEAD = Actor("u-community-1", Role.COMMUNITY_LEAD, Rank.INSPECTOR)
AUTHORISER = Actor("u-auth-1", Role.AUTHORISING_OFFICER, Rank.COMMANDER)
AUTHORISER_2 = Actor("u-auth-2", Role.AUTHORISING_OFFICER, Rank.DEPUTY_ASSISTANT_COMMISSIONER)
SUPERINTENDENT = Actor("u-auth-supt", Role.AUTHORISING_OFFICER, Rank.SUPERINTENDENT)
CHIEF_SUPT = Actor("u-auth-csupt", Role.AUTHORISING_OFFICER, Rank.CHIEF_SUPERINTENDENT)
ASSISTANT_COMMISSIONER = Actor("u-auth-ac", Role.AUTHORISING_OFFICER, Rank.ASSISTANT_COMMISSIONER)
OVERSIGHT = Actor("u-mopac-1", Role.OVERSIGHT, Rank.NONE)


def no_breaches(session: Any, case: Any, policy: Any, now: datetime) -> list[Any]:
    """Guardrails that pass: the workflow tests isolate the case rules from the impact rules
    (those are tested in tests/impact and, end to end, in test_guardrails_integration)."""
    return []


@pytest.fixture(scope="session")
def lambeth_surface(shared_data: Path) -> RiskSurface:
    _, x, y, grid = lambeth_first_half_2022(shared_data, ["violent or sexual", "weapon possession"])
    months = 6
    # expected count in one day: the monthly mean over Jan-Jun spread over 30 days
    risk = grid.counts(x, y) / months / 30.0
    cx, cy = grid.centres()
    return RiskSurface(
        area_id=grid.area_ids(),
        x=cx,
        y=cy,
        risk=risk,
        crs=BNG,
        start=pd.Timestamp("2022-07-01T00:00Z"),
        end=pd.Timestamp("2022-07-02T00:00Z"),
        model="test-long-run-counts",
        params={"months": months, "cell": 250.0},
        grid=grid,
        data_version={"source": "met-street-2022", "months": "2022-01..2022-06"},
    )


@pytest.fixture(scope="session")
def hot_cells(lambeth_surface: RiskSurface) -> list[str]:
    """The two highest-risk cells (a real hot spot in Lambeth, 2022)."""
    top = lambeth_surface.ranking()[:2]
    return [str(lambeth_surface.area_id[i]) for i in top]


@pytest.fixture(scope="session")
def hot_area_wkt(lambeth_surface: RiskSurface) -> str:
    i = int(lambeth_surface.ranking()[0])
    return shapely.to_wkt(lambeth_surface.polygons()[i].buffer(50, join_style="mitre"))


def complete_cia() -> dict[str, Any]:
    """A CIA with every required item (the impact team's CommunityImpactAssessment)."""
    bodies = [
        "local_commander",
        "independent_advisory_group",
        "safer_neighbourhood_board",
        "community_leaders",
        "stop_search_monitoring_group",
    ]
    return {
        "area_profile": {
            "area_kind": "polygon",
            "population": 10500,
            "age_bands": {"0-15": 1800, "16-29": 2900, "30-44": 2700, "45-64": 2200, "65+": 900},
            "ethnicity_2011": {
                "White": 0.45,
                "Black": 0.3,
                "Asian": 0.1,
                "Mixed": 0.1,
                "Other": 0.05,
            },
            "imd_decile": 3,
        },
        "tension": {
            "evidenced": "two stabbings near the station in a week",
            "experienced": "residents report fear at the bus interchange at night",
            "potential": "visible armed patrols could raise fear and distrust",
            "rating": "high",
        },
        "consultations": [
            {
                "body": b,
                "role": "chair",
                "on": "2022-06-30",
                "position": "neutral",
                "summary": "heard the proposal, asked for a short window",
            }
            for b in bodies
        ],
        "risks": [{"id": "R1", "description": "loss of confidence", "likelihood": 3, "impact": 4}],
        "mitigations": [
            {
                "description": "community briefing before and after",
                "addresses": ["R1"],
                "owner_role": "community_lead",
            }
        ],
        "communication": {"before": "briefing to the IAG", "after": "debrief at the SNB"},
        "reviewer": {"user_id": "u-auth-1", "role": "authorising_officer"},
        "review_date": "2022-07-01",
        "indicators": {"stop_search_rate": 12.5},
    }


@pytest.fixture
def service(session_factory: sessionmaker[Session], clock: FixedClock) -> CaseService:
    return case_service(session_factory, clock, check=no_breaches)


@pytest.fixture
def open_case(
    service: CaseService, clock: FixedClock, hot_cells: list[str], lambeth_surface: RiskSurface
) -> Callable[..., int]:
    """Open a proactive case over the hot cells for the next ``hours`` hours; its id."""

    def _open(
        hours: float = 12,
        trigger: str = "proactive",
        requester: Actor = ANALYST,
        start_in: timedelta = timedelta(hours=1),
    ) -> int:
        now = clock.now()
        view = service.open_case(
            requester,
            trigger=trigger,
            cells=hot_cells,
            window=(now + start_in, now + start_in + timedelta(hours=hours)),
            resources="two armed response vehicles' crews on foot",
            objectives="deter knife violence around the interchange",
            success_measures=[
                "no serious violence in the area during the window",
                "no increase in the 500 m ring",
            ],
            evidence=lambeth_surface,
        )
        return view.id

    return _open


@pytest.fixture
def ready_case(service: CaseService, open_case: Callable[..., int]) -> Callable[..., int]:
    """A case awaiting authorisation: submitted, both consultations, CIA complete and reviewed."""

    def _ready(**kw: Any) -> int:
        case_id = open_case(**kw)
        service.submit(kw.get("requester", ANALYST), case_id)
        service.record_consultation(
            COMMANDER_LAMBETH,
            case_id,
            Consultation("local_commander", "concur", "intelligence supports a short window"),
        )
        service.record_consultation(
            COMMUNITY_LEAD,
            case_id,
            Consultation("community", "object", "IAG asks for a shorter window and a debrief"),
        )
        service.attach_impact_assessment(COMMUNITY_LEAD, case_id, complete_cia())
        service.review_impact_assessment(AUTHORISER, case_id, "assessment is sufficient")
        service.request_authorisation(ANALYST, case_id)
        return case_id

    return _ready


def window_of(service: CaseService, case_id: int) -> tuple[datetime, datetime]:
    view = service.get_case(OVERSIGHT, case_id)
    return view.requested_start, view.requested_end
