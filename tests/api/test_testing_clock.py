"""The test-only clock endpoint: present only when the setting asks for it, administrators only,
forwards only."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from tests.api.conftest import bearer
from vigil.clock import FixedClock
from vigil.server import create_app
from vigil.settings import Settings


def test_clock_moves_forward_only(client, tokens, app_env):
    _, clock, _ = app_env
    before = clock.now()
    r = client.post(
        "/api/testing/clock", json={"advance_minutes": 90}, headers=bearer(tokens, "admin")
    )
    assert r.status_code == 200
    assert (clock.now() - before).total_seconds() == 90 * 60
    r = client.post(
        "/api/testing/clock",
        json={"set_to": "2020-01-01T00:00:00"},
        headers=bearer(tokens, "admin"),
    )
    assert r.status_code == 400 and "only moves forwards" in r.json()["detail"]


def test_endpoint_absent_by_default(tmp_path):
    from vigil.db import migrate
    from vigil.db.engine import make_engine, make_sessionmaker

    url = f"sqlite:///{tmp_path / 'v.db'}"
    migrate.upgrade(url)
    settings = Settings(data_dir=tmp_path, database_url=url)
    assert settings.enable_test_clock is False
    app = create_app(
        settings, FixedClock(datetime(2022, 7, 1, tzinfo=UTC)), make_sessionmaker(make_engine(url))
    )
    assert not any(p.startswith("/api/testing") for p in app.openapi()["paths"])
    assert TestClient(app).post("/api/testing/clock", json={}).status_code == 404
