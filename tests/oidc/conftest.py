"""A real OpenID Connect provider for the tests: ``oidc-provider-mock`` (PyPI) run as its own
process on a free loopback port, and Vigil configured against it with a claims mapping file.

The mock accepts any client id and secret (no registration), signs ID tokens with an RSA key it
makes at start-up (so a restart is a key rotation), takes users' claims from ``PUT /users/SUB``
and signs in whichever subject its form is given.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.security._identity import Env, build
from vigil.clock import FixedClock
from vigil.db import migrate

CLIENT_ID = "vigil-tests"
CLIENT_SECRET = "vigil-tests-secret"

MAPPING = """\
claim: groups
username_claim: preferred_username
rules:
  - value: vigil-authorisers-ac
    role: authorising_officer
    rank: assistant_commissioner
  - value: vigil-admins
    role: administrator
  - value: vigil-oversight
    role: oversight
  - value: vigil-commanders-westminster
    role: local_commander
    rank: superintendent
    borough: Westminster
  - value: vigil-community
    role: community_lead
  - value: vigil-analysts
    role: analyst
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Provider:
    port: int
    token_max_age: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "AUTHLIB_INSECURE_TRANSPORT": "1"}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "oidc_provider_mock",
                "--port",
                str(self.port),
                "--require-nonce",
                "--token-max-age",
                str(self.token_max_age),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.issuer}/.well-known/openid-configuration").is_success:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("oidc-provider-mock did not start (pip install oidc-provider-mock)")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def restart(self) -> None:
        """A new process: a new signing key (a key rotation); users must be set again."""
        self.stop()
        self.start()

    def set_user(self, sub: str, groups: list[str], username: str | None = None) -> None:
        claims = {"groups": groups, "preferred_username": username or sub, "name": sub}
        r = httpx.put(f"{self.issuer}/users/{sub}", json=claims)
        assert r.status_code == 204, r.text

    def approve(self, authorize_url: str, sub: str) -> str:
        """The person signs in at the provider as ``sub``: the redirect back to Vigil."""
        r = httpx.post(authorize_url, data={"sub": sub}, follow_redirects=False)
        assert r.status_code == 302, r.text
        return r.headers["location"]


@pytest.fixture(scope="session")
def provider() -> Iterator[Provider]:
    os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
    p = Provider(port=_free_port(), token_max_age=60)
    p.start()
    try:
        yield p
    finally:
        p.stop()


@dataclass
class OidcEnv:
    env: Env
    provider: Provider
    mapping: Path

    def sign_in(self, c: TestClient, sub: str):  # type: ignore[no-untyped-def]
        """The whole browser round trip, redirects followed by hand: Vigil's answer to the
        callback."""
        r = c.get("/login/oidc", follow_redirects=False)
        assert r.status_code == 303, r.text
        back = self.provider.approve(r.headers["location"], sub)
        parts = urlsplit(back)
        return c.get(f"{parts.path}?{parts.query}", follow_redirects=False)


def oidc_app(tmp: Path, provider: Provider, db_url: str | None = None, **settings) -> OidcEnv:  # type: ignore[no-untyped-def]
    tmp.mkdir(parents=True, exist_ok=True)
    mapping = tmp / "claims.yaml"
    mapping.write_text(MAPPING)
    if db_url is None:
        db_url = f"sqlite:///{tmp / 'vigil.db'}"
        migrate.upgrade(db_url)
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    settings.setdefault("oidc_redirect_uri", "http://127.0.0.1:8000/auth/callback")
    env = build(
        db_url,
        clock,
        tmp,
        oidc_issuer=provider.issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
        oidc_claims_map=mapping,
        **settings,
    )
    return OidcEnv(env, provider, mapping)


@pytest.fixture
def oidc(db_url, tmp_path, provider) -> OidcEnv:  # type: ignore[no-untyped-def]
    return oidc_app(tmp_path, provider, db_url)


# The provider groups of the test mapping and the (role, rank, borough) each must give.
ROLES = {
    "vigil-analysts": ("analyst", "none", None),
    "vigil-commanders-westminster": ("local_commander", "superintendent", "Westminster"),
    "vigil-community": ("community_lead", "none", None),
    "vigil-authorisers-ac": ("authorising_officer", "assistant_commissioner", None),
    "vigil-oversight": ("oversight", "none", None),
    "vigil-admins": ("administrator", "none", None),
}
