"""Issue 16: the command line signs in the way the web does. Signed in on the web, a user
issues a token on the "Command-line access" page, sees it once as the line to paste, uses it
with ``vigil case list``, revokes it on the page, and the command line is then refused. The
token lasts the short default (12 hours) on the app's injectable clock. SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.security._identity import Env, build, signed_in
from vigil.clock import FixedClock

EXPORT = re.compile(r"export VIGIL_TOKEN=(vgl_[A-Za-z0-9_-]+)</code>")


@pytest.fixture
def clock() -> FixedClock:
    """Now, fixed: the command line checks the token's expiry on the real clock."""
    return FixedClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def env(db_url, clock, tmp_path) -> Env:
    return build(db_url, clock, tmp_path)


def _cli(args: list[str], token: str):
    from vigil.cli import app as cli

    return CliRunner().invoke(cli, args, env={"VIGIL_TOKEN": token})


def test_token_issued_on_the_page_works_on_the_command_line_until_revoked_there(
    env: Env, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    c, csrf = signed_in(env.app, "analyst")
    # reached from the navigation of every page, not only by its address
    assert 'href="/account/command-line"' in c.get("/cases").text
    page = c.get("/account/command-line")
    assert page.status_code == 200 and "Command-line access" in page.text
    assert "<script>" not in page.text.split("<main", 1)[-1].split("</main>", 1)[0]
    # without the session's CSRF token nothing is issued
    assert c.post("/account/command-line", data={"name": "laptop"}).status_code == 403
    r = c.post("/account/command-line", data={"name": "laptop", "csrf_token": csrf})
    assert r.status_code == 200, r.text
    token = EXPORT.search(r.text).group(1)  # type: ignore[union-attr]
    assert r.text.count(token) == 1  # shown once, only in the export line
    listed = c.get("/account/command-line")
    assert token not in listed.text and "laptop" in listed.text
    (token_id,) = [t.id for t in env.ids.list_tokens(env.user_ids["analyst"]) if t.name == "laptop"]
    assert f'id="token-{token_id}"' in listed.text
    assert env.audit("token.issue")[-1].actor_id == env.user_ids["analyst"]

    monkeypatch.setenv("VIGIL_DATABASE_URL", db_url)
    monkeypatch.setenv("VIGIL_DATA_DIR", str(env.app.state.ctx.settings.data_dir))
    from vigil.settings import get_settings

    get_settings.cache_clear()
    try:
        ok = _cli(["case", "list"], token)
        assert ok.exit_code == 0, ok.output
        # another user cannot revoke it from their page
        other, other_csrf = signed_in(env.app, "ao")
        bad = other.post(
            f"/account/command-line/{token_id}/revoke", data={"csrf_token": other_csrf}
        )
        assert bad.status_code == 404
        assert _cli(["case", "list"], token).exit_code == 0
        gone = c.post(
            f"/account/command-line/{token_id}/revoke",
            data={"csrf_token": csrf},
            follow_redirects=False,
        )
        assert gone.status_code == 303
        refused = _cli(["case", "list"], token)
        assert refused.exit_code != 0
        assert f'id="token-{token_id}"' not in c.get("/account/command-line").text
        assert env.audit("token.revoke")[-1].actor_id == env.user_ids["analyst"]
    finally:
        get_settings.cache_clear()


def test_default_lifetime_is_short_and_the_maximum_holds(env: Env) -> None:
    c, csrf = signed_in(env.app, "analyst")
    issued_at = env.clock.now()
    r = c.post("/account/command-line", data={"name": "today", "csrf_token": csrf})
    token = EXPORT.search(r.text).group(1)  # type: ignore[union-attr]
    (info,) = [t for t in env.ids.list_tokens(env.user_ids["analyst"]) if t.name == "today"]
    assert info.expires_at == issued_at + timedelta(hours=12)
    api = TestClient(env.app)
    bearer = {"Authorization": f"Bearer {token}"}
    env.clock.advance(timedelta(hours=12) - timedelta(seconds=1))
    assert api.get("/api/me", headers=bearer).status_code == 200
    env.clock.advance(timedelta(seconds=1))
    assert api.get("/api/me", headers=bearer).status_code == 401
    # the API may ask for shorter, never for longer than the configured maximum (30 days)
    fresh = env.ids.issue_token(env.ids.get_by_username("analyst"), "again")
    auth = {"Authorization": f"Bearer {fresh}"}
    short = api.post("/api/tokens", json={"name": "short", "hours": 1}, headers=auth)
    assert short.status_code == 201
    expires = datetime.fromisoformat(short.json()["expires_at"])
    assert expires.astimezone(UTC) == env.clock.now() + timedelta(hours=1)
    too_long = api.post("/api/tokens", json={"name": "long", "days": 31}, headers=auth)
    assert too_long.status_code in (400, 422) and "at most 720 hours" in too_long.text
