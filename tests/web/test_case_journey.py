"""The whole journey in a real browser (headless Chromium): an analyst opens a case from a
forecast hotspot, the local commander and the community lead are consulted, the lead completes
the community impact assessment, the analyst's attempt to authorise their own request is
refused, an authorising officer authorises, the deployment expires on the injected clock and
the commander debriefs. Screenshots go to test-artifacts/web/."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.api import _fixtures
from tests.api._flow import BODIES, COMMUNICATION, MITIGATIONS, RISKS, TENSION

pytestmark = pytest.mark.browser


class User:
    """One signed-in browser context per account, as separate people would have."""

    def __init__(self, browser, base: str, username: str, artifacts) -> None:
        self.base, self.username, self.artifacts = base, username, artifacts
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.offsite: list[str] = []
        # a force network has no internet: any request off this server is a defect
        self.context.route(
            re.compile(r"^(?!" + re.escape(base) + ").*"),
            lambda route: (self.offsite.append(route.request.url), route.abort()),
        )
        self.page = self.context.new_page()
        self.page.set_default_timeout(20_000)
        self.page.goto(f"{base}/login")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", _fixtures.PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state()
        assert "/login" not in self.page.url, f"{username} could not sign in"

    def sign_in_again(self) -> None:
        self.page.fill("input[name=username]", self.username)
        self.page.fill("input[name=password]", _fixtures.PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state()

    def case(self, case_id: int):
        self.page.goto(f"{self.base}/cases/{case_id}")
        return self.page

    def status(self) -> str:
        return self.page.inner_text("#case-status").strip()

    def shot(self, name: str) -> None:
        if self.page.locator("#evidence-map").count():  # let the evidence layer draw first
            self.page.wait_for_selector("body[data-evidence]")
        self.page.screenshot(path=str(self.artifacts / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()


def test_case_journey(live, browser, artifacts):
    base, clock = live

    # --- analyst: the map, a hotspot, a new case -----------------------------------------
    analyst = User(browser, base, "analyst", artifacts)
    page = analyst.page
    page.wait_for_selector("body[data-surface=loaded]")
    page.wait_for_selector("body[data-boroughs=loaded]")
    assert page.locator("#legend").is_visible()
    top_area = page.locator("#hotspots tbody tr").first.get_attribute("data-area")
    assert top_area == _fixtures.surface().top(1)["area_id"][0]
    page.locator("#hotspots .area-link").first.click()
    page.wait_for_selector(f"body[data-area-shown='{top_area}']")
    assert int(page.inner_text("#area-rank")) == 1
    assert page.locator("#area-history .bar").count() == 6  # Jan-Jun 2022, months only
    analyst.shot("01-map-hotspot")

    page.locator("#hotspots .open-case").first.click()
    page.wait_for_url(re.compile(r".*/cases/new\?area_id="))
    assert page.input_value("input[name=cells]") == top_area
    page.fill("textarea[name=resources]", "Two armed response vehicles; officers on foot")
    page.fill("textarea[name=objectives]", "Prevent serious violence in the late-night economy")
    page.fill("textarea[name=success_measures]", "No knife injuries\nNo complaint upheld")
    page.fill("textarea[name=justification]", "Forecast top 1% and two stabbings this fortnight")
    page.check("input[name=confirm_no_personal_data]")
    page.click("#new-case button[type=submit]")
    page.wait_for_url(re.compile(r".*/cases/\d+"))
    case_id = int(re.search(r"/cases/(\d+)", page.url).group(1))
    assert analyst.status() == "draft"
    page.wait_for_selector("body[data-evidence=loaded]")
    analyst.shot("02-case-draft-evidence")
    page.click("#form-submit button")
    page.wait_for_load_state()
    assert analyst.status() == "submitted"

    # --- consultations ------------------------------------------------------------------
    commander = User(browser, base, "commander", artifacts)
    p = commander.case(case_id)
    p.select_option("#form-consult select[name=consultee]", "local_commander")
    p.select_option("#form-consult select[name=position]", "concur")
    p.fill("#form-consult textarea[name=reasons]", "Supported: local intelligence agrees.")
    p.click("#form-consult button")
    p.wait_for_load_state()
    assert commander.status() == "consultation"

    lead = User(browser, base, "lead", artifacts)
    p = lead.case(case_id)
    p.select_option("#form-consult select[name=position]", "concur")
    p.fill("#form-consult textarea[name=reasons]", "IAG and ward panel support a short window.")
    p.click("#form-consult button")
    p.wait_for_load_state()
    assert p.locator("#consultations tbody tr").count() == 2

    # --- the community impact assessment ------------------------------------------------
    p.click("#form-cia-draft button")
    p.wait_for_load_state()
    assert p.inner_text("#cia-status") == "incomplete"
    assert "community tension" in p.inner_text("#cia-missing")
    form = "#form-cia"
    for name, value in TENSION.items():
        if name == "tension_rating":
            p.select_option(f"{form} select[name={name}]", value)
        else:
            p.fill(f"{form} textarea[name={name}]", value)
    day = clock.now().date().isoformat()
    for body in BODIES:
        p.fill(f"{form} input[name=cons_{body}_role]", "chair")
        p.fill(f"{form} input[name=cons_{body}_on]", day)
        p.select_option(f"{form} select[name=cons_{body}_position]", "supports_with_conditions")
        p.fill(f"{form} textarea[name=cons_{body}_summary]", "Supports with daily briefings.")
    for n, (rid, text, likelihood, impact) in enumerate(RISKS, start=1):
        p.fill(f"{form} input[name=risk_{n}_id]", rid)
        p.fill(f"{form} input[name=risk_{n}_description]", text)
        p.fill(f"{form} input[name=risk_{n}_likelihood]", str(likelihood))
        p.fill(f"{form} input[name=risk_{n}_impact]", str(impact))
    for n, (text, addresses, owner) in enumerate(MITIGATIONS, start=1):
        p.fill(f"{form} input[name=mitigation_{n}_description]", text)
        p.fill(f"{form} input[name=mitigation_{n}_addresses]", addresses)
        p.fill(f"{form} input[name=mitigation_{n}_owner_role]", owner)
    for name, value in COMMUNICATION.items():
        p.fill(f"{form} textarea[name={name}]", value)
    p.fill(f"{form} input[name=reviewer_user_id]", "ao")
    p.select_option(f"{form} select[name=reviewer_role]", "authorising_officer")
    p.fill(f"{form} input[name=review_date]", day)
    p.click(f"{form} button[type=submit]")
    p.wait_for_load_state()
    assert p.inner_text("#cia-status") == "complete", p.inner_text("main")[:2000]
    lead.shot("03-cia-complete")
    p.click("#form-request button")
    p.wait_for_load_state()
    assert lead.status() == "awaiting authorisation"

    ao = User(browser, base, "ao", artifacts)
    p = ao.case(case_id)
    p.fill("#form-cia-review textarea[name=notes]", "Proportionate; the mitigations are adequate.")
    p.click("#form-cia-review button")
    p.wait_for_load_state()
    assert p.inner_text("#cia-status") == "reviewed"

    # --- the requesting analyst tries to authorise their own case: refused ---------------
    p = analyst.case(case_id)
    assert p.locator("#form-authorise").count() == 0  # not offered ...
    p.evaluate(  # ... so forge the post the way a crafted page would
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
    refusal = p.inner_text(".flash.error")
    assert "may not authorise" in refusal and "authorising_officer" in refusal
    assert analyst.status() == "awaiting authorisation"
    p.wait_for_selector("body[data-evidence=loaded]")
    analyst.shot("04-self-authorisation-refused")

    # --- another user authorises ---------------------------------------------------------
    p = ao.case(case_id)
    p.fill("#form-authorise textarea[name=conditions]", "Foot patrols in the marked area only.")
    p.fill("#form-authorise textarea[name=override_reason]", "Two stabbings this fortnight.")
    p.click("#form-authorise button")
    p.wait_for_load_state()
    assert ao.status() == "authorised", p.inner_text("main")[:1500]
    assert re.match(r"\d+ h \d\d min", p.inner_text("#countdown"))
    p.click("#form-notify button")
    p.wait_for_load_state()
    p.wait_for_selector("body[data-evidence=loaded]")
    ao.shot("05-authorised-countdown")

    oversight = User(browser, base, "oversight", artifacts)
    p = oversight.page
    p.goto(f"{base}/notifications")
    rows = p.inner_text("#notifications")
    assert f"#{case_id}" in rows and "authorisation" in rows
    oversight.shot("06-oversight-notified")

    # --- the injected clock: activation, then expiry by itself ---------------------------
    clock.advance(timedelta(hours=2))
    p = commander.case(case_id)
    p.click("#form-activate button")
    p.wait_for_load_state()
    assert commander.status() == "active"
    clock.advance(timedelta(hours=12))
    p = commander.case(case_id)
    # twelve idle hours on the same clock also ended the browser session (8 h idle limit)
    assert "/login" in p.url
    commander.sign_in_again()
    assert re.search(rf"/cases/{case_id}$", p.url)
    assert commander.status() == "expired"
    assert "authorised window ended" in p.inner_text("#lapsed")
    assert p.inner_text("#countdown").strip() == "ended"
    commander.shot("07-expired")

    # --- debrief -------------------------------------------------------------------------
    p.fill("#form-debrief textarea[name=what_happened]", "Patrols ran as planned; no injuries.")
    p.fill("#form-debrief input[name=complaints]", "1")
    p.fill("#form-debrief textarea[name=community_feedback]", "Mixed; traders reassured.")
    p.click("#form-debrief button")
    p.wait_for_load_state()
    assert commander.status() == "debriefed"
    timeline = p.inner_text("#timeline")
    for step in (
        "open",
        "submit",
        "consult",
        "assess",
        "authorise",
        "activate",
        "expire",
        "debrief",
    ):
        assert step in timeline, (step, timeline)
    commander.shot("08-debriefed-timeline")

    p = oversight.page
    p.goto(f"{base}/oversight")
    if "/login" in p.url:  # idle past the session limit on the injected clock
        oversight.sign_in_again()
    assert f"#{case_id}" in p.inner_text("#recent")
    # authorised 10:00-22:00, activated at 11:00: eleven hours on the ground
    assert float(p.inner_text("#total-hours")) == pytest.approx(11.0)
    assert p.locator("#trend-chart").is_visible()
    oversight.shot("09-oversight-dashboard")
    for u in (analyst, commander, lead, ao, oversight):
        assert u.offsite == [], f"{u.username}'s pages asked for {u.offsite}"
        u.close()
