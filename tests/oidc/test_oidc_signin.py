"""Sign-in through a real OpenID Connect provider process (issue 16): each mapped role, a group
removed, a replayed state, forged / expired / wrong-audience ID tokens, a replayed nonce, a key
rotation, break-glass, step-up through the provider. SQLite and PostgreSQL where the database
matters (the account store); the token checks are the relying party's own."""

from __future__ import annotations

import secrets
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.oidc.conftest import CLIENT_ID, CLIENT_SECRET, ROLES, OidcEnv, Provider, oidc_app
from tests.security._identity import PASSWORD, login_form
from vigil.clock import FixedClock
from vigil.db.identity import AuthenticationFailed
from vigil.http.oidc import OidcClient, OidcConfig


def test_each_mapped_group_signs_in_with_its_role(oidc: OidcEnv) -> None:
    for n, (group, (role, rank, borough)) in enumerate(ROLES.items()):
        sub = f"officer-{n}"
        oidc.provider.set_user(sub, ["staff", group])
        c = TestClient(oidc.env.app)
        r = oidc.sign_in(c, sub)
        assert r.status_code == 303, r.text
        me = c.get("/api/me").json()
        assert (me["role"], me["rank"], me["borough"]) == (role, rank, borough), group
        assert me["username"] == f"idp.{sub}"
    assert "signin.success" in oidc.env.audit_actions()
    # authorising powers from the provider are audited and shown to oversight
    assert oidc.env.audit("account.idp_grant")
    notices = TestClient(oidc.env.app).get(
        "/api/identity/notices", headers=oidc.env.bearer("admin")
    )
    assert any(n["kind"] == "idp_grant" for n in notices.json())


def test_a_removed_group_loses_access_at_the_next_sign_in(oidc: OidcEnv) -> None:
    oidc.provider.set_user("mover", ["vigil-authorisers-ac"])
    c = TestClient(oidc.env.app)
    assert oidc.sign_in(c, "mover").status_code == 303
    r = c.post("/api/tokens", json={"name": "script"}, headers={"X-CSRF-Token": _csrf(c)})
    token = r.json()["token"]
    api = TestClient(oidc.env.app)
    assert api.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    # demoted: the next session has the new rights
    oidc.provider.set_user("mover", ["vigil-analysts"])
    c2 = TestClient(oidc.env.app)
    assert oidc.sign_in(c2, "mover").status_code == 303
    assert c2.get("/api/me").json()["role"] == "analyst"
    assert "account.idp_sync" in oidc.env.audit_actions()
    # removed from every mapped group: refused, and what it held ends
    oidc.provider.set_user("mover", ["staff"])
    r = oidc.sign_in(TestClient(oidc.env.app), "mover")
    assert r.status_code == 401 and "no Vigil role" in r.text
    assert api.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert c2.get("/api/me").status_code == 401


def _csrf(c: TestClient) -> str:
    import re

    page = c.get("/account/password", headers={"Accept": "text/html"}).text
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_a_replayed_state_or_a_foreign_browser_is_refused(oidc: OidcEnv) -> None:
    oidc.provider.set_user("replay", ["vigil-analysts"])
    c = TestClient(oidc.env.app)
    r = c.get("/login/oidc", follow_redirects=False)
    back = urlsplit(oidc.provider.approve(r.headers["location"], "replay"))
    callback = f"{back.path}?{back.query}"
    # another browser (no binding cookie) cannot use the code and state
    r = TestClient(oidc.env.app).get(callback, follow_redirects=False)
    assert r.status_code == 401 and "another browser" in r.text
    # the state was single use even so
    r = c.get(callback, follow_redirects=False)
    assert r.status_code == 401 and "already used" in r.text
    # an honest round trip, then its callback replayed
    ok = urlsplit(
        oidc.provider.approve(
            c.get("/login/oidc", follow_redirects=False).headers["location"], "replay"
        )
    )
    assert c.get(f"{ok.path}?{ok.query}", follow_redirects=False).status_code == 303
    c.cookies.delete("vigil_session")
    r = c.get(f"{ok.path}?{ok.query}", follow_redirects=False)
    assert r.status_code == 401 and "already used" in r.text


# ---------------------------------------------------------------------- the ID token checks
def _relying_party(provider: Provider, clock: FixedClock, client_id: str = CLIENT_ID) -> OidcClient:
    config = OidcConfig(
        issuer=provider.issuer,
        client_id=client_id,
        client_secret=CLIENT_SECRET,
        redirect_uri="http://127.0.0.1:8000/auth/callback",
        max_skew=120,
    )
    return OidcClient(config, clock)


def _real_id_token(provider: Provider, rp: OidcClient, sub: str) -> tuple[str, str]:
    """A genuine ID token for ``sub`` from the provider, and the nonce it was asked with."""
    provider.set_user(sub, ["vigil-analysts"])
    state, nonce, verifier = (secrets.token_urlsafe(24) for _ in range(3))
    verifier += secrets.token_urlsafe(24)
    back = provider.approve(rp.authorization_url(state, nonce, verifier), sub)
    query = parse_qs(urlsplit(back).query)
    assert query["state"] == [state]
    return rp.exchange(query["code"][0], verifier), nonce


@pytest.fixture
def rp(provider: Provider) -> OidcClient:
    from datetime import UTC, datetime

    return _relying_party(provider, FixedClock(datetime.now(UTC)))


