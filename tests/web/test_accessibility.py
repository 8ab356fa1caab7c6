"""Every page, in the states each role meets, at desktop (1366 px) and phone (390 px) width:
zero WCAG 2.2 A/AA violations by axe-core, no sideways scrolling at 320 CSS px (WCAG 1.4.10
reflow), and a screenshot of each in test-artifacts/web/. The cases come from the demo's
seeded season (vigil.season): one in every state."""

from __future__ import annotations

import pytest

from tests.web._browser import WIDTHS, Person

pytestmark = pytest.mark.browser


def _pages(season) -> dict[str | None, list[tuple[str, str]]]:
    """(name, path) of what each account opens; None is the public, signed out."""
    s = season.by_state
    case = {state: ids[0] for state, ids in s.items()}
    every_case = [(f"case-{state}", f"/cases/{cid}") for state, cid in case.items()]
    return {
        None: [
            ("login", "/login"),
            ("public-index", "/public"),
            ("public-report", "/public/2022Q2"),
            ("public-methodology", "/public/methodology"),
            ("not-found", "/no/such/page"),
        ],
        "analyst": [
            ("map", "/"),
            ("inbox", "/inbox"),
            ("cases", "/cases"),
            ("cases-filtered", "/cases?status=closed&sort=oldest"),
            ("case-new", "/cases/new"),
            ("upload", "/incidents/upload"),
            ("case-draft", f"/cases/{case['draft']}"),
        ],
        "commander": [
            ("inbox", "/inbox"),
            ("case-submitted", f"/cases/{case['submitted']}"),
            ("case-active", f"/cases/{case['active']}"),
            ("case-expired", f"/cases/{case['expired']}"),
        ],
        "lead": [
            ("inbox", "/inbox"),
            ("case-consultation", f"/cases/{case['consultation']}"),
        ],
        "ao": [
            ("inbox", "/inbox"),
            ("case-awaiting", f"/cases/{case['awaiting_authorisation']}"),
            ("case-urgent", f"/cases/{case['urgent']}"),
            ("oversight", "/oversight"),
        ],
        "oversight": [("oversight", "/oversight"), ("notifications", "/notifications")]
        + every_case,
        "admin": [("accounts", "/admin/users")],
    }


def _check(person: Person, name: str, width_name: str, problems: dict[str, object]) -> None:
    """axe on the page as it is (WCAG 2.2 A/AA), its screenshot ``name``-``width_name``, and at
    phone width the reflow at 320 CSS px; what fails goes into ``problems``."""
    page = person.page
    person.settle()
    width = WIDTHS[width_name]
    found = person.axe()
    if found:
        problems[f"{name} @{width}px"] = found
    person.shot(f"{name}-{width_name}")
    if width_name == "phone":
        page.set_viewport_size({"width": 320, "height": 900})
        if person.overflow() > 0:
            problems[f"{name} @320px"] = f"scrolls sideways by {person.overflow()} px"
        page.set_viewport_size({"width": width, "height": 900})


#: each role's pages at each width is a test of its own, so that they share out over the xdist
#: workers (the seeded season and Chromium are per worker: tests/conftest.py)
@pytest.mark.parametrize("width_name", list(WIDTHS))
@pytest.mark.parametrize("who", [None, "analyst", "commander", "lead", "ao", "oversight", "admin"])
def test_every_page_meets_wcag_22_aa_and_reflows(seeded, browser, artifacts, who, width_name):
    base, _, season = seeded
    problems: dict[str, object] = {}
    pages = _pages(season)[who]
    person = Person(browser, base, artifacts, who, width=WIDTHS[width_name])
    for name, path in pages:
        person.go(path)
        _check(person, f"{who or 'public'}-{name}", width_name, problems)
    assert person.offsite == [], person.offsite
    person.close()
    if problems:  # the whole list, for whoever fixes them
        import json

        out = artifacts / f"axe-{who or 'public'}-{width_name}.json"
        out.write_text(json.dumps(problems, indent=1))
    assert not problems, problems


def _decision_screens(person: Person, season) -> list[tuple[str, object]]:
    """(name, how to reach it) of the screens a decision passes through: the check-your-answers
    pages (reached by the form, as a person does), the step-up and password pages (blank and
    refused), and the audit view."""
    s = season.by_state
    draft, awaiting = s["draft"][0], s["awaiting_authorisation"][0]
    p = person.page

    def confirm_submit():
        person.go(f"/cases/{draft}")
        with p.expect_navigation():
            p.click("#submit-button")
        assert p.locator("#form-confirm").count() == 1, p.url

    def confirm_authorise():
        person.go(f"/cases/{awaiting}")
        p.fill("#authorise-conditions", "Foot patrols only; body-worn video on.")
        with p.expect_navigation():
            p.click("#authorise-continue")
        assert p.locator("#form-confirm").count() == 1, p.url

    def refused(path: str, form: str):
        def go():
            person.go(path)
            with p.expect_navigation():
                p.click(f"{form} button[type=submit]")

        return go

    return {
        "analyst": [
            ("confirm-submit", confirm_submit),
            ("password", lambda: person.go("/account/password")),
            ("password-refused", refused("/account/password", "#form-password")),
            ("reauthenticate", lambda: person.go(f"/account/reauthenticate?next=/cases/{draft}")),
        ],
        "ao": [
            ("confirm-authorise", confirm_authorise),
            ("reauthenticate-refused", refused("/account/reauthenticate", "#form-reauthenticate")),
        ],
        "oversight": [
            ("audit", lambda: person.go("/audit")),
            ("audit-case", lambda: person.go(f"/audit?case={awaiting}&from=2022-06-01")),
            ("audit-refused", lambda: person.go("/audit?case=twelve&from=01/06/2022")),
            ("audit-verify", lambda: person.go("/audit/verify")),
        ],
        "admin": [("audit", lambda: person.go(f"/audit?case={awaiting}"))],
    }[person.username]


@pytest.mark.parametrize("width_name", list(WIDTHS))
@pytest.mark.parametrize("who", ["analyst", "ao", "oversight", "admin"])
def test_decision_screens_meet_wcag_22_aa(seeded, browser, artifacts, who, width_name):
    """Check-your-answers, step-up, password and audit pages at 1366 and 390 px: zero axe
    WCAG 2.2 A/AA violations, reflow at 320 px, a screenshot of each."""
    base, _, season = seeded
    problems: dict[str, object] = {}
    person = Person(browser, base, artifacts, who, width=WIDTHS[width_name])
    for name, reach in _decision_screens(person, season):
        reach()
        _check(person, f"{who}-{name}", width_name, problems)
    assert person.offsite == [], person.offsite
    person.close()
    assert not problems, problems
