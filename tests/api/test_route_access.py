"""Every API route refuses callers without credentials (401) and callers whose role it does not
admit (403), and every route that changes a case refuses a local commander of another borough
(403): the routes are enumerated from the OpenAPI schema, so a new route is covered the moment
it exists, and a route without a role dependency fails the test."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from tests.api._fixtures import USER_OF
from tests.api.conftest import bearer, post_as
from vigil.http.deps import allowed_roles, api_routes
from vigil.roles import Role


def _operations(app):
    schema = app.openapi()
    routes = {(r.path, m): r for r in api_routes(app) for m in r.methods}
    for path, ops in schema["paths"].items():
        for method in ops:
            yield path, method.upper(), routes[(path, method.upper())]


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_schema_lists_the_resources(app_env):
    app, _, _ = app_env
    paths = app.openapi()["paths"]
    for prefix in ("/api/forecasts", "/api/me", "/api/users", "/api/testing/clock"):
        assert any(p.startswith(prefix) for p in paths), prefix


def test_every_route_declares_its_roles(app_env):
    app, _, _ = app_env
    missing = [
        f"{m} {p}"
        for p, m, r in _operations(app)
        if not allowed_roles(r, app.state.ctx.cases.policy)
    ]
    assert not missing, f"routes without a role dependency: {missing}"


def test_every_route_rejects_unauthenticated_calls(app_env, client):
    app, _, _ = app_env
    checked = 0
    for path, method, _ in _operations(app):
        r = client.request(method, _concrete(path), json={})
        assert r.status_code == 401, f"{method} {path} answered {r.status_code} without credentials"
        checked += 1
    assert checked >= 8


def test_every_route_rejects_wrong_roles(app_env, client, tokens):
    app, _, _ = app_env
    checked = 0
    for path, method, route in _operations(app):
        for role in set(Role) - allowed_roles(route, app.state.ctx.cases.policy):
            r = client.request(
                method, _concrete(path), json={}, headers=bearer(tokens, USER_OF[role])
            )
            assert r.status_code == 403, f"{method} {path} let {role.value} in: {r.status_code}"
            assert role.value in r.json()["detail"]
            checked += 1
    assert checked >= 20


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/cases",
        "/cases/new",
        "/cases/1",
        "/oversight",
        "/notifications",
        "/admin/users",
        "/incidents/upload",
    ],
)
def test_pages_redirect_strangers_to_sign_in(client, path):
    client.cookies.clear()
    r = client.get(path, headers={"Accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303, path
    assert r.headers["location"].startswith("/login")


# ---------------------------------------------------------------------- borough scope
#: a 500 m square around Brixton station (Lambeth), British National Grid
BRIXTON = "POLYGON((531000 175000,531500 175000,531500 175500,531000 175500,531000 175000))"
#: a valid body for each case-changing route, by its last path segment
BODIES = {
    "consultations": {"consultee": "local_commander", "position": "concur", "reasons": "ok"},
    "authorise": {"conditions": "foot patrol"},
    "ratify": {"reasons": "ok"},
    "refuse": {"reasons": "no"},
    "withdraw": {"reasons": "no longer needed"},
    "cancel": {"reasons": "stand down"},
    "notify-oversight": {"message": "authorised"},
    "extend": {"hours": 1, "reasons": "more"},
    "debrief": {"what_happened": "quiet", "incidents": 0, "complaints": 0},
    "close": {"notes": "done"},
    "review": {"notes": "sufficient"},
}


def brixton_case(now: datetime, **change: object) -> dict[str, object]:
    """A valid body for ``POST /api/cases``: a reactive case on the Brixton square (Lambeth),
    from an hour after ``now`` for four hours, without the forecast as evidence."""
    return {
        "trigger": "reactive",
        "area_wkt": BRIXTON,
        "use_current_forecast": False,
        "start": (now + timedelta(hours=1)).isoformat(),
        "end": (now + timedelta(hours=5)).isoformat(),
        "resources": "officers on foot",
        "objectives": "deter a repeat assault",
        "success_measures": ["no repeat incident"],
        **change,
    }


def test_every_case_changing_route_refuses_an_out_of_borough_commander(app_env, client, tokens):
    """The Westminster commander (tests.api._fixtures.ACCOUNTS) is refused every route that
    changes a Lambeth case, whatever the case's state: the permission table scopes them all."""
    from vigil.cases.policy import CASE_CHANGES
    from vigil.http.deps import route_actions

    app, clock, _ = app_env
    case = brixton_case(clock.now())
    commander = bearer(tokens, USER_OF[Role.LOCAL_COMMANDER])
    r = client.post("/api/cases", json=case, headers=commander)
    assert r.status_code == 403 and "commands Westminster" in r.json()["detail"], r.text
    cid = post_as(client, tokens, "analyst", "/api/cases", case, status=201)["id"]
    before = client.get(f"/api/cases/{cid}", headers=bearer(tokens, "oversight")).json()
    assert before["borough"] == "Lambeth"

    scoped = 0
    for path, method, route in _operations(app):
        if method != "POST" or "{case_id}" not in path:
            continue
        actions = route_actions(route)
        assert actions and set(actions) <= CASE_CHANGES, f"{path} names no case action"
        body = BODIES.get(path.rsplit("/", 1)[-1], {})
        r = client.post(path.replace("{case_id}", str(cid)), json=body, headers=commander)
        assert r.status_code == 403, f"POST {path}: {r.status_code} {r.text}"
        if Role.LOCAL_COMMANDER in allowed_roles(route, app.state.ctx.cases.policy):
            assert "commands Westminster; the case area is in Lambeth" in r.json()["detail"]
            scoped += 1
    # submit, withdraw, consult, review, request, notify, activate, cancel, debrief
    assert scoped >= 9
    after = client.get(f"/api/cases/{cid}", headers=bearer(tokens, "oversight")).json()
    assert after["version"] == before["version"] and after["status"] == "draft"


