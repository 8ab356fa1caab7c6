"""A quarter of deployments (2022Q3) through the real workflow, for the report tests.

Real data: the March 2022 London forecast and serious violence from tests/outcomes/conftest.py
(police.uk 2022). The clock stops at 25 September 2022, 20:00 London time, with:

* four ended deployments (10 July, 10 August, 10 September, 20 September; 8 hours each),
  debriefed, the last back in the 10 September area (cooling-off overridden); the July and
  August ones evaluated against real incidents;
* one deployment live at that moment (activated 18:00 the same evening);
* one authorised for 28 September and not yet activated (a future window).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from tests.outcomes.conftest import london_grid, london_sv, march_surface  # noqa: F401
from vigil.clock import FixedClock
from vigil.db.engine import make_engine, make_sessionmaker
from vigil.db.migrate import upgrade
from vigil.impact.case_service import case_service
from vigil.outcomes.record import evaluate_cases
from vigil.outcomes.season import SeasonActors, _utc, authorise_planned, run_season
from vigil.outcomes.simulate import plan_season
from vigil.roles import Actor, Rank, Role

NOW = datetime(2022, 9, 25, 19, 0, tzinfo=UTC)  # 20:00 BST
EVALUATOR = Actor("oversight-analyst", Role.OVERSIGHT, Rank.NONE, "Oversight analyst")


@pytest.fixture(scope="session")
def quarter_db(tmp_path_factory, march_surface, london_sv):  # noqa: F811
    url = f"sqlite:///{tmp_path_factory.mktemp('q3') / 'vigil.db'}"
    upgrade(url)
    engine = make_engine(url)
    sf = make_sessionmaker(engine)
    clock = FixedClock(datetime(2022, 7, 1, tzinfo=UTC))
    service = case_service(sf, clock)
    a = SeasonActors()
    plan = plan_season(
        march_surface, ["2022-07", "2022-08", "2022-09", "2022-09", "2022-09", "2022-09"]
    )
    # the 20 September deployment returns to the 10 September area inside the 14-day cooling-off
    # period: the guardrail is breached and overridden by an assistant commissioner
    ended = plan[:3] + [
        replace(
            plan[2],
            label="return",
            start=pd.Timestamp("2022-09-20 18:00"),
            end=pd.Timestamp("2022-09-21 02:00"),
        )
    ]
    ended_ids = run_season(service, clock, ended, march_surface)
    clock.set(NOW - timedelta(hours=6))
    planned = replace(
        plan[4], start=pd.Timestamp("2022-09-28 18:00"), end=pd.Timestamp("2022-09-29 02:00")
    )
    planned_id = authorise_planned(service, planned, march_surface, a)
    live = replace(
        plan[5], start=pd.Timestamp("2022-09-25 18:00"), end=pd.Timestamp("2022-09-26 02:00")
    )
    live_id = authorise_planned(service, live, march_surface, a)
    clock.set(_utc(live.start, "Europe/London"))
    from vigil.outcomes.season import case_borough

    service.activate(a.commander_for(case_borough(service, live_id)), live_id)
    clock.set(NOW)
    with sf() as s, s.begin():
        for cid in ended_ids[:2]:
            evaluate_cases(s, [cid], london_sv, EVALUATOR, NOW)
    yield {
        "sf": sf,
        "ended": ended_ids,
        "planned": planned_id,
        "live": live_id,
        "plan": {"ended": ended, "planned": planned, "live": live},
    }
    engine.dispose()
