"""Issue 11: probes, one structured log line per request without case free text, metrics."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import Field

from tests.ops._live import case_body, small_app, token_for
from vigil.http.observability import JsonFormatter
from vigil.settings import Settings

SECRET = "knife crime hotspot near the market: free text that must never reach a log"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    app = small_app(tmp_path_factory.mktemp("obs"))
    token = token_for(app, "analyst", "analyst")
    with TestClient(app) as client:
        yield app, client, {"Authorization": f"Bearer {token}"}


def test_healthz_and_readyz(env):
    _, client, _ = env
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {
        "ready": True,
        "checks": {"database": "ok", "migrations": "ok", "signing_key": "ok"},
    }


def test_readyz_refuses_an_unmigrated_database(tmp_path):
    from datetime import UTC, datetime

    from vigil.clock import FixedClock
    from vigil.db.engine import make_engine, make_sessionmaker
    from vigil.server import create_app

    url = f"sqlite:///{tmp_path / 'empty.db'}"
    app = create_app(
        Settings(data_dir=tmp_path, database_url=url),
        FixedClock(datetime(2022, 7, 1, tzinfo=UTC)),
        make_sessionmaker(make_engine(url)),
        surface_source=lambda: None,
    )
    r = TestClient(app).get("/readyz")
    assert r.status_code == 503 and r.headers["retry-after"] == "5"
    checks = r.json()["checks"]
    assert checks["database"] == "ok"
    assert "not at head" in checks["migrations"] and "cases_0002" in checks["migrations"]
    assert TestClient(app).get("/healthz").status_code == 200


class KeyedSettings(Settings):
    audit_signing_key_file: Path = Field(default=Path("/nonexistent/vigil-audit.key"))


def test_readyz_refuses_a_missing_signing_key(tmp_path):
    app = small_app(tmp_path)
    app.state.ctx.settings = KeyedSettings(data_dir=tmp_path)
    r = TestClient(app).get("/readyz")
    assert r.status_code == 503
    assert "vigil-audit.key does not exist" in r.json()["checks"]["signing_key"]


def test_one_log_line_per_request_without_free_text(env, caplog):
    app, client, auth = env
    with caplog.at_level(logging.INFO, logger="vigil.http.observability"):
        r = client.post(
            "/api/cases",
            json=case_body(objectives=SECRET, resources=SECRET),
            headers={**auth, "X-Request-ID": "req-42"},
        )
        assert r.status_code == 201, r.text
        case_id = r.json()["id"]
        read = client.get(f"/api/cases/{case_id}?purpose={SECRET[:20]}", headers=auth)
        assert read.status_code == 200
    records = [rec for rec in caplog.records if rec.name == "vigil.http.observability"]
    assert len(records) == 2
    post, get = (rec.fields for rec in records)  # type: ignore[attr-defined]
    me = client.get("/api/me", headers=auth).json()
    assert post == {
        "request_id": "req-42",
        "user_id": me["id"],
        "method": "POST",
        "route": "/api/cases",
        "status": 201,
        "duration_ms": post["duration_ms"],
    }
    assert post["duration_ms"] > 0
    assert r.headers["x-request-id"] == "req-42"
    assert get["route"] == "/api/cases/{case_id}" and get["status"] == 200
    assert len(get["request_id"]) == 32 and read.headers["x-request-id"] == get["request_id"]
    lines = [JsonFormatter().format(rec) for rec in records]
    for line in lines:
        parsed = json.loads(line)
        assert "\n" not in line and parsed["message"] == "request"
        assert "hotspot" not in line and "purpose" not in line


def test_metrics_count_requests_and_audit_appends(env):
    _, client, auth = env

    def sample(text: str, prefix: str) -> float:
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith(prefix) and not line.startswith("#")
        )

    before = client.get("/metrics").text
    case_id = client.post("/api/cases", json=case_body(), headers=auth).json()["id"]
    for _ in range(3):
        assert client.get(f"/api/cases/{case_id}", headers=auth).status_code == 200
    after = client.get("/metrics").text
    route = 'vigil_http_requests_total{method="GET",route="/api/cases/{case_id}",status="200"}'
    assert sample(after, route) - sample(before, route) == 3
    appended = sample(after, "vigil_audit_appends_total") - sample(
        before, "vigil_audit_appends_total"
    )
    assert appended >= 4  # the opening and three audited reads
    assert "vigil_http_request_duration_seconds_bucket" in after
    assert "vigil_expiry_lag_seconds" in after
