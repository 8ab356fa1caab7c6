"""Credential lookups run in worker threads, never on the event loop (issue 11: every request's
token was looked up in the database on the loop, so one worker's requests waited on each
other's queries, and on a free pooled connection when all were busy)."""

from __future__ import annotations

import asyncio

from fastapi.testclient import TestClient

from tests.api.conftest import bearer, build_app, post_login


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def test_token_and_session_lookups_leave_the_event_loop(tmp_path, real_surface, monkeypatch):
    app, _, tokens = build_app(tmp_path, real_surface)
    identity = app.state.ctx.identity
    seen: list[tuple[str, bool]] = []
    real_token, real_session = identity.resolve_token, identity.resolve_session

    def token(raw: str):
        seen.append(("token", _on_event_loop()))
        return real_token(raw)

    def session(raw: str):
        seen.append(("session", _on_event_loop()))
        return real_session(raw)

    monkeypatch.setattr(identity, "resolve_token", token)
    monkeypatch.setattr(identity, "resolve_session", session)
    with TestClient(app) as client:
        # an API route (async dependency) and a page (cookie session) both admit the caller
        assert client.get("/api/forecasts/current", headers=bearer(tokens, "analyst")).is_success
        client.get("/login")  # the sign-in form sets its CSRF cookie
        assert post_login(client, "analyst").status_code in (302, 303)
        assert client.get("/cases").status_code == 200
    kinds = {k for k, _ in seen}
    assert kinds == {"token", "session"}
    assert not any(on_loop for _, on_loop in seen), seen