def _westminster_commander_refused(app, cid: int, actions: list[str], step: str) -> int:
    """Post each of the case page's ``actions`` (``step``: "confirm" for the decision, "" for
    its check-your-answers page) as the Westminster commander on Lambeth case ``cid``: each is
    a 403 showing no confirm form. Returns how many were refused for the borough (where the
    role may do the action at all)."""
    from tests.api.conftest import browser_login, page_csrf
    from vigil.web.pages.case import ACTION_OF

    browser = browser_login(app, USER_OF[Role.LOCAL_COMMANDER])
    csrf = page_csrf(browser.get(f"/cases/{cid}", headers={"Accept": "text/html"}).text)
    policy = app.state.ctx.cases.policy
    scoped = 0
    for action in actions:
        # every field any form needs, valid: the refusal must be the scope, not the input
        data = {"csrf_token": csrf, **{k: str(v) for b in BODIES.values() for k, v in b.items()}}
        if step:
            data["step"] = step
        r = browser.post(
            f"/cases/{cid}/actions/{action}",
            data=data,
            headers={"Accept": "text/html"},
            follow_redirects=False,
        )
        assert r.status_code == 403, f"{action}: {r.status_code}"
        assert 'id="form-confirm"' not in r.text, action
        if Role.LOCAL_COMMANDER in policy.roles_for(ACTION_OF[action]):
            assert "commands Westminster; the case area is in Lambeth" in r.text, action
            scoped += 1
    return scoped


def test_every_case_form_of_the_pages_refuses_an_out_of_borough_commander(app_env, client, tokens):
    """The pages' one case-form route, enumerated with every action it takes: the Westminster
    commander is refused each on a Lambeth case (403 naming both boroughs where the role may do
    the action at all), and the case does not change."""
    from vigil.web.pages.case_actions import ACTIONS

    app, clock, _ = app_env
    forms = [r for r in api_routes(app) if "/actions/" in r.path and "POST" in r.methods]
    assert [r.path for r in forms] == ["/cases/{case_id}/actions/{action}"]
    cid = post_as(client, tokens, "analyst", "/api/cases", brixton_case(clock.now()), status=201)[
        "id"
    ]
    before = client.get(f"/api/cases/{cid}", headers=bearer(tokens, "oversight")).json()
    # step=confirm: past the check-your-answers page, to the decision itself
    assert _westminster_commander_refused(app, cid, sorted(ACTIONS), "confirm") >= 9
    after = client.get(f"/api/cases/{cid}", headers=bearer(tokens, "oversight")).json()
    assert after["version"] == before["version"] and after["status"] == "draft"


def test_every_check_your_answers_page_refuses_an_out_of_borough_commander(app_env, client, tokens):
    """The "check your answers" page (the form posted without ``step=confirm``) is refused to the
    Westminster commander on a Lambeth case, as the decision itself is: they are not shown a
    page they could only be refused on (it was a 200, then a 403 on confirming)."""
    from vigil.web.pages.case import CONFIRM

    app, clock, _ = app_env
    cid = post_as(client, tokens, "analyst", "/api/cases", brixton_case(clock.now()), status=201)[
        "id"
    ]
    assert _westminster_commander_refused(app, cid, sorted(CONFIRM), "") >= 1  # submit
