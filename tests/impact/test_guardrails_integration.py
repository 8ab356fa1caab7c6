"""Each guardrail refusing an authorisation through the real case workflow (CaseService with the
real ``vigil.impact.guardrails.check``), and the override path writing its audit entry and its
oversight flag; on SQLite and PostgreSQL (``db_url``).

Evidence surface from real data: police.uk street crime in Lambeth, 2022 (met-street-2022),
victim-reported serious violence ("violent or sexual", "robbery") on a 250 m BNG grid. The
forecast for July is June's count per cell; each cell's long-run level (the ``long_run`` driver)
is its mean monthly count over January-June. Two cells matter:

* r34c12: 12 in June against 7.8 a month (ratio 1.53), 99.3th percentile: exceptional;
* r22c10: 27 in June against 26.7 a month (ratio 1.01), the borough's second highest cell:
  always high, not exceptional.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.impact.test_assessment import complete_cia
from vigil.audit.log import entries_for_case
from vigil.cases.policy import Policy, default_policy
from vigil.cases.service import CaseService
from vigil.clock import FixedClock
from vigil.errors import PermissionDenied, PolicyViolation
from vigil.forecast.surface import RiskSurface
from vigil.geo.grid import Grid
from vigil.geo.projection import BNG, to_metres
from vigil.impact.guardrails import percentile_of
from vigil.roles import Actor, Rank, Role

ANALYST = Actor("u-analyst", Role.ANALYST)
# force-wide commander: the cells straddle Lambeth and Southwark
COMMANDER = Actor("u-bcu", Role.LOCAL_COMMANDER, Rank.CHIEF_SUPERINTENDENT)
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
    f = pd.read_csv(
        shared_data / "met-street-2022/london_crimes_2022.csv.gz",
        usecols=["month", "type", "longitude", "latitude", "borough_pip"],
    )
    f = f[
        (f["borough_pip"] == "Lambeth")
        & f["type"].isin(["violent or sexual", "robbery"])
        & (f["month"] <= "2022-06")
    ]
    x, y = to_metres(f["longitude"], f["latitude"], BNG)
    grid = Grid.from_bounds(x.min(), y.min(), x.max(), y.max(), cell=250.0, crs=BNG)
    june = (f["month"] == "2022-06").to_numpy()
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


def test_the_chosen_cells_are_what_the_docstring_says(surface: RiskSurface) -> None:
    ids = list(surface.area_id)
    long_run = surface.drivers["long_run"].to_numpy()  # type: ignore[index]
    for cell, exceptional in ((EXCEPTIONAL, True), (ALWAYS_HIGH, False)):
        i = ids.index(cell)
        assert percentile_of(surface.risk, surface.risk[i]) >= 99
        assert bool(surface.risk[i] / long_run[i] >= 1.5) is exceptional


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
        service = CaseService(session_factory, clock, policy=policy or default_policy())

        def ready(cell: str, hours: float = 8, lead: float = 1) -> int:
            """A case over ``cell`` awaiting authorisation, window starting ``lead`` h from now."""
            now = clock.now()
            start = now + timedelta(hours=lead)
            case_id = service.open_case(
                ANALYST,
                trigger="proactive",
                cells=[cell],
                window=(start, start + timedelta(hours=hours)),
                resources="two armed officers on foot",
                objectives="deter knife violence around the interchange",
                success_measures=["no serious violence in the area during the window"],
                evidence=surface,
            ).id
            service.submit(ANALYST, case_id)
            service.record_consultation(COMMANDER, case_id, "local_commander", "concur", "agreed")
            service.record_consultation(COMMUNITY_LEAD, case_id, "community", "object", "too long")
            service.attach_impact_assessment(COMMUNITY_LEAD, case_id, complete_cia())
            service.review_impact_assessment(AUTHORISER, case_id, "sufficient")
            service.request_authorisation(ANALYST, case_id)
            return case_id

        return service, ready

    return _make


def refused(service: CaseService, case_id: int) -> str:
    with pytest.raises(PolicyViolation, match="refused by the guardrails") as info:
        service.authorise(AUTHORISER, case_id, conditions="plain clothes support")
    view = service.get_case(OVERSIGHT, case_id)
    assert view.authorisations == [] and view.notifications == []  # nothing half-written
    return str(info.value)


def test_evidence_refuses_an_always_high_area_and_passes_an_exceptional_one(make) -> None:  # type: ignore[no-untyped-def]
    service, ready = make()
    message = refused(service, ready(ALWAYS_HIGH))
    assert "evidence:" in message and "1.01 times its own long-run level" in message
    assert "area_hours" not in message and "cooling_off" not in message
    ok = service.authorise(AUTHORISER, ready(EXCEPTIONAL), conditions="x")
    assert ok.authorisations[-1].overridden_rules == []


def test_area_hours_cap_counts_neighbours_over_the_rolling_window(make, clock) -> None:  # type: ignore[no-untyped-def]
    service, ready = make(relaxed(max_area_hours=20.0))
    first = ready(EXCEPTIONAL, hours=15)
    service.authorise(AUTHORISER, first, conditions="x")
    clock.advance(timedelta(days=15))  # past the 14-day cooling-off, inside the 28-day window
    message = refused(service, ready(NEXT_DOOR, hours=10))
    assert "area_hours: 25.0 deployed hours" in message and "cap of 20 h" in message
    assert "cooling_off" not in message and "concurrent" not in message
    clock.advance(timedelta(days=14))  # the first deployment has left the 28-day window
    ok = service.authorise(AUTHORISER, ready(NEXT_DOOR, hours=10), conditions="x")
    assert ok.authorisations[-1].overridden_rules == []


def test_cooling_off_after_a_deployment_next_door(make, clock) -> None:  # type: ignore[no-untyped-def]
    service, ready = make(relaxed())
    first = ready(EXCEPTIONAL, hours=8)
    service.authorise(AUTHORISER, first, conditions="x")
    clock.advance(timedelta(days=2))
    message = refused(service, ready(NEXT_DOOR, hours=8))
    assert f"cooling_off: case {first} deployed in this area" in message
    assert "area_hours" not in message and "concurrent" not in message
    # far away, the same day: no cooling-off
    ok = service.authorise(AUTHORISER, ready(FAR, hours=8), conditions="x")
    assert ok.authorisations[-1].overridden_rules == []


def test_concurrency_refuses_then_override_is_audited_and_flagged(make, session_factory) -> None:  # type: ignore[no-untyped-def]
    service, ready = make(relaxed(max_concurrent=1))
    first = ready(FAR, hours=10)
    service.authorise(AUTHORISER, first, conditions="x")
    second = ready(EXCEPTIONAL, hours=8, lead=2)  # overlaps the first, 3 km away
    message = refused(service, second)
    assert "concurrent: 2 deployments would be active at once" in message
    assert "cooling_off" not in message and "area_hours" not in message

    # a commander cannot override; an assistant commissioner can, with a reason
    with pytest.raises(PermissionDenied, match="assistant_commissioner"):
        service.authorise(AUTHORISER, second, conditions="x", override_reason="linked feud")
    view = service.authorise(
        ASSISTANT_COMMISSIONER, second, conditions="x", override_reason="linked feud, two sites"
    )
    auth = view.authorisations[-1]
    assert auth.overridden_rules == ["concurrent"]
    assert auth.override_reason == "linked feud, two sites"
    (flag,) = view.notifications
    assert flag.kind == "guardrail_override" and flag.recipient == "oversight"
    assert "concurrent" in flag.message and "linked feud, two sites" in flag.message
    with session_factory() as s:
        entries = [e for e in entries_for_case(s, second) if e.action == "case.authorise"]
    (entry,) = entries
    detail = json.loads(entry.detail)
    assert entry.actor_id == ASSISTANT_COMMISSIONER.user_id
    assert detail["overridden"] == ["concurrent"]
    assert detail["override_reason"] == "linked feud, two sites"


def test_breaches_accumulate_in_one_refusal(make, clock) -> None:  # type: ignore[no-untyped-def]
    service, ready = make(relaxed(max_concurrent=1, max_area_hours=8.5))
    first = ready(EXCEPTIONAL, hours=8)
    service.authorise(AUTHORISER, first, conditions="x")
    message = refused(service, ready(NEXT_DOOR, hours=8, lead=2))
    # 10:00-18:00 and 11:00-19:00 next door: 9 hours of deployment in the area, not 16
    assert "area_hours: 9.0 deployed hours" in message
    for rule in ("area_hours", "concurrent", "cooling_off"):
        assert f"{rule}:" in message
