"""Finding (round two): a NUL character (``\\x00``) in a free-text field was a 500 on
PostgreSQL, whose text type cannot hold it (psycopg refuses the statement). Every way text comes
in is now refused before it reaches the database, naming the field: the API's JSON (422, its
status for any invalid field), the web forms (400), the sign-in form and the account and token
bodies; nothing is stored, and the same holds on SQLite. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.api.test_route_access import brixton_case
from tests.security._identity import Env, build, login_form, signed_in
from vigil.db.cases import Case

NUL = "quiet\x00night"
HTML = {"Accept": "text/html"}


@pytest.fixture
def env(db_url, clock, tmp_path) -> Env:
    return build(db_url, clock, tmp_path)


def _case_body(env: Env, **change: object) -> dict[str, object]:
    return brixton_case(env.clock.now(), **change)


def _cases(env: Env) -> int:
    with env.sf() as s:
        return int(s.scalar(select(func.count()).select_from(Case)) or 0)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("resources", NUL),
        ("objectives", NUL),
        ("justification", NUL),
        ("success_measures", [NUL]),
        ("borough", "Lam\x00beth"),
    ],
)
def test_api_case_text_with_a_nul_is_refused_naming_the_field(env: Env, field, value) -> None:
    c = TestClient(env.app)
    r = c.post("/api/cases", json=_case_body(env, **{field: value}), headers=env.bearer("analyst"))
    assert r.status_code == 422, r.text
    detail = " ".join(r.json()["detail"])
    assert field in detail and "NUL" in detail, detail
    assert _cases(env) == 0


def test_web_form_text_with_a_nul_is_a_400_and_nothing_is_recorded(env: Env) -> None:
    c = TestClient(env.app)
    r = c.post("/api/cases", json=_case_body(env), headers=env.bearer("analyst"))
    assert r.status_code == 201, r.text
    cid, version = r.json()["id"], r.json()["version"]
    browser, csrf = signed_in(env.app, "analyst")
    r = browser.post(
        f"/cases/{cid}/actions/withdraw",
        data={"csrf_token": csrf, "reasons": NUL},
        headers=HTML,
        follow_redirects=False,
    )
    assert r.status_code == 400, r.text[:500]
    assert "reasons" in r.text and "NUL" in r.text
    after = c.get(f"/api/cases/{cid}", headers=env.bearer("analyst")).json()
    assert after["version"] == version and after["status"] == "draft"


def test_sign_in_with_a_nul_in_the_name_is_refused_not_a_500(env: Env) -> None:
    r = login_form(TestClient(env.app), "ana\x00lyst")
    assert r.status_code == 400, r.text[:500]
    assert "NUL" in r.text


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/tokens", {"name": NUL, "days": 7}),
        (
            "/api/users",
            {
                "username": "new\x00user",
                "password": "a long issued password 1",
                "role": "analyst",
            },
        ),
    ],
)
def test_account_and_token_text_with_a_nul_is_refused(env: Env, path, body) -> None:
    user = "admin" if path == "/api/users" else "analyst"
    before = env.audit_actions()
    r = TestClient(env.app).post(path, json=body, headers=env.bearer(user))
    assert r.status_code == 422, r.text
    assert "NUL" in " ".join(r.json()["detail"])
    assert env.audit_actions() == before
