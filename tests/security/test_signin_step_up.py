"""Step-up (issue 16): authorise, extend, ratify, override and account grants need a recent
authentication; the time of it is written into the decision's audit entry. Local accounts step
up by re-entering their password. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from tests.security._identity import PASSWORD, Env, build, signed_in

HTML = {"Accept": "text/html"}
NEW_AO = {
    "username": "ac.ops",
    "password": "a quiet lantern over the river",
    "role": "authorising_officer",
    "rank": "assistant_commissioner",
}


@pytest.fixture
def env(db_url, clock, tmp_path) -> Env:
    return build(db_url, clock, tmp_path)


def test_decisions_need_a_recent_authentication(env: Env) -> None:
    c, csrf = signed_in(env.app, "ao")
    window = env.app.state.ctx.settings.step_up_minutes
    assert window > 0  # on by default
    env.clock.advance(timedelta(minutes=window + 1))
    headers = {"X-CSRF-Token": csrf}
    for action, body in (
        ("authorise", {}),
        ("extend", {"hours": 1, "reasons": "x"}),
        ("ratify", {"reasons": "x"}),
    ):
        r = c.post(f"/api/cases/999/{action}", json=body, headers=headers)
        assert r.status_code == 403 and "recent authentication" in r.json()["detail"], action
    # a wrong password does not step up
    r = c.post("/api/me/reauthenticate", json={"password": "not my password"}, headers=headers)
    assert r.status_code == 401
    r = c.post("/api/me/reauthenticate", json={"password": PASSWORD}, headers=headers)
    assert r.status_code == 200
    assert r.json()["authenticated_at"].startswith(env.clock.now().isoformat()[:19])
    # past the gate: the case is looked up (and does not exist)
    r = c.post("/api/cases/999/authorise", json={}, headers=headers)
    assert r.status_code != 403 or "recent authentication" not in r.text
    assert env.audit("session.step_up")


def test_a_grant_approved_after_step_up_records_the_authentication_time(env: Env) -> None:
    from fastapi.testclient import TestClient

    r = TestClient(env.app).post("/api/users", json=NEW_AO, headers=env.bearer("admin"))
    grant = r.json()["grant"]["id"]
    c, csrf = signed_in(env.app, "admin2")
    signed_in_at = env.clock.now()
    env.clock.advance(timedelta(minutes=30))
    form = {"csrf_token": csrf, "decision": "approve"}
    r = c.post(f"/admin/grants/{grant}", data=form, headers=HTML, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/account/reauthenticate?next=/admin/users"
    assert not env.ids.get_by_username("ac.ops").active
    page = c.get(r.headers["location"], headers=HTML).text
    assert re.search(r'name="next" value="/admin/users"', page)
    r = c.post(
        "/account/reauthenticate",
        data={"csrf_token": csrf, "password": PASSWORD, "next": "/admin/users"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin/users"
    stepped_up_at = env.clock.now()
    assert stepped_up_at > signed_in_at
    r = c.post(f"/admin/grants/{grant}", data=form, headers=HTML, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/admin/users"
    assert env.ids.get_by_username("ac.ops").active
    entry = env.audit("grant.approve")[-1]
    assert json.loads(entry.detail)["auth_time"] == stepped_up_at.isoformat()


def test_authorising_a_real_case_needs_a_fresh_authentication(env: Env, ready_case) -> None:
    """A case awaiting authorisation: refused to a session signed in too long ago and to an API
    token; after the password is confirmed, authorised, and the authorisation's audit entry
    carries the time of that confirmation."""
    from fastapi.testclient import TestClient

    cid = ready_case()
    # the case has no long-run level to show exceptionality: the guardrails need an override,
    # which an assistant commissioner may make (also a decision that needs step-up)
    env.ids.create_user("ac", PASSWORD, "authorising_officer", rank="assistant_commissioner")
    ac = env.ids.get_by_username("ac")
    c, csrf = signed_in(env.app, "ac")
    headers = {"X-CSRF-Token": csrf}
    env.clock.advance(timedelta(minutes=env.app.state.ctx.settings.step_up_minutes + 1))
    body = {"conditions": "foot patrol, body-worn video", "override_reason": "linked assaults"}
    r = c.post(f"/api/cases/{cid}/authorise", json=body, headers=headers)
    assert r.status_code == 403 and "recent authentication" in r.json()["detail"]
    token = {"Authorization": f"Bearer {env.ids.issue_token(ac, 'cli')}"}
    r = TestClient(env.app).post(f"/api/cases/{cid}/authorise", json=body, headers=token)
    assert r.status_code == 403 and "API token" in r.json()["detail"]
    assert c.get(f"/api/cases/{cid}").json()["status"] == "awaiting_authorisation"
    assert not env.audit("case.authorise")

    r = c.post("/api/me/reauthenticate", json={"password": PASSWORD}, headers=headers)
    assert r.status_code == 200
    stepped_up_at = env.clock.now()
    env.clock.advance(timedelta(minutes=2))
    r = c.post(f"/api/cases/{cid}/authorise", json=body, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "authorised"
    [entry] = env.audit("case.authorise")
    assert entry.case_id == cid and entry.actor_id == ac.id
    assert json.loads(entry.detail)["auth_time"] == stepped_up_at.isoformat()
