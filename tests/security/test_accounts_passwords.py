"""Users change their own password; an issued password must be changed at first sign-in; a
password on the bundled list of breached and common passwords is refused (NCSC guidance), not
only a short one. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.security._identity import Env, build, login_form, signed_in
from vigil.identity.passwords import common_passwords, password_problem

HTML = {"Accept": "text/html"}


@pytest.fixture
def env(db_url, clock, tmp_path) -> Env:
    return build(db_url, clock, tmp_path)


@pytest.mark.parametrize(
    "password", ["password1234", "Password2024!", "qwerty123456789", "monkeymonkeymonkey"]
)
def test_breached_and_common_passwords_are_refused(password: str) -> None:
    assert len(password) >= 12
    assert "common or breached" in (password_problem(password) or "")


def test_the_bundled_list_is_large_and_used_everywhere(env: Env) -> None:
    assert len(common_passwords()) >= 25_000
    c = TestClient(env.app)
    body = {"username": "new.analyst", "password": "iloveyou1234", "role": "analyst"}
    r = c.post("/api/users", json=body, headers=env.bearer("admin"))
    assert r.status_code == 400 and "common or breached" in r.json()["detail"]
    body["password"] = "new.analyst-secret"
    r = c.post("/api/users", json=body, headers=env.bearer("admin"))
    assert r.status_code == 400 and "username" in r.json()["detail"]


def test_an_issued_password_must_be_changed_at_first_sign_in(env: Env) -> None:
    api = TestClient(env.app)
    body = {"username": "new.analyst", "password": "issued by the admin 4471", "role": "analyst"}
    r = api.post("/api/users", json=body, headers=env.bearer("admin"))
    assert r.status_code == 201 and r.json()["user"]["must_change_password"] is True

    c = TestClient(env.app)
    r = login_form(c, "new.analyst", body["password"])
    assert r.status_code == 303 and r.headers["location"] == "/account/password"
    # nothing but the password page (and who am I) until it is changed
    r = c.get("/cases", headers=HTML, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/account/password"
    assert c.get("/api/cases").status_code == 403
    assert c.get("/api/me").json()["must_change_password"] is True
    page = c.get("/account/password", headers=HTML).text
    assert "choose your own" in page
    import re

    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"csrf_token": csrf, "current": body["password"], "new": "password12345"}
    r = c.post("/account/password", data={**form, "confirm": form["new"]}, headers=HTML)
    assert r.status_code == 400 and "common or breached" in r.text
    form["new"] = form["confirm"] = "seven amber kites at dawn"
    r = c.post("/account/password", data=form, follow_redirects=False)
    assert r.status_code == 303
    assert c.get("/api/cases").status_code == 200
    assert c.get("/api/me").json()["must_change_password"] is False


def test_a_user_changes_their_own_password_in_the_browser(env: Env) -> None:
    c, csrf = signed_in(env.app, "ao")
    form = {
        "csrf_token": csrf,
        "current": "correct horse battery staple",
        "new": "seven amber kites at dawn",
        "confirm": "seven amber kites at dawn",
    }
    assert c.post("/account/password", data=form, follow_redirects=False).status_code == 303
    assert c.get("/api/me").status_code == 200  # this browser has a fresh session
    assert login_form(TestClient(env.app), "ao").status_code == 401
    assert login_form(TestClient(env.app), "ao", "seven amber kites at dawn").status_code == 303


def test_admin_reset_forces_a_change(env: Env) -> None:
    api = TestClient(env.app)
    r = api.post(
        f"/api/users/{env.user_ids['analyst']}/password",
        json={"password": "temporary words for you"},
        headers=env.bearer("admin"),
    )
    assert r.status_code == 204
    assert api.get("/api/me", headers=env.bearer("analyst")).status_code == 401
    c = TestClient(env.app)
    r = login_form(c, "analyst", "temporary words for you")
    assert r.headers["location"] == "/account/password"
