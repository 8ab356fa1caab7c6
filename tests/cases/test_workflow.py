"""Every transition of a case and every refusal, on SQLite and PostgreSQL (``db_url``).

The clock is a FixedClock (2022-07-01 09:00 UTC) moved by hand, so expiry is tested without
sleeping. The evidence is a real Lambeth surface (see conftest)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.cases.conftest import (
    ANALYST,
    ASSISTANT_COMMISSIONER,
    AUTHORISER,
    AUTHORISER_2,
    CHIEF_SUPT,
    COMMANDER_HACKNEY,
    COMMANDER_LAMBETH,
    COMMUNITY_LEAD,
    OVERSIGHT,
    SUPERINTENDENT,
    complete_cia,
)
from vigil.audit.verify import verify_chain
from vigil.cases.service import CaseService
from vigil.cases.statements import Consultation, Debrief
from vigil.cases.states import Status
from vigil.cases.text import PersonalDataSuspected
from vigil.cases.workflow import CaseExpired, InvalidTransition, MissingRequirement
from vigil.clock import FixedClock
from vigil.db.audit import AuditEntry
from vigil.errors import PermissionDenied, PolicyViolation
from vigil.impact.case_service import case_service
from vigil.roles import Actor, Rank, Role


def _actions(session_factory: sessionmaker[Session], case_id: int) -> list[str]:
    with session_factory() as s:
        return [
            e.action
            for e in s.query(AuditEntry).filter_by(case_id=case_id).order_by(AuditEntry.seq)
        ]


def test_full_life_of_a_case(
    service: CaseService,
    clock: FixedClock,
    open_case: Callable[..., int],
    session_factory: sessionmaker[Session],
) -> None:
    case_id = open_case(hours=15)
    assert service.get_case(OVERSIGHT, case_id).status is Status.DRAFT
    assert service.submit(ANALYST, case_id).status is Status.SUBMITTED
    v = service.record_consultation(
        COMMANDER_LAMBETH,
        case_id,
        Consultation("local_commander", "concur", "supports a short window"),
    )
    assert v.status is Status.CONSULTATION
    service.record_consultation(
        COMMUNITY_LEAD, case_id, Consultation("community", "abstain", "IAG neutral")
    )
    v = service.attach_impact_assessment(COMMUNITY_LEAD, case_id, complete_cia())
    assert v.assessments[-1].status == "complete"
    v = service.review_impact_assessment(AUTHORISER, case_id, "sufficient")
    assert v.assessments[-1].status == "reviewed"
    assert service.request_authorisation(ANALYST, case_id).status is (Status.AWAITING_AUTHORISATION)
    v = service.authorise(AUTHORISER, case_id, conditions="foot patrol only, body-worn video")
    assert v.status is Status.AUTHORISED
    assert (v.end - v.start) == timedelta(hours=15)
    service.notify_oversight(AUTHORISER, case_id, "authorised 15 h in Lambeth")
    clock.advance(timedelta(hours=1))
    assert service.activate(COMMANDER_LAMBETH, case_id).status is Status.ACTIVE

    # first extension: 9 h, on a freshly reviewed assessment
    clock.advance(timedelta(hours=10))
    service.attach_impact_assessment(COMMUNITY_LEAD, case_id, complete_cia())
    service.review_impact_assessment(AUTHORISER_2, case_id, "tension unchanged")
    v = service.extend(AUTHORISER_2, case_id, 9, "second incident nearby")
    assert (v.end - v.start) == timedelta(hours=24)
    # second extension: 15 h, 39 h in all
    clock.advance(timedelta(hours=10))
    service.review_impact_assessment(AUTHORISER, case_id, "re-reviewed")
    v = service.extend(AUTHORISER, case_id, 15, "arrests pending")
    assert (v.end - v.start) == timedelta(hours=39)
    assert [e.number for e in v.extensions] == [1, 2]

    # the window ends by itself: read as expired before any sweep, then written by the sweep
    clock.set(v.end + timedelta(minutes=1))
    v = service.get_case(OVERSIGHT, case_id)
    assert v.status is Status.EXPIRED and v.stored_status is Status.ACTIVE
    assert service.sweep_expired() == [case_id]
    assert service.sweep_expired() == []
    v = service.get_case(OVERSIGHT, case_id)
    assert v.stored_status is Status.EXPIRED
    assert v.debrief_due == v.ended_at + timedelta(hours=72)

    v = service.record_debrief(
        COMMANDER_LAMBETH,
        case_id,
        Debrief(
            what_happened="patrols ran as planned, two stops",
            incidents=1,
            complaints=0,
            community_feedback="IAG asked for the debrief to be public",
        ),
    )
    assert v.status is Status.DEBRIEFED
    assert service.close(OVERSIGHT, case_id, "reviewed").status is Status.CLOSED

    actions = _actions(session_factory, case_id)
    for action in (
        "case.open",
        "case.submit",
        "case.consult",
        "case.assess",
        "case.review_assessment",
        "case.request_authorisation",
        "case.authorise",
        "case.notify_oversight",
        "case.activate",
        "case.extend",
        "case.expire",
        "case.debrief",
        "case.close",
        "case.read",
    ):
        assert action in actions
    with session_factory() as s:
        report = verify_chain(s)
    assert report.ok, report.problems


def test_refuse_withdraw_and_cancel(
    service: CaseService,
    clock: FixedClock,
    ready_case: Callable[..., int],
    open_case: Callable[..., int],
) -> None:
    refused = ready_case()
    with pytest.raises(PolicyViolation, match="reasons"):
        service.refuse(AUTHORISER, refused, "  ")
    assert service.refuse(AUTHORISER, refused, "evidence not exceptional").status is (
        Status.REFUSED
    )
    with pytest.raises(InvalidTransition, match="refused"):
        service.authorise(AUTHORISER, refused, conditions="x")

    withdrawn = open_case()
    with pytest.raises(PermissionDenied, match="may not withdraw a case"):
        service.withdraw(COMMUNITY_LEAD, withdrawn, "not mine")
    with pytest.raises(PermissionDenied, match="only if they requested it"):
        service.withdraw(Actor("u-analyst-2", Role.ANALYST), withdrawn, "not mine")
    assert service.withdraw(ANALYST, withdrawn, "threat passed").status is Status.WITHDRAWN

    cancelled = ready_case()
    service.authorise(AUTHORISER, cancelled, conditions="c")
    v = service.cancel(COMMANDER_LAMBETH, cancelled, "suspects arrested")
    assert v.status is Status.CANCELLED
    assert v.ended_at == clock.now()
    assert v.debrief_due == clock.now() + timedelta(hours=72)


def test_wrong_role_and_rank_are_refused(
    service: CaseService, ready_case: Callable[..., int], open_case: Callable[..., int]
) -> None:
    with pytest.raises(PermissionDenied, match="role 'community_lead'.*analyst, local_commander"):
        open_case(requester=COMMUNITY_LEAD)
    case_id = ready_case()
    with pytest.raises(PermissionDenied, match="role 'analyst'"):
        service.authorise(ANALYST, case_id, conditions="x")
    with pytest.raises(PermissionDenied, match="chief_superintendent.*commander or above"):
        service.authorise(CHIEF_SUPT, case_id, conditions="x")
    other = open_case()
    service.submit(ANALYST, other)
    with pytest.raises(PermissionDenied, match="local_commander consultation"):
        service.record_consultation(
            COMMUNITY_LEAD, other, Consultation("local_commander", "concur", "ok")
        )
    with pytest.raises(PermissionDenied, match="commands Hackney"):
        service.record_consultation(
            COMMANDER_HACKNEY, other, Consultation("local_commander", "concur", "ok")
        )
    with pytest.raises(PolicyViolation, match="position"):
        service.record_consultation(
            COMMANDER_LAMBETH, other, Consultation("local_commander", "maybe", "ok")
        )


def test_requester_can_never_authorise_own_case(
    service: CaseService, ready_case: Callable[..., int]
) -> None:
    # one account holding two roles: opened as local commander, tries to authorise
    both = Actor("u-cmdr-7", Role.LOCAL_COMMANDER, Rank.COMMANDER, borough="Lambeth")
    case_id = ready_case(requester=both)
    as_authoriser = Actor("u-cmdr-7", Role.AUTHORISING_OFFICER, Rank.COMMANDER)
    with pytest.raises(PolicyViolation, match="maker-checker"):
        service.authorise(as_authoriser, case_id, conditions="x")
    assert service.get_case(OVERSIGHT, case_id).status is Status.AWAITING_AUTHORISATION


def test_windows_too_long_are_refused(
    service: CaseService,
    clock: FixedClock,
    ready_case: Callable[..., int],
    open_case: Callable[..., int],
) -> None:
    long_case = open_case(hours=16)
    with pytest.raises(PolicyViolation, match="16 h.*at most 15 h"):
        service.submit(ANALYST, long_case)
    case_id = ready_case(hours=15)
    now = clock.now()
    with pytest.raises(PolicyViolation, match="window too long: 15.5 h"):
        service.authorise(
            AUTHORISER, case_id, conditions="x", window=(now, now + timedelta(hours=15.5))
        )
    with pytest.raises(PolicyViolation, match="in the past"):
        service.authorise(
            AUTHORISER,
            case_id,
            conditions="x",
            window=(now - timedelta(hours=2), now + timedelta(hours=5)),
        )
    service.authorise(AUTHORISER, case_id, conditions="x")
    clock.advance(timedelta(minutes=5))
    service.attach_impact_assessment(COMMUNITY_LEAD, case_id, complete_cia())
    service.review_impact_assessment(AUTHORISER_2, case_id, "ok")
    with pytest.raises(PolicyViolation, match="extension 1 may add at most 9 h, 10 h"):
        service.extend(AUTHORISER_2, case_id, 10, "more")
    service.extend(AUTHORISER_2, case_id, 9, "more")
    clock.advance(timedelta(minutes=5))
    service.review_impact_assessment(AUTHORISER, case_id, "ok")
    service.extend(AUTHORISER, case_id, 15, "more")
    clock.advance(timedelta(minutes=5))
    service.review_impact_assessment(AUTHORISER_2, case_id, "ok")
    with pytest.raises(PolicyViolation, match="2 extension.*new case"):
        service.extend(AUTHORISER_2, case_id, 1, "more")


def test_total_hours_cap(
    service: CaseService, clock: FixedClock, ready_case: Callable[..., int]
) -> None:
    from vigil.cases.policy import default_policy

    policy = default_policy().model_copy(
        update={
            "window": default_policy().window.model_copy(
                update={"extensions_max_hours": (9, 15, 15)}
            )
        }
    )
    service.policy = policy
    case_id = ready_case(hours=15)
    service.authorise(AUTHORISER, case_id, conditions="x")
    for n, hours in enumerate((9, 15)):
        clock.advance(timedelta(minutes=5))
        service.review_impact_assessment(AUTHORISER_2 if n == 0 else AUTHORISER, case_id, "ok")
        service.extend(AUTHORISER_2, case_id, hours, "more")
    clock.advance(timedelta(minutes=5))
    service.review_impact_assessment(AUTHORISER, case_id, "ok")
    with pytest.raises(PolicyViolation, match="40 h in all.*39 h"):
        service.extend(AUTHORISER_2, case_id, 1, "more")


def test_missing_consultation_and_assessment(
    service: CaseService, open_case: Callable[..., int]
) -> None:
    case_id = open_case()
    service.submit(ANALYST, case_id)
    service.record_consultation(
        COMMANDER_LAMBETH, case_id, Consultation("local_commander", "concur", "ok")
    )
    with pytest.raises(MissingRequirement, match="consultation.*not recorded: community"):
        service.request_authorisation(ANALYST, case_id)
    service.record_consultation(COMMUNITY_LEAD, case_id, Consultation("community", "concur", "ok"))
    service.request_authorisation(ANALYST, case_id)
    with pytest.raises(MissingRequirement, match="no community impact assessment"):
        service.authorise(AUTHORISER, case_id, conditions="x")
    incomplete = complete_cia()
    del incomplete["communication"]
    incomplete["tension"]["rating"] = None
    service.attach_impact_assessment(COMMUNITY_LEAD, case_id, incomplete)
    with pytest.raises(MissingRequirement, match="incomplete: missing community tension: rating"):
        service.authorise(AUTHORISER, case_id, conditions="x")
    with pytest.raises(MissingRequirement, match="cannot be reviewed"):
        service.review_impact_assessment(AUTHORISER, case_id, "ok")
    service.attach_impact_assessment(COMMUNITY_LEAD, case_id, complete_cia())
    with pytest.raises(MissingRequirement, match="not been reviewed"):
        service.authorise(AUTHORISER, case_id, conditions="x")
    with pytest.raises(PolicyViolation, match="impact assessment: field 'risks.0.likelihood'"):
        bad = complete_cia()
        bad["risks"][0]["likelihood"] = 9
        service.attach_impact_assessment(COMMUNITY_LEAD, case_id, bad)
    service.review_impact_assessment(AUTHORISER, case_id, "ok")
    assert service.authorise(AUTHORISER, case_id, conditions="x").status is Status.AUTHORISED


def test_extension_needs_assessment_reviewed_since_last_authorisation(
    service: CaseService, clock: FixedClock, ready_case: Callable[..., int]
) -> None:
    case_id = ready_case()
    service.authorise(AUTHORISER, case_id, conditions="x")
    clock.advance(timedelta(hours=2))
    with pytest.raises(MissingRequirement, match="before the previous authorisation"):
        service.extend(AUTHORISER_2, case_id, 5, "more")


def test_activation_needs_oversight_notice_and_open_window(
    service: CaseService, clock: FixedClock, ready_case: Callable[..., int]
) -> None:
    case_id = ready_case()
    service.authorise(AUTHORISER, case_id, conditions="x")
    with pytest.raises(PermissionDenied, match="may not activate a deployment"):
        service.activate(ANALYST, case_id)
    with pytest.raises(PolicyViolation, match="window opens at"):
        service.activate(COMMANDER_LAMBETH, case_id)
    clock.advance(timedelta(hours=1))
    with pytest.raises(MissingRequirement, match="oversight has not been notified"):
        service.activate(COMMANDER_LAMBETH, case_id)
    service.notify_oversight(AUTHORISER, case_id, "authorised")
    assert service.activate(COMMANDER_LAMBETH, case_id).status is Status.ACTIVE


def test_expired_case_refuses_further_action(
    service: CaseService,
    clock: FixedClock,
    ready_case: Callable[..., int],
    session_factory: sessionmaker[Session],
) -> None:
    case_id = ready_case(hours=4)
    service.authorise(AUTHORISER, case_id, conditions="x")
    service.notify_oversight(AUTHORISER, case_id, "authorised")
    clock.advance(timedelta(hours=6))  # window was 10:00-14:00; now 15:00
    with pytest.raises(CaseExpired, match=r"expired at 1 Jul 2022, 15:00 BST \(14:00 UTC\)"):
        service.activate(COMMANDER_LAMBETH, case_id)
    # the refused action still wrote the expiry down (in its own transaction)
    assert "case.expire" in _actions(session_factory, case_id)
    with pytest.raises(InvalidTransition, match="expired"):
        service.extend(AUTHORISER_2, case_id, 2, "more")
    with pytest.raises(InvalidTransition, match="expired"):
        service.cancel(COMMANDER_LAMBETH, case_id, "late")


def test_urgent_reactive_case_lapses_unless_ratified(
    service: CaseService,
    clock: FixedClock,
    open_case: Callable[..., int],
    session_factory: sessionmaker[Session],
) -> None:
    proactive = open_case()
    service.submit(ANALYST, proactive)
    with pytest.raises(PolicyViolation, match="only for reactive cases"):
        service.authorise_urgent(SUPERINTENDENT, proactive, conditions="x")

    # a reactive request starts now; the urgent authorisation covers it from now
    case_id = open_case(trigger="reactive", hours=10, start_in=timedelta(0))
    service.submit(ANALYST, case_id)
    with pytest.raises(PermissionDenied, match="inspector.*superintendent or above"):
        service.authorise_urgent(
            Actor("u-insp", Role.AUTHORISING_OFFICER, Rank.INSPECTOR), case_id, conditions="x"
        )
    now = clock.now()
    v = service.authorise_urgent(
        SUPERINTENDENT,
        case_id,
        conditions="after a stabbing",
        window=(now, now + timedelta(hours=10)),
    )
    assert v.status is Status.AUTHORISED and v.ratify_by == now + timedelta(hours=2)
    service.notify_oversight(SUPERINTENDENT, case_id, "urgent authorisation")
    assert service.activate(COMMANDER_LAMBETH, case_id).status is Status.ACTIVE
    with pytest.raises(MissingRequirement, match="consultation"):
        service.ratify_urgent(AUTHORISER, case_id, "confirmed")

    clock.advance(timedelta(hours=2, minutes=1))
    v = service.get_case(OVERSIGHT, case_id)
    assert v.status is Status.EXPIRED and "not ratified" in (v.lapsed or "")
    with pytest.raises(CaseExpired, match="urgent authorisation not ratified"):
        service.ratify_urgent(AUTHORISER, case_id, "too late")
    v = service.get_case(OVERSIGHT, case_id)
    assert v.stored_status is Status.EXPIRED
    assert v.ended_at == now + timedelta(hours=2)
    assert [n.kind for n in v.notifications][-1] == "urgent_unratified"


def test_urgent_case_ratified_in_time_runs_its_window(
    service: CaseService, clock: FixedClock, open_case: Callable[..., int]
) -> None:
    # a reactive request starts now; the urgent authorisation covers it from now
    case_id = open_case(trigger="reactive", hours=10, start_in=timedelta(0))
    service.submit(ANALYST, case_id)
    now = clock.now()
    service.authorise_urgent(
        SUPERINTENDENT, case_id, conditions="x", window=(now, now + timedelta(hours=10))
    )
    service.record_consultation(
        COMMANDER_LAMBETH, case_id, Consultation("local_commander", "concur", "ok")
    )
    service.record_consultation(COMMUNITY_LEAD, case_id, Consultation("community", "concur", "ok"))
    service.attach_impact_assessment(COMMUNITY_LEAD, case_id, complete_cia())
    service.review_impact_assessment(COMMANDER_LAMBETH, case_id, "ok")
    with pytest.raises(PermissionDenied, match="commander or above"):
        service.ratify_urgent(CHIEF_SUPT, case_id, "confirmed")
    clock.advance(timedelta(hours=1))
    v = service.ratify_urgent(AUTHORISER, case_id, "confirmed")
    assert v.ratified_at == clock.now()
    clock.advance(timedelta(hours=5))
    assert service.get_case(OVERSIGHT, case_id).status is Status.AUTHORISED


def test_guardrail_breach_refuses_unless_overridden_by_rank(
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    ready_case: Callable[..., int],
    service: CaseService,
) -> None:
    from vigil.impact.guardrails import Breach

    def breached(session: Any, case: Any, policy: Any, now: Any) -> list[Breach]:
        return [Breach("concurrent", "3 deployments would be active at once; the cap is 2")]

    case_id = ready_case()
    strict = case_service(session_factory, clock, check=breached)
    with pytest.raises(PolicyViolation, match="guardrails.*concurrent"):
        strict.authorise(AUTHORISER, case_id, conditions="x")
    with pytest.raises(PermissionDenied, match="assistant_commissioner"):
        strict.authorise(AUTHORISER, case_id, conditions="x", override_reason="exceptional")
    v = strict.authorise(
        ASSISTANT_COMMISSIONER,
        case_id,
        conditions="x",
        override_reason="linked incidents across the borough",
    )
    assert v.authorisations[-1].overridden_rules == ["concurrent"]
    assert [n.kind for n in v.notifications] == ["guardrail_override"]


def test_free_text_that_names_people_is_refused_unless_confirmed(
    service: CaseService,
    clock: FixedClock,
    hot_area_wkt: str,
    session_factory: sessionmaker[Session],
) -> None:
    now = clock.now()
    kw: dict[str, Any] = dict(
        trigger="reactive",
        area_wkt=hot_area_wkt,
        window=(now, now + timedelta(hours=4)),
        resources="one ARV crew",
        success_measures=["no repeat incident"],
    )
    with pytest.raises(PersonalDataSuspected, match="field 'objectives': 'Mr Jones'"):
        service.open_case(ANALYST, objectives="protect Mr Jones at home", **kw)
    v = service.open_case(
        ANALYST, objectives="patrol near Herne Hill station after an assault", **kw
    )
    assert v.borough == "Lambeth"
    # a false positive (a real place) goes through once confirmed, and the confirmation is logged
    with pytest.raises(PersonalDataSuspected, match="Loughborough Junction"):
        service.open_case(ANALYST, objectives="patrol Loughborough Junction", **kw)
    v = service.open_case(
        ANALYST, objectives="patrol Loughborough Junction", confirm_no_personal_data=True, **kw
    )
    assert "case.text_confirmed_not_personal" in _actions(session_factory, v.id)


def test_more_refusals_name_the_rule(
    service: CaseService,
    clock: FixedClock,
    ready_case: Callable[..., int],
    open_case: Callable[..., int],
) -> None:
    from vigil.cases.service import CaseNotFound

    with pytest.raises(CaseNotFound, match="case 999 does not exist"):
        service.get_case(OVERSIGHT, 999)
    case_id = open_case()
    with pytest.raises(MissingRequirement, match="declare the success measures"):
        empty = service.open_case(
            ANALYST,
            trigger="reactive",
            area_wkt=service.get_case(OVERSIGHT, case_id).area_wkt,
            window=(clock.now(), clock.now() + timedelta(hours=2)),
            resources="crew",
            objectives="patrol",
            success_measures=[],
        )
        service.submit(ANALYST, empty.id)
    service.submit(ANALYST, case_id)
    # the author of an assessment cannot review it, even holding a reviewer role
    author = Actor("u-dual", Role.LOCAL_COMMANDER, Rank.CHIEF_SUPERINTENDENT, borough="Lambeth")
    service.attach_impact_assessment(Actor("u-dual", Role.ANALYST), case_id, complete_cia())
    with pytest.raises(PolicyViolation, match="author of impact assessment v1 cannot review"):
        service.review_impact_assessment(author, case_id, "fine")
    live = ready_case()
    service.authorise(AUTHORISER, live, conditions="x")
    with pytest.raises(InvalidTransition, match="cannot debrief a case that is authorised"):
        service.record_debrief(
            COMMANDER_LAMBETH,
            live,
            Debrief(what_happened="x", incidents=0, complaints=0, community_feedback=""),
        )
    service.cancel(AUTHORISER, live, "no longer needed")
    with pytest.raises(PolicyViolation, match="field 'incidents'"):
        service.record_debrief(
            COMMANDER_LAMBETH,
            live,
            Debrief(what_happened="x", incidents=-1, complaints=0, community_feedback=""),
        )
    service.record_debrief(
        COMMANDER_LAMBETH,
        live,
        Debrief(what_happened="x", incidents=0, complaints=0, community_feedback=""),
    )
    with pytest.raises(PermissionDenied, match="may not close a case"):
        service.close(ANALYST, live)


def test_a_decision_on_a_case_changed_since_it_was_read_is_refused(
    service: CaseService, ready_case: Callable[..., int]
) -> None:
    from vigil.cases.service import StaleCase

    case_id = ready_case()
    shown = service.get_case(AUTHORISER, case_id).record.version
    # meanwhile the community objects again
    service.record_consultation(
        COMMUNITY_LEAD, case_id, Consultation("community", "object", "new concerns")
    )
    with pytest.raises(StaleCase, match=f"version {shown}, now {shown + 1}"):
        service.authorise(AUTHORISER, case_id, conditions="x", expected_version=shown)
    v = service.authorise(AUTHORISER, case_id, conditions="x", expected_version=shown + 1)
    assert v.status is Status.AUTHORISED


@pytest.mark.parametrize("action", ["activate", "extend", "ratify"])
def test_a_live_case_without_its_window_is_refused_by_a_domain_error(
    action: str,
    service: CaseService,
    ready_case: Callable[..., int],
    clock: FixedClock,
    session_factory: sessionmaker[Session],
) -> None:
    """An invariant broken outside the workflow (the window wiped by raw SQL) is a named domain
    error, also under ``python -O`` (which strips ``assert``), never an AssertionError."""
    from sqlalchemy import update

    from vigil.cases.states import CaseIntegrityError
    from vigil.db.cases import Case

    if action == "ratify":
        case_id = ready_case(trigger="reactive")
        service.authorise_urgent(SUPERINTENDENT, case_id, conditions="x")
    else:
        case_id = ready_case()
        service.authorise(AUTHORISER, case_id, conditions="x")
    service.notify_oversight(AUTHORISER, case_id, "authorised")
    clock.advance(timedelta(hours=1))
    if action == "extend":
        service.activate(COMMANDER_LAMBETH, case_id)
        service.review_impact_assessment(AUTHORISER_2, case_id, "re-reviewed")
    with session_factory() as s, s.begin():
        s.execute(update(Case).where(Case.id == case_id).values(start=None))
    calls = {
        "activate": lambda: service.activate(COMMANDER_LAMBETH, case_id),
        "extend": lambda: service.extend(AUTHORISER_2, case_id, 2, "more"),
        "ratify": lambda: service.ratify_urgent(AUTHORISER, case_id, "ratified"),
    }
    with pytest.raises(CaseIntegrityError, match=f"case {case_id} is .* no authorised window"):
        calls[action]()
