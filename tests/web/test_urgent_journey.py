"""Urgent authorisation and ratification in the browser (issue 12: they existed only on the
command line). A reactive case is authorised urgently before consultation ends, with the
"ratify by" deadline shown in London time; the authoriser cannot ratify their own decision (the
refusal is in words); after both consultations a second authorising officer, told by the
"Waiting for you" inbox, ratifies it. A second urgent authorisation left unratified ends by
itself when its deadline passes, and the page says why."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.api import _fixtures
from tests.api._flow import cia_json
from tests.web._browser import Person

pytestmark = pytest.mark.browser


def open_reactive_case(analyst: Person, rank: int = 0) -> int:
    """A reactive case on the forecast's ``rank``-th area, opened and submitted by the forms."""
    area = _fixtures.surface().top(rank + 1)["area_id"].iloc[rank]
    p = analyst.go(f"/cases/new?area_id={area}")
    p.check("input[name=trigger][value=reactive]")
    p.fill("#resources", "One armed response vehicle; officers on foot")
    p.fill("#objectives", "Prevent a reprisal after last night's stabbing")
    p.fill("#success_measures", "No further injuries")
    p.fill("#justification", "A stabbing at 22:40 and intelligence of a planned reprisal")
    p.check("#confirm_no_personal_data")
    p.click("#new-case button[type=submit]")
    case_id = int(re.search(r"/cases/(\d+)", p.url).group(1))
    p.click("#submit-button")
    p.click("#confirm-button")
    assert analyst.status() == "submitted"
    return case_id


def urgent_authorise(ao: Person, case_id: int) -> str:
    """Give the urgent authorisation; returns the confirmation panel's text and the deadline."""
    p = ao.go(f"/cases/{case_id}")
    assert "Urgent authorisation" in p.inner_text("#form-authorise")
    p.fill("#authorise-conditions", "Marked area only; body-worn video throughout.")
    p.click("#authorise-continue")
    assert "Check your answers before authorising" in p.inner_text("h1")
    p.click("#confirm-button")
    assert ao.status() == "authorised", p.inner_text("main")[:1500]
    return p.inner_text("#confirmation") + "\n" + p.inner_text("#ratify-deadline")


def consult(person: Person, case_id: int, reasons: str) -> None:
    p = person.go(f"/cases/{case_id}")
    p.check("#consult-position")  # concur
    p.fill("#consult-reasons", reasons)
    p.click("#consult-button")
    assert p.locator("#error-summary").count() == 0, p.inner_text("#error-summary")


def test_urgent_authorisation_then_ratification(live, browser, artifacts):
    base, clock = live
    analyst = Person(browser, base, artifacts, "analyst")
    ao = Person(browser, base, artifacts, "ao")
    ao2 = Person(browser, base, artifacts, "ao2")
    case_id = open_reactive_case(analyst)

    panel = urgent_authorise(ao, case_id)
    assert "Urgent deployment authorised" in panel
    # the deadline is shown in London time with its zone
    assert re.search(r"must be ratified by .*(BST|GMT)", panel), panel
    ao.shot("urgent-01-authorised")

    # the authoriser may not ratify their own urgent decision: refused in words, nothing kept
    p = ao.go(f"/cases/{case_id}")
    p.fill("#ratify-reasons", "I stand by it")
    p.click("#ratify-button")
    summary = p.inner_text("#error-summary")
    assert "There is a problem" in summary and "gave the urgent" in summary, summary
    assert p.input_value("#ratify-reasons") == "I stand by it"  # what was typed is kept

    # ratification waits for both consultations
    p = ao2.go("/inbox")
    assert "ratify" not in p.inner_text("#inbox").lower()
    consult(Person(browser, base, artifacts, "commander"), case_id, "Local intelligence agrees")
    lead = Person(browser, base, artifacts, "lead")
    consult(lead, case_id, "The IAG was told and concurs")

    # ... and for a reviewed impact assessment (set up through the API: not this test's subject)
    lead.api("POST", f"/api/cases/{case_id}/impact-assessment/draft")
    base_cia = lead.api("GET", f"/api/cases/{case_id}/impact-assessment")["content"]
    reviewer = ao2.api("GET", "/api/me")["id"]
    on = clock.now().date().isoformat()
    lead.api("POST", f"/api/cases/{case_id}/impact-assessment", cia_json(base_cia, reviewer, on))
    p = ao2.go("/inbox")
    assert "ratify" not in p.inner_text("#inbox").lower()
    ao2.api("POST", f"/api/cases/{case_id}/impact-assessment/review", {"notes": "Proportionate"})

    # the second officer is told by the inbox, with the deadline, and ratifies
    p = ao2.go("/inbox")
    row = p.locator(f"#inbox tr[data-case='{case_id}']")
    assert "ratify the urgent authorisation" in row.inner_text().lower()
    assert re.search(r"by .*(BST|GMT)", row.inner_text())
    assert "Ratify the urgent authorisation: 1" in p.inner_text("#inbox-counts")
    ao2.shot("urgent-02-inbox")
    p.click(f"#inbox tr[data-case='{case_id}'] a")
    p.fill("#ratify-reasons", "Consultation complete; the risk of reprisal remains.")
    p.click("#ratify-button")
    assert "Urgent authorisation ratified" in p.inner_text("main")
    assert "(ratified" in p.inner_text("#auth-summary")
    assert p.locator("#form-ratify").count() == 0
    ao2.shot("urgent-03-ratified")

    # a second urgent authorisation nobody ratifies ends by itself at its deadline
    other = open_reactive_case(analyst, rank=60)  # away from the first (its cooling-off)
    urgent_authorise(ao, other)
    clock.advance(timedelta(hours=3))
    p = ao2.go(f"/cases/{other}")
    assert ao2.status() == "expired"
    assert "not ratified" in p.inner_text("#lapsed").lower(), p.inner_text("#lapsed")
    for person in (analyst, ao, ao2, lead):
        assert person.offsite == []
        person.close()
