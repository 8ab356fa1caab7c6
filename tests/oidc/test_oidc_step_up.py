"""Step-up through the identity provider before a real decision (issue 16): an authorising
officer signed in through OpenID Connect too long ago is refused the authorisation of a case
awaiting it; after the provider authenticates them again (``prompt=login``, ``max_age=0``) the
authorisation succeeds, and its audit entry carries the provider's authentication time. A token
issued through the web after that sign-in is shown once, audited, refused the decision (it
shows no authentication), works for reading from the command line, and is revoked. SQLite and
PostgreSQL, against a real oidc-provider-mock process."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from typer.testing import CliRunner

from tests.cases.conftest import hot_cells, lambeth_surface, open_case, ready_case, service  # noqa: F401  # noqa: F401
from tests.oidc.conftest import OidcEnv
from tests.oidc.test_oidc_signin import _csrf
from vigil.clock import FixedClock
from vigil.db.identity import AuthenticationFailed, SessionRow


@pytest.fixture
def clock(oidc: OidcEnv) -> FixedClock:
    """The cases are opened on the app's own clock (the provider's tokens are real-time)."""
    return oidc.env.clock


def test_authorising_a_real_case_steps_up_through_the_provider(
    oidc: OidcEnv,
    ready_case,  # noqa: F811
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cid = ready_case()
    oidc.provider.set_user("ac-stepper", ["vigil-authorisers-ac"])
    c = TestClient(oidc.env.app)
    assert oidc.sign_in(c, "ac-stepper").status_code == 303
    csrf = _csrf(c)
    headers = {"X-CSRF-Token": csrf}
    # the session authenticated twenty minutes ago (the provider's clock is the real one, so
    # the session is aged rather than the app's clock moved)
    with oidc.env.sf.begin() as s:
        s.execute(
            update(SessionRow).values(authenticated_at=oidc.env.clock.now() - timedelta(minutes=20))
        )
    body = {"conditions": "foot patrol, body-worn video", "override_reason": "linked assaults"}
    r = c.post(f"/api/cases/{cid}/authorise", json=body, headers=headers)
    assert r.status_code == 403 and "recent authentication" in r.json()["detail"]
    assert not oidc.env.audit("case.authorise")

    # a token issued through the web after the sign-in: shown once, audited
    r = c.post("/api/tokens", json={"name": "cli", "days": 1}, headers=headers)
    assert r.status_code == 201, r.text
    token, token_id = r.json()["token"], r.json()["id"]
    assert oidc.env.audit("token.issue")
    assert token not in json.dumps([e.detail for e in oidc.env.audit("token.issue")])
    listed = c.get("/api/tokens").json()
    assert [t["id"] for t in listed] == [token_id] and "token" not in listed[0]
    # it cannot make the decision (it shows no authentication) ...
    bearer = {"Authorization": f"Bearer {token}"}
    r = TestClient(oidc.env.app).post(f"/api/cases/{cid}/authorise", json=body, headers=bearer)
    assert r.status_code == 403 and "API token" in r.json()["detail"]
    # ... on the command line either; it can read there, until it is revoked
    from vigil.cli import app as cli

    monkeypatch.setenv("VIGIL_DATABASE_URL", db_url)
    from vigil.settings import get_settings

    get_settings.cache_clear()
    try:
        env = {"VIGIL_TOKEN": token}
        shown = CliRunner().invoke(cli, ["case", "show", str(cid)], env=env)
        assert shown.exit_code == 0, shown.output
        decide = ["case", "authorise", str(cid), "--conditions", "x", "--override-reason", "y"]
        refused = CliRunner().invoke(cli, decide, env=env)
        assert "recent authentication" in str(refused.exception)
        assert c.delete(f"/api/tokens/{token_id}", headers=headers).status_code == 204
        gone = CliRunner().invoke(cli, ["case", "show", str(cid)], env=env)
        assert isinstance(gone.exception, AuthenticationFailed)
    finally:
        get_settings.cache_clear()

    # the provider authenticates the person again; the decision is then made
    r = c.get(f"/login/oidc?step_up=1&next=/cases/{cid}", follow_redirects=False)
    query = parse_qs(urlsplit(r.headers["location"]).query)
    assert query["prompt"] == ["login"] and query["max_age"] == ["0"]
    before = datetime.now(UTC).replace(microsecond=0)
    back = urlsplit(oidc.provider.approve(r.headers["location"], "ac-stepper"))
    r = c.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/cases/{cid}"
    r = c.post(f"/api/cases/{cid}/authorise", json=body, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "authorised"
    [entry] = oidc.env.audit("case.authorise")
    auth_time = datetime.fromisoformat(json.loads(entry.detail)["auth_time"])
    # the provider's auth_time for the new authentication, not the aged session's
    assert before - timedelta(seconds=5) <= auth_time <= datetime.now(UTC) + timedelta(seconds=5)
