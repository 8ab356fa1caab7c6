"""Random sequences of actions by random actors, with the clock moving: whatever happens, only
allowed transitions occur, refusals are VigilErrors with a message, the window never exceeds the
policy, nobody decides their own case, and the audit chain verifies. SQLite (fresh copy of the
migrated template per example) to keep it fast; the rules are backend-independent code."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cases.conftest import (
    ANALYST,
    AUTHORISER,
    AUTHORISER_2,
    COMMANDER_LAMBETH,
    COMMUNITY_LEAD,
    OVERSIGHT,
    SUPERINTENDENT,
    complete_cia,
    no_breaches,
)
from vigil.audit.verify import verify_chain
from vigil.cases.service import CaseService
from vigil.cases.statements import Consultation, Debrief
from vigil.cases.states import LIVE, Status
from vigil.clock import FixedClock
from vigil.db.engine import make_engine, make_sessionmaker
from vigil.errors import VigilError
from vigil.forecast.surface import RiskSurface
from vigil.impact.case_service import case_service

AREA = "POLYGON((531000 175000,531500 175000,531500 175500,531000 175500,531000 175000))"
REQUESTER = ANALYST

Action = Callable[[CaseService, FixedClock, int], Any]

ACTIONS: dict[str, Action] = {
    "submit": lambda s, c, i: s.submit(REQUESTER, i),
    "consult_lc": lambda s, c, i: s.record_consultation(
        COMMANDER_LAMBETH, i, Consultation("local_commander", "concur", "ok")
    ),
    "consult_community": lambda s, c, i: s.record_consultation(
        COMMUNITY_LEAD, i, Consultation("community", "object", "short window please")
    ),
    "assess": lambda s, c, i: s.attach_impact_assessment(COMMUNITY_LEAD, i, complete_cia()),
    "review": lambda s, c, i: s.review_impact_assessment(AUTHORISER_2, i, "ok"),
    "request": lambda s, c, i: s.request_authorisation(REQUESTER, i),
    "authorise": lambda s, c, i: s.authorise(AUTHORISER, i, conditions="x"),
    "authorise_by_requester": lambda s, c, i: s.authorise(REQUESTER, i, conditions="x"),
    "urgent": lambda s, c, i: s.authorise_urgent(SUPERINTENDENT, i, conditions="x"),
    "ratify": lambda s, c, i: s.ratify_urgent(AUTHORISER, i, "ok"),
    "notify": lambda s, c, i: s.notify_oversight(AUTHORISER, i, "notice"),
    "activate": lambda s, c, i: s.activate(COMMANDER_LAMBETH, i),
    "extend_9": lambda s, c, i: s.extend(AUTHORISER, i, 9, "more"),
    "extend_15": lambda s, c, i: s.extend(AUTHORISER, i, 15, "more"),
    "cancel": lambda s, c, i: s.cancel(COMMANDER_LAMBETH, i, "done"),
    "withdraw": lambda s, c, i: s.withdraw(REQUESTER, i, "no longer"),
    "refuse": lambda s, c, i: s.refuse(AUTHORISER, i, "not exceptional"),
    "debrief": lambda s, c, i: s.record_debrief(
        COMMANDER_LAMBETH,
        i,
        Debrief(what_happened="ran", incidents=0, complaints=0, community_feedback=""),
    ),
    "close": lambda s, c, i: s.close(OVERSIGHT, i),
    "sweep": lambda s, c, i: s.sweep_expired(),
    "wait_1h": lambda s, c, i: c.advance(timedelta(hours=1)),
    "wait_9h": lambda s, c, i: c.advance(timedelta(hours=9)),
}

#: state changes an action may make (from effective status -> to stored status)
MAY_MOVE = {
    "submit": {Status.SUBMITTED},
    "consult_lc": {Status.CONSULTATION},
    "consult_community": {Status.CONSULTATION},
    "request": {Status.AWAITING_AUTHORISATION},
    "authorise": {Status.AUTHORISED},
    "urgent": {Status.AUTHORISED},
    "activate": {Status.ACTIVE},
    "cancel": {Status.CANCELLED},
    "withdraw": {Status.WITHDRAWN},
    "refuse": {Status.REFUSED},
    "debrief": {Status.DEBRIEFED},
    "close": {Status.CLOSED},
    "sweep": {Status.EXPIRED},
}


#: the usual path, so that walks also start from deep states (a random prefix of it runs first)
HAPPY = [
    "submit",
    "consult_lc",
    "consult_community",
    "assess",
    "review",
    "request",
    "authorise",
    "notify",
    "wait_1h",
    "activate",
    "review",
    "extend_9",
]


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    trigger=st.sampled_from(["proactive", "reactive"]),
    prefix=st.integers(0, len(HAPPY)),
    steps=st.lists(st.sampled_from(sorted(ACTIONS)), min_size=5, max_size=25),
)
def test_random_walks_keep_every_invariant(
    _sqlite_template: Path,
    lambeth_surface: RiskSurface,
    hot_cells: list[str],
    trigger: str,
    prefix: int,
    steps: list[str],
) -> None:
    steps = HAPPY[:prefix] + steps
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "walk.db"
        shutil.copyfile(_sqlite_template, db)
        engine = make_engine(f"sqlite:///{db}")
        try:
            clock = FixedClock(datetime(2022, 7, 1, 9, 0, tzinfo=UTC))
            svc = case_service(make_sessionmaker(engine), clock, check=no_breaches)
            now = clock.now()
            proactive = trigger == "proactive"  # proactive cases rest on frozen evidence
            case_id = svc.open_case(
                REQUESTER,
                trigger=trigger,
                area_wkt=None if proactive else AREA,
                cells=hot_cells if proactive else None,
                evidence=lambeth_surface if proactive else None,
                window=(now + timedelta(minutes=30), now + timedelta(hours=12)),
                resources="crew",
                objectives="deter",
                success_measures=["no repeat"],
            ).id
            before = svc.get_case(OVERSIGHT, case_id)
            for step in steps:
                try:
                    ACTIONS[step](svc, clock, case_id)
                except VigilError as exc:
                    assert str(exc), step
                after = svc.get_case(OVERSIGHT, case_id)
                moved = after.stored_status is not before.stored_status
                if moved and step not in ("wait_1h", "wait_9h"):
                    # a settled expiry may precede a refused action: allowed by the clock
                    assert after.stored_status in MAY_MOVE.get(step, set()) | {Status.EXPIRED}, (
                        step,
                        before.stored_status,
                        after.stored_status,
                    )
                if moved and after.stored_status is Status.EXPIRED:
                    assert before.status is Status.EXPIRED or before.stored_status in LIVE
                r = after.record
                if r.start is not None and r.end is not None:
                    assert r.end - r.start <= timedelta(hours=39)
                    assert r.end - r.start - sum(
                        (timedelta(hours=e.hours) for e in r.extensions), timedelta()
                    ) <= timedelta(hours=15)
                assert all(a.actor_id != r.requester_id for a in r.authorisations)
                # a first authorisation lies within the requested window
                assert all(
                    r.requested_start <= a.start and a.end <= r.requested_end
                    for a in r.authorisations
                    if a.kind in ("initial", "urgent")
                )
                if proactive:
                    assert not r.urgent  # urgent authorisation is for reactive cases only
                before = after
            with svc.session_factory() as s:
                assert verify_chain(s).ok
        finally:
            engine.dispose()
