"""A live server for the browser tests: uvicorn in a thread of the test process, serving the
app over a fresh migrated SQLite database, a real forecast (tests/api/_fixtures) and a
FixedClock the test moves directly. Headless Chromium (``browser``, one per xdist worker) is
Debian's, driven by Playwright: tests/conftest.py and tests/web/_browser.py."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.api import _fixtures
from tests.api.conftest import build_app
from tests.ops._live import serve

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """(base_url, clock) of a running server over an empty case database."""
    app, clock, _ = build_app(
        tmp_path_factory.mktemp("web"), _fixtures.surface(), enable_test_clock=False
    )
    with serve(app) as (host, port):
        yield f"http://{host}:{port}", clock


@pytest.fixture(scope="session")
def seeded(tmp_path_factory):
    """(base_url, clock, season) of a running server over a past season of cases in every state
    (vigil.season, the demo's seed), the clock at the season's end."""
    from vigil.season import seed_season

    app, clock, _ = build_app(
        tmp_path_factory.mktemp("season"), _fixtures.surface(), enable_test_clock=False
    )
    ctx = app.state.ctx
    users = {u.username: u for u in ctx.identity.list_users()}
    actors = {role: users[name].actor() for role, name in _fixtures.USER_OF.items()}
    season = seed_season(
        ctx.cases,
        _fixtures.surface(),
        actors,
        datetime(2022, 6, 1, 9, tzinfo=UTC),
        _fixtures.SHARED,
    )
    with serve(app) as (host, port):
        yield f"http://{host}:{port}", clock, season


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