def test_a_genuine_id_token_passes(rp: OidcClient, provider: Provider) -> None:
    token, nonce = _real_id_token(provider, rp, "genuine")
    claims = rp.validate(token, nonce)
    assert claims["sub"] == "genuine" and claims["groups"] == ["vigil-analysts"]


def test_a_forged_id_token_is_refused(rp: OidcClient, provider: Provider) -> None:
    token, nonce = _real_id_token(provider, rp, "forged")
    real = jwt.decode(token, rp.keys())
    claims = {**real.claims, "groups": ["vigil-authorisers-ac"]}
    attacker_key = RSAKey.generate_key(2048)
    header = {"alg": "RS256", **({"kid": real.header["kid"]} if "kid" in real.header else {})}
    forged = jwt.encode(header, claims, attacker_key)
    with pytest.raises(AuthenticationFailed, match="bad signature"):
        rp.validate(forged, nonce)
    # and an unsigned one
    unsigned = token.rsplit(".", 1)[0] + "."
    with pytest.raises(AuthenticationFailed):
        rp.validate(unsigned, nonce)


def test_an_expired_id_token_is_refused_within_the_skew(rp: OidcClient, provider: Provider) -> None:
    token, nonce = _real_id_token(provider, rp, "late")
    clock: FixedClock = rp._clock  # type: ignore[assignment]
    clock.advance(timedelta(seconds=provider.token_max_age + 100))  # inside the 120 s skew
    assert rp.validate(token, nonce)["sub"] == "late"
    clock.advance(timedelta(seconds=30))  # past exp + skew
    with pytest.raises(AuthenticationFailed, match="expired"):
        rp.validate(token, nonce)


def test_a_token_for_another_client_is_refused(rp: OidcClient, provider: Provider) -> None:
    other = _relying_party(provider, rp._clock, client_id="another-app")  # type: ignore[arg-type]
    token, nonce = _real_id_token(provider, other, "elsewhere")
    with pytest.raises(AuthenticationFailed, match="aud"):
        rp.validate(token, nonce)


def test_a_replayed_nonce_is_refused(rp: OidcClient, provider: Provider) -> None:
    token, _ = _real_id_token(provider, rp, "replayer")
    with pytest.raises(AuthenticationFailed, match="nonce"):
        rp.validate(token, "the nonce of another sign-in")


def test_key_rotation_is_followed(tmp_path, provider: Provider) -> None:
    o = oidc_app(tmp_path, provider)
    o.provider.set_user("rotor", ["vigil-analysts"])
    assert o.sign_in(TestClient(o.env.app), "rotor").status_code == 303
    before = o.env.app.state.ctx.oidc.keys().as_dict()
    provider.restart()  # a new signing key
    o.provider.set_user("rotor", ["vigil-analysts"])
    assert o.sign_in(TestClient(o.env.app), "rotor").status_code == 303
    after = o.env.app.state.ctx.oidc.keys().as_dict()
    assert before != after


# ---------------------------------------------------------------------- break-glass, step-up
def test_break_glass_sign_in_is_reported_or_switched_off(tmp_path, provider: Provider) -> None:
    o = oidc_app(tmp_path / "open", provider)
    assert login_form(TestClient(o.env.app), "analyst", PASSWORD).status_code == 303
    assert "signin.break_glass" in o.env.audit_actions()
    notices = TestClient(o.env.app).get("/api/identity/notices", headers=o.env.bearer("admin"))
    assert [n["kind"] for n in notices.json()] == ["break_glass"]
    shut = oidc_app(tmp_path / "shut", provider, break_glass=False)
    r = login_form(TestClient(shut.env.app), "analyst", PASSWORD)
    assert r.status_code == 403


def test_step_up_through_the_provider(oidc: OidcEnv) -> None:
    oidc.provider.set_user("stepper", ["vigil-authorisers-ac"])
    c = TestClient(oidc.env.app)
    assert oidc.sign_in(c, "stepper").status_code == 303
    csrf = _csrf(c)
    # the session signed in twenty minutes ago (the provider's clock is the real one, so the
    # session is aged rather than the app's clock moved)
    from sqlalchemy import update

    from vigil.db.identity import SessionRow

    with oidc.env.sf.begin() as s:
        s.execute(
            update(SessionRow).values(authenticated_at=oidc.env.clock.now() - timedelta(minutes=20))
        )
    r = c.post("/api/cases/999/authorise", json={}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 403 and "recent authentication" in r.json()["detail"]
    r = c.get("/login/oidc?step_up=1&next=/cases/999", follow_redirects=False)
    query = parse_qs(urlsplit(r.headers["location"]).query)
    assert query["prompt"] == ["login"] and query["max_age"] == ["0"]
    # the provider authenticates the person again
    back = urlsplit(oidc.provider.approve(r.headers["location"], "stepper"))
    r = c.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/cases/999"
    assert "session.step_up" in oidc.env.audit_actions()
    r = c.post("/api/cases/999/authorise", json={}, headers={"X-CSRF-Token": csrf})
    assert "recent authentication" not in r.text


def test_provider_unreachable_is_a_clear_error(tmp_path) -> None:
    dead = Provider(port=1, token_max_age=60)
    o = oidc_app(tmp_path, dead)
    r = TestClient(o.env.app).get("/login/oidc", follow_redirects=False)
    assert r.status_code >= 400 and "unreachable" in r.text
