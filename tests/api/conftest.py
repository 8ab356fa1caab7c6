"""An app over a fresh, fully migrated SQLite database, a FixedClock and a real forecast."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api import _fixtures
from vigil.app.history import frame_history_source
from vigil.clock import FixedClock
from vigil.db import migrate
from vigil.db.engine import make_engine, make_sessionmaker
from vigil.http.deps import SESSION_COOKIE
from vigil.server import create_app
from vigil.settings import Settings


@pytest.fixture(scope="session")
def real_surface():
    return _fixtures.surface()


def build_app(
    tmp: Path, surface, policy_file: Path | None = None, *, enable_test_clock: bool = True
):
    """(app, clock, tokens by username) over a fresh database in ``tmp``, one account per role
    (``_fixtures.ACCOUNTS``); the browser tests serve it too (tests/web/conftest.py)."""
    url = f"sqlite:///{tmp / 'vigil.db'}"
    migrate.upgrade(url)
    sf = make_sessionmaker(make_engine(url))
    clock = FixedClock(datetime(2022, 7, 1, 9, 0, tzinfo=UTC))
    settings = Settings(
        data_dir=tmp,
        database_url=url,
        enable_test_clock=enable_test_clock,
        shared_data=_fixtures.SHARED,
        policy_file=policy_file,
        # these suites drive decisions over hours of FixedClock time; step-up and token expiry
        # have their own tests (tests/security)
        step_up_minutes=0,
        token_hours=24 * 30,
    )
    app = create_app(
        settings,
        clock,
        sf,
        surface_source=lambda: surface,
        history_source=frame_history_source(_fixtures.violence()),
    )
    ids = app.state.ctx.identity
    tokens = {}
    for username, role, rank, borough in _fixtures.ACCOUNTS:
        user = ids.create_user(
            username,
            _fixtures.PASSWORD,
            role,
            rank=rank,
            borough=borough,
            display_name=f"{role.replace('_', ' ').title()} ({username})",
        )
        tokens[username] = ids.issue_token(user, "tests")
    return app, clock, tokens


@pytest.fixture(scope="module")
def app_env(tmp_path_factory, real_surface):
    """(app, clock, tokens by username) for one test module."""
    return build_app(tmp_path_factory.mktemp("app"), real_surface)


@pytest.fixture(scope="module")
def client(app_env):
    app, _, _ = app_env
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def tokens(app_env):
    return app_env[2]


def bearer(tokens, username):
    return {"Authorization": f"Bearer {tokens[username]}"}


def post_as(client, tokens, user, path, body=None, status=200):
    """POST ``body`` as ``user`` with a bearer token; the reply's JSON, once its status is
    ``status``."""
    r = client.post(path, json=body or {}, headers=bearer(tokens, user))
    assert r.status_code == status, f"{user} {path}: {r.status_code} {r.text}"
    return r.json()


def open_case(
    client,
    tokens,
    clock,
    user="analyst",
    *,
    start_in=timedelta(hours=1),
    hours=8,
    area=0,
    **fields,
):
    """A new draft case (the API's JSON) on the ``area``-th cell of the current forecast, from
    ``start_in`` after now until ``hours`` after now, opened by ``user``."""
    top = client.get(f"/api/forecasts/current/top?k={area + 1}", headers=bearer(tokens, user))
    now = clock.now()
    body = {
        "cells": [top.json()[area]["area_id"]],
        "start": (now + start_in).isoformat(),
        "end": (now + timedelta(hours=hours)).isoformat(),
        "resources": "Officers on foot",
        "objectives": "Prevent serious violence",
        "success_measures": ["No knife injuries"],
        **fields,
    }
    return post_as(client, tokens, user, "/api/cases", body, status=201)


def page_csrf(html: str) -> str:
    """The session's CSRF token from a page's forms."""
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def post_login(c: TestClient, username: str, password: str = _fixtures.PASSWORD, **fields):
    """POST the sign-in form with the CSRF cookie a GET /login set; redirects not followed."""
    data = {
        "username": username,
        "password": password,
        "csrf_token": c.cookies.get("vigil_login_csrf"),
        **fields,
    }
    return c.post("/login", data=data, follow_redirects=False)


def browser_login(app, username: str) -> TestClient:
    """A client signed in through the form, like a browser (cookie + CSRF)."""
    c = TestClient(app)
    page = c.get("/login")
    assert page.status_code == 200 and c.cookies.get("vigil_login_csrf")
    r = post_login(c, username)
    assert r.status_code == 303, r.text
    assert c.cookies.get(SESSION_COOKIE)
    return c
