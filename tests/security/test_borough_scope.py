"""Attack: a Westminster local commander acts on a Lambeth case. Before the permission table,
only consultation was scoped: the commander could submit, withdraw, review, request,
activate, cancel and debrief another borough's case. Every case action is now refused, on
SQLite and PostgreSQL, the case is left unchanged and the log holds nothing by the intruder.

Also: an area outside every borough (a polygon in Manchester) is refused at opening, naming the
boroughs it must touch, unless the policy names a force-wide owner."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.cases.conftest import (
    ANALYST,
    AUTHORISER,
    COMMANDER_LAMBETH,
    COMMUNITY_LEAD,
    OVERSIGHT,
    complete_cia,
    no_breaches,
)
from vigil.cases.area import AreaError
from vigil.cases.policy import CASE_CHANGES, Action, default_policy
from vigil.cases.service import CaseService
from vigil.cases.statements import Consultation, Debrief
from vigil.cases.states import Status
from vigil.clock import FixedClock
from vigil.db.audit import AuditEntry
from vigil.db.cases import Case
from vigil.errors import PermissionDenied
from vigil.forecast.surface import RiskSurface
from vigil.impact.case_service import case_service
from vigil.roles import Actor, Rank, Role

WESTMINSTER = Actor(
    "u-bcu-westminster", Role.LOCAL_COMMANDER, Rank.CHIEF_SUPERINTENDENT, borough="Westminster"
)
#: a 400 m square in Manchester city centre (British National Grid): outside every borough
MANCHESTER = shapely.to_wkt(shapely.box(383_800, 398_000, 384_200, 398_400))


def _by(session_factory: sessionmaker[Session], actor: Actor) -> list[str]:
    with session_factory() as s:
        return [e.action for e in s.query(AuditEntry).filter_by(actor_id=actor.user_id)]


def _case_count(service: CaseService) -> int:
    """How many cases the database holds (nothing half-written by a refused opening)."""
    with service.session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(Case)) or 0)


def _refused(service: CaseService, case_id: int, attempt: Callable[[], Any]) -> None:
    """``attempt`` is refused for the borough, and the case is exactly as it was."""
    before = service.get_case(OVERSIGHT, case_id).record.version
    with pytest.raises(PermissionDenied, match="commands Westminster; the case area is in Lambeth"):
        attempt()
    assert service.get_case(OVERSIGHT, case_id).record.version == before


def test_every_case_action_is_scoped_in_the_table() -> None:
    """The table scopes every case-changing action the commander's role may do."""
    policy = default_policy()
    assert Role.LOCAL_COMMANDER in policy.borough_scoped_roles
    for action in CASE_CHANGES:
        assert policy.rule(action).borough_scope, action


