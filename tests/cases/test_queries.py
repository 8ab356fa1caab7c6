"""What other parts read: deployment windows, active cases, overdue debriefs; and the scheduler
that writes expiries and flags overdue debriefs. Judged by the clock, on both databases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from tests.cases.conftest import (
    ANALYST,
    AUTHORISER,
    COMMANDER_LAMBETH,
    OVERSIGHT,
    SUPERINTENDENT,
)
from vigil.cases.queries import active_cases, deployment_windows, overdue_debriefs
from vigil.cases.service import CaseService
from vigil.cases.statements import Debrief
from vigil.clock import FixedClock


def test_windows_active_cases_and_overdue_debriefs(
    service: CaseService,
    clock: FixedClock,
    ready_case: Callable[..., int],
    open_case: Callable[..., int],
    session_factory: sessionmaker[Session],
) -> None:
    t0 = clock.now()
    pending = ready_case()  # awaiting authorisation: never deployed
    planned = ready_case(hours=6)
    service.authorise(AUTHORISER, planned, conditions="x")  # 10:00-16:00
    cancelled = ready_case(hours=10)
    service.authorise(AUTHORISER, cancelled, conditions="x")  # 10:00-20:00
    urgent = open_case(trigger="reactive", hours=8, start_in=timedelta(0))  # from now
    service.submit(ANALYST, urgent)
    service.authorise_urgent(
        SUPERINTENDENT, urgent, conditions="x", window=(t0, t0 + timedelta(hours=8))
    )  # lapses 11:00 unratified
    clock.advance(timedelta(hours=2))  # 11:00
    service.cancel(COMMANDER_LAMBETH, cancelled, "threat passed")

    now = clock.now()
    with session_factory() as s:
        wins = {w.case_id: w for w in deployment_windows(s, t0, t0 + timedelta(days=1), now=now)}
        live = [c.id for c in active_cases(s, now)]
        stored = {w.case_id: w for w in deployment_windows(s, t0, t0 + timedelta(days=1))}
    assert pending not in wins
    assert wins[planned].status == "authorised" and wins[planned].borough == "Lambeth"
    assert wins[planned].end - wins[planned].start == timedelta(hours=6)
    assert wins[cancelled].status == "cancelled" and wins[cancelled].end == now
    assert wins[urgent].status == "expired" and wins[urgent].end == t0 + timedelta(hours=2)
    assert stored[urgent].status == "authorised"  # without the clock: as stored
    assert live == [planned]  # the lapsed urgent case is not live, though unswept
    assert "POLYGON" in wins[planned].area_wkt

    # no debrief is overdue yet; 72 h after the ends, three are
    with session_factory() as s:
        assert overdue_debriefs(s, now) == []
    clock.advance(timedelta(hours=80))
    later = clock.now()
    with session_factory() as s:
        overdue = sorted(c.id for c in overdue_debriefs(s, later))
    assert overdue == sorted([planned, cancelled, urgent])
    assert sorted(service.flag_overdue_debriefs()) == overdue
    assert service.flag_overdue_debriefs() == []  # once per case
    v = service.get_case(OVERSIGHT, planned)
    assert [n.kind for n in v.notifications] == ["overdue_debrief"]
    service.record_debrief(
        COMMANDER_LAMBETH,
        planned,
        Debrief(
            what_happened="ran as planned",
            incidents=0,
            complaints=1,
            community_feedback="one complaint",
        ),
    )
    with session_factory() as s:
        assert sorted(c.id for c in overdue_debriefs(s, later)) == sorted([cancelled, urgent])


def test_list_cases_filters_by_effective_status(
    service: CaseService,
    clock: FixedClock,
    ready_case: Callable[..., int],
    open_case: Callable[..., int],
) -> None:
    draft = open_case()
    live = ready_case(hours=2)
    service.authorise(AUTHORISER, live, conditions="x")
    assert [v.id for v in service.list_cases(OVERSIGHT)] == [live, draft]
    assert [v.id for v in service.list_cases(OVERSIGHT, status="draft")] == [draft]
    clock.advance(timedelta(hours=4))
    assert [v.id for v in service.list_cases(OVERSIGHT, status="expired")] == [live]
    assert service.list_cases(OVERSIGHT, borough="Hackney") == []


def test_case_read_again_unchanged_is_not_loaded_again_and_a_change_is_seen(
    service: CaseService, open_case: Callable[..., int], session_factory: sessionmaker[Session]
) -> None:
    """Issue 11: the case page's read keeps the loaded case and its page of decisions by the
    case's version and last decision, so a case read again with nothing decided costs a few
    statements, not the eight that load it; the next decision (or a flag that changes no
    version, such as an overdue debrief's notification) is seen at once."""
    from sqlalchemy import event

    from vigil.cases.workflow import flag_overdue_debrief

    case_id = open_case()
    statements: list[str] = []
    engine = session_factory.kw["bind"]

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    service.read_with_trail(ANALYST, case_id)  # loads and keeps
    event.listen(engine, "before_cursor_execute", count)
    try:
        view, trail = service.read_with_trail(ANALYST, case_id)
        kept = len(statements)
        assert view.record.status == "draft" and trail.reads.count == 1
        service.submit(ANALYST, case_id)
        statements.clear()
        view, trail = service.read_with_trail(ANALYST, case_id)
        reloaded = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert view.record.status == "submitted"
    assert trail.decisions.entries[0].action == "case.submit"
    assert trail.reads.count == 2 and trail.reads.last is not None
    assert kept <= 6 < reloaded, (kept, reloaded)

    # a change that moves no version still writes a decision entry: seen at once
    with session_factory() as s, s.begin():
        case = service._load(s, case_id, lock=True)
        assert flag_overdue_debrief(s, case, service.clock.now())
    view, _ = service.read_with_trail(ANALYST, case_id)
    assert [n.kind for n in view.record.notifications][-1] == "overdue_debrief"
