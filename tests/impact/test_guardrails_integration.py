"""Each guardrail refusing an authorisation through the real case workflow (CaseService with the
real ``vigil.impact.guardrails.check``), and the override path writing its audit entry and its
oversight flag; on SQLite and PostgreSQL (``db_url``). The evidence surface and the cells are
described in tests/impact/conftest.py (real Lambeth street crime, 2022).
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.impact.conftest import (
    ALWAYS_HIGH,
    ASSISTANT_COMMISSIONER,
    AUTHORISER,
    EXCEPTIONAL,
    FAR,
    NEXT_DOOR,
    OVERSIGHT,
    relaxed,
)
from vigil.audit.log import entries_for_case
from vigil.cases.service import CaseService
from vigil.cases.statements import Consultation
from vigil.errors import PermissionDenied, PolicyViolation
from vigil.forecast.surface import RiskSurface
from vigil.impact.case_service import case_service
from vigil.impact.guardrails import percentile_of


def test_the_chosen_cells_are_what_the_docstring_says(surface: RiskSurface) -> None:
    ids = list(surface.area_id)
    long_run = surface.drivers["long_run"].to_numpy()  # type: ignore[index]
    for cell, exceptional in ((EXCEPTIONAL, True), (ALWAYS_HIGH, False)):
        i = ids.index(cell)
        assert percentile_of(surface.risk, surface.risk[i]) >= 99
        assert bool(surface.risk[i] / long_run[i] >= 1.5) is exceptional


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


def test_extension_is_held_to_the_area_hours_cap(make, clock) -> None:  # type: ignore[no-untyped-def]
    from tests.impact.conftest import COMMANDER, COMMUNITY_LEAD
    from tests.impact.test_assessment import complete_cia

    service, ready = make(relaxed(max_area_hours=20.0))
    case_id = ready(EXCEPTIONAL, hours=15)
    service.authorise(AUTHORISER, case_id, conditions="x")
    service.notify_oversight(AUTHORISER, case_id, "authorised 15 h over the interchange")
    clock.advance(timedelta(hours=1))
    service.activate(COMMANDER, case_id)
    clock.advance(timedelta(hours=10))
    # the CIA is reviewed again before an extension
    service.attach_impact_assessment(COMMUNITY_LEAD, case_id, complete_cia())
    service.review_impact_assessment(AUTHORISER, case_id, "still sufficient")
    with pytest.raises(PolicyViolation, match="area_hours: 24.0 deployed hours"):
        service.extend(AUTHORISER, case_id, 9, "tension remains high")
    view = service.extend(
        ASSISTANT_COMMISSIONER, case_id, 9, "tension remains high", override_reason="retaliation"
    )
    assert view.authorisations[-1].overridden_rules == ["area_hours"]
    assert [n.kind for n in view.notifications if n.kind == "guardrail_override"] == [
        "guardrail_override"
    ]


@pytest.mark.parametrize("forecast_required", [True, False])
def test_reactive_case_without_a_forecast(
    session_factory,  # type: ignore[no-untyped-def]
    clock,
    surface: RiskSurface,
    forecast_required: bool,
) -> None:
    """By default a case with no forecast cannot show exceptionality: the evidence rule needs an
    override; a policy may leave it to ``evidence_required_for`` (reactive cases pass)."""
    from tests.impact.conftest import ANALYST, COMMANDER, COMMUNITY_LEAD
    from tests.impact.test_assessment import complete_cia
    from vigil.cases.policy import default_policy

    base = default_policy()
    policy = base.model_copy(
        update={
            "guardrails": base.guardrails.model_copy(
                update={"forecast_required": forecast_required}
            )
        }
    )
    service = case_service(session_factory, clock, policy=policy)
    cell = surface.polygons()[list(surface.area_id).index(ALWAYS_HIGH)]
    start = clock.now() + timedelta(minutes=30)
    case_id = service.open_case(
        ANALYST,
        trigger="reactive",
        area_wkt=cell.wkt,
        window=(start, start + timedelta(hours=6)),
        resources="two armed officers on foot",
        objectives="reassure after a stabbing at the interchange",
        success_measures=["no retaliation in the area during the window"],
    ).id
    service.submit(ANALYST, case_id)
    service.record_consultation(
        COMMANDER, case_id, Consultation("local_commander", "concur", "agreed")
    )
    service.record_consultation(
        COMMUNITY_LEAD, case_id, Consultation("community", "concur", "agreed")
    )
    service.attach_impact_assessment(COMMUNITY_LEAD, case_id, complete_cia())
    service.review_impact_assessment(AUTHORISER, case_id, "sufficient")
    service.request_authorisation(ANALYST, case_id)
    if forecast_required:
        message = refused(service, case_id)
        assert "evidence: no forecast evidence is frozen on this case" in message
        view = service.authorise(
            ASSISTANT_COMMISSIONER, case_id, conditions="x", override_reason="stabbing at 14:00"
        )
        assert view.authorisations[-1].overridden_rules == ["evidence"]
    else:
        view = service.authorise(AUTHORISER, case_id, conditions="x")
        assert view.authorisations[-1].overridden_rules == []