def test_out_of_borough_commander_is_refused_every_action(
    service: CaseService,
    clock: FixedClock,
    open_case: Callable[..., int],
    hot_cells: list[str],
    lambeth_surface: RiskSurface,
    session_factory: sessionmaker[Session],
) -> None:
    now = clock.now()
    attempted: set[Action] = set()

    def attack(action: Action, case_id: int, call: Callable[[], Any]) -> None:
        attempted.add(action)
        _refused(service, case_id, call)

    # open a case over Lambeth's hot spot
    with pytest.raises(PermissionDenied, match="commands Westminster"):
        service.open_case(
            WESTMINSTER,
            trigger="proactive",
            cells=hot_cells,
            window=(now + timedelta(hours=1), now + timedelta(hours=9)),
            resources="officers on foot",
            objectives="deter violence",
            success_measures=["no serious violence"],
            evidence=lambeth_surface,
        )
    attempted.add(Action.OPEN)

    cid = open_case(hours=10)
    attack(Action.SUBMIT, cid, lambda: service.submit(WESTMINSTER, cid))
    service.submit(ANALYST, cid)
    attack(Action.WITHDRAW, cid, lambda: service.withdraw(WESTMINSTER, cid, "not needed"))
    attack(
        Action.CONSULT,
        cid,
        lambda: service.record_consultation(
            WESTMINSTER, cid, Consultation("local_commander", "concur", "ok")
        ),
    )
    service.record_consultation(
        COMMANDER_LAMBETH, cid, Consultation("local_commander", "concur", "agreed")
    )
    service.record_consultation(
        COMMUNITY_LEAD, cid, Consultation("community", "abstain", "IAG neutral")
    )
    service.attach_impact_assessment(COMMUNITY_LEAD, cid, complete_cia())
    attack(
        Action.REVIEW_ASSESSMENT,
        cid,
        lambda: service.review_impact_assessment(WESTMINSTER, cid, "fine"),
    )
    service.review_impact_assessment(AUTHORISER, cid, "sufficient")
    attack(
        Action.REQUEST_AUTHORISATION, cid, lambda: service.request_authorisation(WESTMINSTER, cid)
    )
    service.request_authorisation(ANALYST, cid)
    service.authorise(AUTHORISER, cid, conditions="foot patrol only")
    attack(
        Action.NOTIFY_OVERSIGHT,
        cid,
        lambda: service.notify_oversight(WESTMINSTER, cid, "authorised"),
    )
    service.notify_oversight(AUTHORISER, cid, "authorised")
    clock.advance(timedelta(hours=1))
    attack(Action.ACTIVATE, cid, lambda: service.activate(WESTMINSTER, cid))
    assert service.activate(COMMANDER_LAMBETH, cid).status is Status.ACTIVE
    attack(Action.CANCEL, cid, lambda: service.cancel(WESTMINSTER, cid, "stand down"))
    service.cancel(COMMANDER_LAMBETH, cid, "calm restored")
    attack(
        Action.DEBRIEF,
        cid,
        lambda: service.record_debrief(
            WESTMINSTER,
            cid,
            Debrief(what_happened="quiet", incidents=0, complaints=0, community_feedback=""),
        ),
    )
    service.record_debrief(
        COMMANDER_LAMBETH,
        cid,
        Debrief(
            what_happened="patrol stood down early",
            incidents=0,
            complaints=0,
            community_feedback="",
        ),
    )
    assert service.get_case(OVERSIGHT, cid).status is Status.DEBRIEFED

    # every case action the commander's role may do was attempted, and each refused
    policy = service.policy
    commander_may = {a for a in CASE_CHANGES if Role.LOCAL_COMMANDER in policy.roles_for(a)}
    assert commander_may <= attempted, commander_may - attempted
    assert _by(session_factory, WESTMINSTER) == []


def test_unscoped_commander_account_is_refused(
    service: CaseService, open_case: Callable[..., int]
) -> None:
    """A commander account with no borough cannot act anywhere (it used to skip the check)."""
    cid = open_case()
    service.submit(ANALYST, cid)
    nowhere = Actor("u-bcu-none", Role.LOCAL_COMMANDER, Rank.CHIEF_SUPERINTENDENT)
    with pytest.raises(PermissionDenied, match="has no borough"):
        service.record_consultation(nowhere, cid, Consultation("local_commander", "concur", "ok"))


def test_area_outside_every_borough_is_refused(service: CaseService, clock: FixedClock) -> None:
    now = clock.now()
    fields: dict[str, Any] = {
        "trigger": "reactive",
        "area_wkt": MANCHESTER,
        "window": (now + timedelta(hours=1), now + timedelta(hours=5)),
        "resources": "officers on foot",
        "objectives": "deter violence",
        "success_measures": ["no serious violence"],
    }
    with pytest.raises(AreaError, match="touches no borough.*must touch one of: .*Lambeth"):
        service.open_case(ANALYST, **fields)
    # claiming a borough the area does not touch is refused too
    with pytest.raises(AreaError, match="'Westminster' does not overlap the area"):
        service.open_case(ANALYST, borough="Westminster", **fields)
    assert _case_count(service) == 0


def test_force_wide_owner_takes_areas_outside_every_borough(
    session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    policy = default_policy().model_copy(update={"force_wide_owner": "Force-wide"})
    service = case_service(session_factory, clock, policy, check=no_breaches)
    now = clock.now()
    view = service.open_case(
        ANALYST,
        trigger="reactive",
        area_wkt=MANCHESTER,
        window=(now + timedelta(hours=1), now + timedelta(hours=5)),
        resources="officers on foot",
        objectives="deter violence",
        success_measures=["no serious violence"],
    )
    assert view.record.boroughs == ["Force-wide"]
    service.submit(ANALYST, view.id)
    with pytest.raises(PermissionDenied, match="the case area is in Force-wide"):
        service.record_consultation(
            WESTMINSTER, view.id, Consultation("local_commander", "concur", "ok")
        )
