"""Finding: an administrator created an assistant-commissioner authorising officer on their own,
and that officer then authorised with a guardrail override; no account action was audited.

Privilege (the authorising_officer or administrator role, any rank or a higher one) is now
granted only when a second administrator approves, never the requester nor the account itself;
the grant lapses after its time; every account, grant, session and token event is in the
hash-chained audit log. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.security._identity import PASSWORD, Env, build, login_form
from vigil.audit.verify import verify_chain

NEW_AO = {
    "username": "ac.ops",
    "password": "a quiet lantern over the river",
    "role": "authorising_officer",
    "rank": "assistant_commissioner",
    "reason": "Met Operations lead",
}


@pytest.fixture
def env(db_url, clock, tmp_path) -> Env:
    # the approvals here come from API tokens, which step-up refuses by default: this suite is
    # about maker-checker (step-up has its own, test_signin_step_up)
    # approvals use tokens over days of FixedClock time (grant and request lifetimes); token
    # expiry has its own tests (test_accounts_tokens, test_command_line_access)
    return build(db_url, clock, tmp_path, step_up_tokens=False, token_hours=24 * 30)


def test_one_administrator_cannot_create_an_authorising_officer(env: Env) -> None:
    c = TestClient(env.app)
    r = c.post("/api/users", json=NEW_AO, headers=env.bearer("admin"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["user"]["active"] is False
    grant = body["grant"]
    assert grant["status"] == "pending" and grant["rank"] == "assistant_commissioner"
    officer = body["user"]["id"]

    # the officer cannot act: sign-in refused, a token issued at the console does not work
    r = login_form(TestClient(env.app), "ac.ops", NEW_AO["password"])
    assert r.status_code == 401 and "second administrator" in r.text
    token = env.ids.issue_token(env.ids.get_user(officer), "console")
    assert c.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401

    # the requesting administrator may not approve it
    r = c.post(f"/api/users/grants/{grant['id']}/approve", headers=env.bearer("admin"))
    assert r.status_code == 403 and "second administrator" in r.json()["detail"]
    # nor may anyone but an administrator
    r = c.post(f"/api/users/grants/{grant['id']}/approve", headers=env.bearer("ao"))
    assert r.status_code == 403
    assert env.ids.get_user(officer).active is False

    # a second administrator approves: the grant is time-bound
    r = c.post(
        f"/api/users/grants/{grant['id']}/approve",
        json={"reason": "checked with HR"},
        headers=env.bearer("admin2"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved" and r.json()["decided_by"] == env.user_ids["admin2"]
    officer_user = env.ids.get_user(officer)
    assert officer_user.active and officer_user.rank.name == "ASSISTANT_COMMISSIONER"
    assert officer_user.grant_expires_at == env.clock.now() + env.ids.grant_lifetime
    # a decided grant cannot be decided again
    r = c.post(f"/api/users/grants/{grant['id']}/refuse", headers=env.bearer("admin2"))
    assert r.status_code == 400 and "approved, not pending" in r.json()["detail"]

    approved = env.audit("grant.approve")[-1]
    assert approved.actor_id == env.user_ids["admin2"]
    detail = json.loads(approved.detail)
    assert detail["requested_by"] == env.user_ids["admin"] and detail["user"] == officer


def test_an_administrator_cannot_make_another_administrator_alone(env: Env) -> None:
    c = TestClient(env.app)
    body = {**NEW_AO, "username": "sock.puppet", "role": "administrator", "rank": "none"}
    r = c.post("/api/users", json=body, headers=env.bearer("admin"))
    assert r.status_code == 201 and r.json()["grant"]["status"] == "pending"
    assert r.json()["user"]["active"] is False


def test_raising_a_rank_waits_for_approval_and_lowering_does_not(env: Env) -> None:
    c = TestClient(env.app)
    ao = env.user_ids["ao"]
    r = c.patch(f"/api/users/{ao}", json={"rank": "commissioner"}, headers=env.bearer("admin"))
    assert r.status_code == 200 and r.json()["grant"]["status"] == "pending"
    assert c.get("/api/me", headers=env.bearer("ao")).json()["rank"] == "commander"
    # analyst -> authorising officer is a grant too
    r = c.patch(
        f"/api/users/{env.user_ids['analyst']}",
        json={"role": "authorising_officer", "rank": "superintendent"},
        headers=env.bearer("admin"),
    )
    assert r.json()["grant"]["status"] == "pending"
    assert c.get("/api/me", headers=env.bearer("analyst")).json()["role"] == "analyst"
    # lowering a rank takes effect at once (and is audited)
    r = c.patch(f"/api/users/{ao}", json={"rank": "superintendent"}, headers=env.bearer("admin"))
    assert r.status_code == 200 and r.json()["grant"] is None
    assert c.get("/api/me", headers=env.bearer("ao")).json()["rank"] == "superintendent"
    assert "account.change" in env.audit_actions()


def test_no_one_approves_a_grant_to_themselves(env: Env) -> None:
    c = TestClient(env.app)
    admin2 = env.user_ids["admin2"]
    r = c.patch(
        f"/api/users/{admin2}",
        json={"role": "authorising_officer", "rank": "commander"},
        headers=env.bearer("admin"),
    )
    grant = r.json()["grant"]["id"]
    r = c.post(f"/api/users/grants/{grant}/approve", headers=env.bearer("admin2"))
    assert r.status_code == 403 and "themselves" in r.json()["detail"]


def test_grants_lapse_and_requests_expire(env: Env) -> None:
    c = TestClient(env.app)
    r = c.post("/api/users", json=NEW_AO, headers=env.bearer("admin"))
    grant, officer = r.json()["grant"]["id"], r.json()["user"]["id"]
    # a request not decided in time expires
    env.clock.advance(env.ids.request_lifetime + timedelta(minutes=1))
    r = c.post(f"/api/users/grants/{grant}/approve", headers=env.bearer("admin2"))
    assert r.status_code == 400 and "expired" in r.json()["detail"]
    # a fresh request approved lasts grant_lifetime, then the account stops working
    r = c.patch(
        f"/api/users/{officer}",
        json={"rank": "assistant_commissioner"},
        headers=env.bearer("admin"),
    )
    grant = r.json()["grant"]["id"]
    assert c.post(f"/api/users/grants/{grant}/approve", headers=env.bearer("admin2")).is_success
    token = env.ids.issue_token(env.ids.get_user(officer), "script")
    headers = {"Authorization": f"Bearer {token}"}
    assert c.get("/api/me", headers=headers).status_code == 200
    env.clock.advance(env.ids.grant_lifetime)
    assert c.get("/api/me", headers=headers).status_code == 401
    r = login_form(TestClient(env.app), "ac.ops", NEW_AO["password"])
    assert r.status_code == 401 and "lapsed" in r.text
    # renewing is a grant again, not a quiet edit (the admin's 90-day token expired meanwhile)
    env.tokens["admin"] = env.ids.issue_token(env.ids.get_by_username("admin"), "renewal")
    r = c.patch(
        f"/api/users/{officer}",
        json={"rank": "assistant_commissioner"},
        headers=env.bearer("admin"),
    )
    assert r.json()["grant"]["status"] == "pending"


def test_the_web_form_files_a_request_for_a_privileged_account(env: Env) -> None:
    from tests.security._identity import signed_in

    c, csrf = signed_in(env.app, "admin")
    form = {**NEW_AO, "csrf_token": csrf}
    r = c.post("/admin/users", data=form, headers={"Accept": "text/html"})
    assert r.status_code == 200 and "Account ac.ops requested" in r.text
    assert "Grants awaiting a second administrator" in r.text
    grant = env.ids.list_grants(pending_only=True)[0]
    # the requester's page offers no approval of their own request, and posting it is refused
    r = c.post(
        f"/admin/grants/{grant.id}",
        data={"csrf_token": csrf, "decision": "approve"},
        headers={"Accept": "text/html"},
    )
    assert r.status_code == 403 and "second administrator" in r.text
    c2, csrf2 = signed_in(env.app, "admin2")
    r = c2.post(
        f"/admin/grants/{grant.id}",
        data={"csrf_token": csrf2, "decision": "approve"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert env.ids.get_by_username("ac.ops").active


def test_every_account_and_token_event_is_in_the_verified_chain(env: Env) -> None:
    c = TestClient(env.app)
    r = c.post("/api/users", json=NEW_AO, headers=env.bearer("admin"))
    grant = r.json()["grant"]["id"]
    c.post(f"/api/users/grants/{grant}/approve", headers=env.bearer("admin2"))
    login_form(TestClient(env.app), "analyst", "wrong password entirely")
    assert login_form(TestClient(env.app), "analyst").status_code == 303
    r = c.post("/api/tokens", json={"name": "nightly"}, headers=env.bearer("analyst"))
    c.delete(f"/api/tokens/{r.json()['id']}", headers=env.bearer("analyst"))
    c.post(f"/api/users/{env.user_ids['ao']}/disable", headers=env.bearer("admin"))
    actions = env.audit_actions()
    for action in (
        "account.create",
        "grant.request",
        "grant.approve",
        "signin.failure",
        "signin.success",
        "token.issue",
        "token.revoke",
        "account.disable",
    ):
        assert action in actions, action
    # no secret reaches the log
    with env.sf() as s:
        report = verify_chain(s)
    assert report.ok, report
    dump = json.dumps([e.detail for e in env.audit("account.create")])
    assert PASSWORD not in dump and NEW_AO["password"] not in dump
