"""Sign-in, sessions, CSRF and bearer tokens through the real app."""

from __future__ import annotations

from tests.api import _fixtures
from tests.api.conftest import bearer, browser_login, page_csrf, post_login


def test_sign_in_sets_a_hardened_cookie_and_lands_on_the_map(app_env):
    app, _, _ = app_env
    c = browser_login(app, "analyst")
    r = c.get("/", headers={"Accept": "text/html"})
    assert r.status_code == 200
    assert "Intelligence picture" in r.text
    assert "r50c52" in r.text  # top hotspot of the real July 2022 forecast (Westminster)


def test_cookie_flags(app_env):
    from fastapi.testclient import TestClient

    app, _, _ = app_env
    c = TestClient(app)
    c.get("/login")
    r = post_login(c, "lead")
    cookie = [h for h in r.headers.get_list("set-cookie") if h.startswith("vigil_session=")][0]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie


def test_wrong_password_is_refused_without_saying_which_part(client):
    client.get("/login")
    r = post_login(client, "analyst", "not the password")
    assert r.status_code == 401
    assert "wrong username or password" in r.text
    assert client.get("/api/me").status_code == 401


def test_login_form_needs_its_csrf_cookie(app_env):
    from fastapi.testclient import TestClient

    app, _, _ = app_env
    c = TestClient(app)
    r = c.post(
        "/login",
        data={"username": "analyst", "password": _fixtures.PASSWORD, "csrf_token": "forged"},
        headers={"Accept": "text/html"},
    )
    assert r.status_code == 403
    assert "sign-in form expired" in r.text


def test_cookie_post_without_csrf_is_refused_and_with_it_accepted(app_env):
    app, _, _ = app_env
    c = browser_login(app, "analyst")
    r = c.post("/api/tokens", json={"name": "my script"})
    assert r.status_code == 403
    assert "CSRF" in r.json()["detail"]
    page = c.get("/", headers={"Accept": "text/html"}).text
    csrf = page_csrf(page)
    r = c.post("/api/tokens", json={"name": "my script"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201
    token = r.json()["token"]
    assert c.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()["username"] == (
        "analyst"
    )


def test_bearer_tokens_need_no_csrf_and_bad_ones_are_401(client, tokens):
    r = client.post("/api/tokens", json={"name": "x"}, headers=bearer(tokens, "lead"))
    assert r.status_code == 201
    r = client.get("/api/me", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    r = client.get("/api/me", headers={"Authorization": "Basic abc"})
    assert r.status_code == 401


def test_sign_out_ends_the_session(app_env):
    app, _, _ = app_env
    c = browser_login(app, "oversight")
    page = c.get("/", headers={"Accept": "text/html"}).text
    csrf = page_csrf(page)
    old = c.cookies.get("vigil_session")
    r = c.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    c.cookies.set("vigil_session", old)
    assert c.get("/api/me").status_code == 401
    r = c.get("/", headers={"Accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_open_redirect_is_not_followed(app_env):
    from fastapi.testclient import TestClient

    app, _, _ = app_env
    c = TestClient(app)
    c.get("/login")
    r = post_login(c, "analyst", next="//evil.example/")
    assert r.headers["location"] == "/"
