"""The whole case journey in a real browser (headless Chromium), by keyboard only: every field
is reached with Tab, typed, chosen with the space bar and sent with Enter. An analyst opens a
case from a forecast hotspot, the local commander and the community lead are consulted, the lead
completes the community impact assessment, the analyst's forged attempt to authorise is refused
in words, the authorising officer sees the justification and the guardrail check, has a bad
time refused with their conditions kept, checks their answers and authorises; the deployment
is activated, expires by the injected clock and is debriefed. Screenshots go to
test-artifacts/web/."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.api import _fixtures
from tests.api._flow import BODIES, COMMUNICATION, MITIGATIONS, RISKS, TENSION
from tests.web._browser import Person

pytestmark = pytest.mark.browser

JUSTIFICATION = "Forecast top 1% and two stabbings this fortnight near the station"


def keyboard_sign_in(person: Person, username: str) -> None:
    p = person.page
    p.goto(f"{person.base}/login")
    person.type_into("#username", username)
    person.type_into("#password", _fixtures.PASSWORD)
    with p.expect_navigation():
        p.keyboard.press("Enter")
    assert "/login" not in p.url, f"{username} could not sign in"


def test_case_journey_by_keyboard(live, browser, artifacts):
    base, clock = live
    people = {}

    def person(username: str) -> Person:
        if username not in people:
            people[username] = Person(browser, base, artifacts)
            people[username].username = username
            keyboard_sign_in(people[username], username)
        return people[username]

    # --- analyst: the map, a hotspot, a new case -----------------------------------------
    analyst = person("analyst")
    p = analyst.page
    p.wait_for_selector("body[data-surface=loaded]")
    top_area = p.locator("#hotspots tbody tr").first.get_attribute("data-area")
    assert top_area == _fixtures.surface().top(1)["area_id"][0]
    analyst.shot("journey-01-map")
    analyst.press_on("#hotspots .open-case")
    assert re.search(r"/cases/new\?area_id=", p.url)
    assert p.input_value("#cells") == top_area
    analyst.choose("#trigger")  # proactive: nothing is chosen for them
    analyst.type_into("#resources", "Two armed response vehicles; officers on foot")
    analyst.type_into("#objectives", "Prevent serious violence in the late-night economy")
    analyst.type_into("#success_measures", "No knife injuries")
    analyst.type_into("#justification", JUSTIFICATION)
    analyst.choose("#confirm_no_personal_data")
    analyst.press_on("#new-case button[type=submit]")
    case_id = int(re.search(r"/cases/(\d+)", p.url).group(1))
    assert analyst.status() == "draft"
    # the justification is on the case page in full, in the Request section
    assert JUSTIFICATION in p.inner_text("#request-summary")
    analyst.shot("journey-02-draft")
    analyst.press_on("#submit-button")
    assert "Check the request" in p.inner_text("h1")
    assert JUSTIFICATION in p.inner_text("#confirm-answers")
    analyst.press_on("#confirm-button")
    assert analyst.status() == "submitted"

    # --- consultations ------------------------------------------------------------------
    commander = person("commander")
    p = commander.go(f"/cases/{case_id}")
    assert "Your turn" in p.inner_text("#task-list")
    commander.choose("#consult-position")  # concur
    commander.type_into("#consult-reasons", "Supported: local intelligence agrees.")
    commander.press_on("#consult-button")
    assert commander.status() == "consultation"

    lead = person("lead")
    p = lead.go(f"/cases/{case_id}")
    lead.choose("#consult-position", nth=1)  # object: the record will say so
    lead.type_into("#consult-reasons", "The IAG objects: the last deployment was not explained.")
    lead.press_on("#consult-button")
    assert p.locator("#consultations tbody tr").count() == 2

    # --- the community impact assessment ------------------------------------------------
    lead.press_on("#form-cia-draft button")
    assert p.inner_text("#cia-status") == "incomplete"
    # nothing is pre-chosen: no consultee "supports" unless the lead says so
    assert p.locator("#form-cia input[type=radio]:checked").count() == 1  # the commander's,
    checked = p.locator("#form-cia input[type=radio]:checked").first.get_attribute("name")
    assert checked == "cons_local_commander_position"  # carried over from the record
    for name, value in TENSION.items():
        if name == "tension_rating":
            ratings = p.locator("#form-cia input[name=tension_rating]")
            values = [ratings.nth(i).get_attribute("value") for i in range(ratings.count())]
            lead.tab_to("#assess-tension_rating")
            for _ in range(values.index(value)):
                p.keyboard.press("ArrowRight")
            p.keyboard.press("Space")
        else:
            lead.type_into(f"#assess-{name}", value)
    day = clock.now().strftime("%d%m%Y")
    for body in BODIES:
        lead.type_into(f"#assess-cons_{body}_role", "chair")
        lead.tab_to(f"#assess-cons_{body}_on")
        p.keyboard.type(day)
        position = f"#assess-cons_{body}_position"
        if p.locator(f"{position}:checked").count() == 0:
            lead.tab_to(position)
        else:
            lead.tab_to(f"input[name=cons_{body}_position]:checked")
        p.keyboard.press("Space")
        lead.type_into(f"#assess-cons_{body}_summary", "Asked for daily briefings.")
    for n, (rid, text, likelihood, impact) in enumerate(RISKS, start=1):
        lead.type_into(f"#assess-risk_{n}_id", rid)
        lead.type_into(f"#assess-risk_{n}_description", text)
        lead.type_into(f"#assess-risk_{n}_likelihood", str(likelihood))
        lead.type_into(f"#assess-risk_{n}_impact", str(impact))
    for n, (text, addresses, owner) in enumerate(MITIGATIONS, start=1):
        lead.type_into(f"#assess-mitigation_{n}_description", text)
        lead.type_into(f"#assess-mitigation_{n}_addresses", addresses)
        lead.type_into(f"#assess-mitigation_{n}_owner_role", owner)
    for name, value in COMMUNICATION.items():
        lead.type_into(f"#assess-{name}", value)
    lead.tab_to("#assess-reviewer_user_id")
    p.keyboard.press("ArrowDown")  # the first authorising officer in the list
    lead.tab_to("#assess-review_date")
    p.keyboard.type(day)
    lead.press_on("#cia-save")
    assert p.inner_text("#cia-status") == "complete", p.inner_text("main")[:2000]
    lead.shot("journey-03-cia-complete")
    lead.press_on("#request-button")
    assert lead.status() == "awaiting authorisation"

    ao = person("ao")
    p = ao.go(f"/cases/{case_id}")
    ao.type_into("#review_assessment-notes", "Proportionate; the mitigations are adequate.")
    ao.press_on("#form-cia-review button")
    assert p.inner_text("#cia-status") == "reviewed"

    # --- the requesting analyst forges an authorisation: refused, in words -----------------
    p = analyst.go(f"/cases/{case_id}")
    assert p.locator("#form-authorise").count() == 0  # not offered ...
    p.evaluate(  # ... so post the way a crafted page would
        """([id]) => {
            const f = document.createElement('form');
            f.method = 'post'; f.action = `/cases/${id}/actions/authorise`;
            const csrf = document.querySelector('input[name=csrf_token]').value;
            for (const [k, v] of [['csrf_token', csrf], ['conditions', 'self-authorised']]) {
                const i = document.createElement('input');
                i.name = k; i.value = v; f.appendChild(i);
            }
            document.body.appendChild(f); f.submit();
        }""",
        [case_id],
    )
    p.wait_for_load_state()
    summary = p.inner_text("#error-summary")
    assert "There is a problem" in summary and "cannot authorise" in summary
    assert "409" not in summary and "authorising_officer" not in summary
    assert analyst.status() == "awaiting authorisation"

    # --- the authorising officer: reasons, guardrails, a refused time, then the decision ---
    p = ao.go(f"/cases/{case_id}")
    assert JUSTIFICATION in p.inner_text("#request-summary")
    assert p.locator("#guardrail-check").count() == 1  # seen before deciding
    conditions = "Foot patrols in the marked area only; body-worn video throughout."
    ao.type_into("#authorise-conditions", conditions)
    ao.type_into("#authorise-override_reason", "Two stabbings this fortnight.")
    # 01:30 on 30 October 2022 happens twice in London (set directly: the one non-keyboard
    # step, since Chromium's date segments take typed digits differently by locale)
    p.fill("#authorise-end", "2022-10-30T01:30")
    ao.press_on("#authorise-continue")
    assert "There is a problem" in p.inner_text("#error-summary")
    assert "happens twice in London" in p.inner_text("#authorise-end-error")
    assert p.input_value("#authorise-conditions") == conditions  # kept
    ao.shot("journey-04-error-summary-kept-values")
    p = ao.go(f"/cases/{case_id}")
    ao.type_into("#authorise-conditions", conditions)
    ao.type_into("#authorise-override_reason", "Two stabbings this fortnight.")
    ao.press_on("#authorise-continue")
    assert "Check your answers before authorising" in p.inner_text("h1")
    assert JUSTIFICATION in p.inner_text("#confirm-request")
    assert conditions in p.inner_text("#confirm-answers")
    ao.shot("journey-05-check-your-answers")
    ao.press_on("#confirm-button")
    assert ao.status() == "authorised", p.inner_text("main")[:1500]
    assert "Deployment authorised" in p.inner_text("#confirmation")
    assert re.search(r"(BST|GMT)", p.inner_text("#auth-summary"))  # London time, zone shown
    assert re.match(r"\d+ h \d\d min", p.inner_text("#countdown"))
    ao.shot("journey-06-authorised")
    ao.press_on("#form-notify button")
    assert p.locator("#error-summary").count() == 0, p.inner_text("#error-summary")

    # --- the injected clock: activation, then expiry by itself ---------------------------
    clock.advance(timedelta(hours=2))
    p = commander.go(f"/cases/{case_id}")
    commander.press_on("#activate-button")
    assert p.locator("#error-summary").count() == 0, p.inner_text("#error-summary")
    assert commander.status() == "active"
    clock.advance(timedelta(hours=12))
    p = commander.go(f"/cases/{case_id}")
    assert commander.status() == "expired"
    assert "authorised window ended" in p.inner_text("#lapsed")
    commander.type_into("#debrief-what_happened", "Patrols ran as planned; no injuries.")
    commander.type_into("#debrief-complaints", "1")
    commander.press_on("#debrief-button")
    assert commander.status() == "debriefed"
    timeline = p.inner_text("#timeline").lower()
    for step in ("open", "submit", "consult", "assess", "authorise", "activate", "expire"):
        assert step in timeline, (step, timeline)
    # automatic expiry is credited to the clock, not to an administrator
    assert "by vigil (automatic, by the clock)" in timeline
    assert "administrator" not in p.inner_text("#audit-trail").lower()
    commander.shot("journey-07-debriefed")

    oversight = person("oversight")
    p = oversight.go("/oversight")
    assert f"Case {case_id}" in p.inner_text("#recent")
    assert float(p.inner_text("#total-hours")) == pytest.approx(11.0)
    oversight.shot("journey-08-oversight")
    for u in people.values():
        assert u.offsite == [], f"{u.username}'s pages asked for {u.offsite}"
        u.close()
