"""Issue 10: every read of case data is logged (DPA 2018 s.62): the case page (ONE entry per
request, no longer three), the oversight report (HTML and PDF), the transparency report,
forecast reads, the account list and audit verification; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.api import _fixtures
from vigil.app.history import frame_history_source
from vigil.audit.verify import verify_chain
from vigil.clock import FixedClock
from vigil.db.audit import AuditEntry
from vigil.server import create_app
from vigil.settings import Settings


@pytest.fixture
def app_client(
    db_url: str, session_factory: sessionmaker[Session], tmp_path: Path
) -> tuple[TestClient, dict[str, dict[str, str]], FixedClock]:
    clock = FixedClock(datetime(2022, 7, 1, 9, 0, tzinfo=UTC))
    settings = Settings(
        data_dir=tmp_path, database_url=db_url, shared_data=_fixtures.SHARED, step_up_minutes=0
    )
    app = create_app(
        settings,
        clock,
        session_factory,
        surface_source=_fixtures.surface,
        history_source=frame_history_source(_fixtures.violence()),
    )
    ids = app.state.ctx.identity
    headers = {}
    for username, role, rank, borough in _fixtures.ACCOUNTS:
        user = ids.create_user(username, _fixtures.PASSWORD, role, rank=rank, borough=borough)
        headers[username] = {"Authorization": f"Bearer {ids.issue_token(user, 'tests')}"}
    return TestClient(app), headers, clock


def _entries_after(sf: sessionmaker[Session], seq: int) -> list[AuditEntry]:
    with sf() as s:
        return list(
            s.execute(select(AuditEntry).where(AuditEntry.seq > seq).order_by(AuditEntry.seq))
            .scalars()
            .all()
        )


def _head(sf: sessionmaker[Session]) -> int:
    with sf() as s:
        return verify_chain(s).head_seq


def test_every_read_of_case_data_is_logged_once(
    app_client: tuple[TestClient, dict[str, dict[str, str]], FixedClock],
    session_factory: sessionmaker[Session],
) -> None:
    client, h, clock = app_client
    top = client.get("/api/forecasts/current/top?k=1", headers=h["analyst"]).json()
    case = client.post(
        "/api/cases",
        headers=h["analyst"],
        json={
            "cells": [top[0]["area_id"]],
            "start": "2022-07-01T10:00:00Z",
            "end": "2022-07-01T16:00:00Z",
            "resources": "Officers on foot",
            "objectives": "Prevent serious violence",
            "success_measures": ["No knife injuries"],
        },
    ).json()
    reads: list[tuple[str, str, dict[str, Any], str]] = [
        ("oversight", f"/cases/{case['id']}", {"Accept": "text/html"}, "case.read"),
        ("oversight", "/api/reports/oversight/2022Q3", {}, "report.oversight"),
        ("oversight", "/api/reports/oversight/2022Q3?format=pdf", {}, "report.oversight"),
        ("analyst", "/api/reports/transparency/2022Q3", {}, "report.transparency"),
        ("analyst", "/api/forecasts/current", {}, "forecast.read"),
        ("analyst", "/api/forecasts/current/top?k=3", {}, "forecast.read"),
        ("analyst", f"/api/forecasts/current/areas/{top[0]['area_id']}", {}, "forecast.read"),
        ("analyst", "/api/forecasts/current/geojson", {}, "forecast.read"),
        ("admin", "/api/users", {}, "user.list"),
        ("admin", "/admin/users", {"Accept": "text/html"}, "user.list"),
        ("analyst", "/", {"Accept": "text/html"}, "forecast.read"),
        ("oversight", "/api/audit/verify", {}, "audit.verify"),
    ]
    for user, path, extra, action in reads:
        before = _head(session_factory)
        r = client.get(path, headers={**h[user], **extra})
        assert r.status_code == 200, (path, r.text[:300])
        new = _entries_after(session_factory, before)
        assert [e.action for e in new] == [action], (path, [e.action for e in new])
        assert new[0].actor_role in {"oversight", "analyst", "administrator"}
        if action == "case.read":
            assert new[0].case_id == case["id"]
            assert json.loads(new[0].detail) == {"with": ["audit_trail"]}
        if action == "report.oversight":
            assert json.loads(new[0].detail)["format"] in {"html", "pdf"}
    with session_factory() as s:
        assert verify_chain(s).ok
