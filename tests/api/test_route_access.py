"""Every API route refuses callers without credentials (401) and callers whose role it does not
admit (403): the routes are enumerated from the OpenAPI schema, so a new route is covered the
moment it exists, and a route without a role dependency fails the test."""

from __future__ import annotations

import re

import pytest

from tests.api._fixtures import USER_OF
from tests.api.conftest import bearer
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
