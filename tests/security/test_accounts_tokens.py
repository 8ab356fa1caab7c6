"""Finding: API tokens never expired, survived logout and password change, could not be revoked,
and issuing one was not audited.

Tokens now expire, are listed to their owner (never the token itself), can be revoked, and are
revoked when the browser session that issued them signs out, when the password changes and when
the account is disabled; a bearer can sign itself out. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.security._identity import PASSWORD, Env, build, signed_in


@pytest.fixture
def env(db_url, clock, tmp_path) -> Env:
    return build(db_url, clock, tmp_path)


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_tokens_expire(env: Env) -> None:
    c = TestClient(env.app)
    r = c.post("/api/tokens", json={"name": "weekly", "days": 7}, headers=env.bearer("analyst"))
    assert r.status_code == 201
    token, expires = r.json()["token"], r.json()["expires_at"]
    assert expires.startswith((env.clock.now() + timedelta(days=7)).date().isoformat())
    env.clock.advance(timedelta(days=7) - timedelta(seconds=1))
    assert c.get("/api/me", headers=_auth(token)).status_code == 200
    env.clock.advance(timedelta(seconds=1))
    assert c.get("/api/me", headers=_auth(token)).status_code == 401
    # the default lifetime ends too, and no token may be asked for longer than a year
    env.clock.advance(env.ids.token_lifetime)
    assert c.get("/api/me", headers=env.bearer("analyst")).status_code == 401
    fresh = env.ids.issue_token(env.ids.get_by_username("analyst"), "again")
    r = c.post("/api/tokens", json={"name": "forever", "days": 10_000}, headers=_auth(fresh))
    assert r.status_code == 422


def test_tokens_are_listed_and_revoked_by_their_owner_only(env: Env) -> None:
    c = TestClient(env.app)
    r = c.post("/api/tokens", json={"name": "import"}, headers=env.bearer("analyst"))
    token, token_id = r.json()["token"], r.json()["id"]
    listed = c.get("/api/tokens", headers=env.bearer("analyst")).json()
    assert {t["name"] for t in listed} == {"tests", "import"}
    assert all("token" not in t for t in listed)
    # another account cannot revoke it
    assert c.delete(f"/api/tokens/{token_id}", headers=env.bearer("ao")).status_code == 400
    assert c.get("/api/me", headers=_auth(token)).status_code == 200
    assert c.delete(f"/api/tokens/{token_id}", headers=env.bearer("analyst")).status_code == 204
    assert c.get("/api/me", headers=_auth(token)).status_code == 401
    names = [t["name"] for t in c.get("/api/tokens", headers=env.bearer("analyst")).json()]
    assert names == ["tests"]
    every = c.get("/api/tokens?all=true", headers=env.bearer("analyst")).json()
    assert any(t["id"] == token_id and t["revoked"] for t in every)
    issued = env.audit("token.issue")[-1]
    revoked = env.audit("token.revoke")[-1]
    assert issued.actor_id == revoked.actor_id == env.user_ids["analyst"]


def test_sign_out_revokes_the_tokens_issued_from_the_session(env: Env) -> None:
    c, csrf = signed_in(env.app, "analyst")
    r = c.post("/api/tokens", json={"name": "from the browser"}, headers={"X-CSRF-Token": csrf})
    token = r.json()["token"]
    api = TestClient(env.app)
    assert api.get("/api/me", headers=_auth(token)).status_code == 200
    assert c.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    assert api.get("/api/me", headers=_auth(token)).status_code == 401
    # a bearer signs itself out
    assert api.post("/api/logout", headers=env.bearer("ao")).status_code == 204
    assert api.get("/api/me", headers=env.bearer("ao")).status_code == 401
    assert env.audit("session.end")


def test_password_change_revokes_every_token_and_session(env: Env) -> None:
    browser, _ = signed_in(env.app, "analyst")
    other_browser, csrf = signed_in(env.app, "analyst")
    api = TestClient(env.app)
    r = api.post(
        "/api/me/password",
        json={"current": "not it at all", "new": "a brand new passphrase here"},
        headers=env.bearer("analyst"),
    )
    assert r.status_code == 401 and "current password is wrong" in r.json()["detail"]
    assert api.get("/api/me", headers=env.bearer("analyst")).status_code == 200
    r = api.post(
        "/api/me/password",
        json={"current": PASSWORD, "new": "a brand new passphrase here"},
        headers=env.bearer("analyst"),
    )
    assert r.status_code == 204, r.text
    assert api.get("/api/me", headers=env.bearer("analyst")).status_code == 401
    assert browser.get("/api/me").status_code == 401
    assert other_browser.get("/api/me").status_code == 401
    assert env.audit("account.password_change")


def test_disabling_an_account_revokes_its_tokens(env: Env) -> None:
    api = TestClient(env.app)
    r = api.post(f"/api/users/{env.user_ids['ao']}/disable", headers=env.bearer("admin"))
    assert r.status_code == 200 and r.json()["active"] is False
    assert api.get("/api/me", headers=env.bearer("ao")).status_code == 401
    listed = env.ids.list_tokens(env.user_ids["ao"], include_ended=True)
    assert listed and all(t.revoked for t in listed)
