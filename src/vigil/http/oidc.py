"""Signing in through the force's OpenID Connect provider (Entra ID, Keycloak, ...).

Authorization code flow with PKCE (S256), built on Authlib's OAuth2 client; ID tokens checked
with joserfc (Authlib's JOSE successor): signature against the provider's JWKS (fetched again
once when a token names a key it does not hold, which is how key rotation is followed),
issuer, audience (and ``azp`` when there are several), expiry and issue time within a bounded
clock skew, and the nonce of this very sign-in. The state is single use and bound to the
browser that started the sign-in (:meth:`IdentityStore.take_external`).

The provider's document and keys are fetched with a short timeout and cached; nothing here
trusts the browser for anything but the authorization code.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from joserfc import errors as jose_errors
from joserfc import jwt
from joserfc.jwk import KeySet

from vigil.clock import Clock
from vigil.db.identity import AuthenticationFailed
from vigil.errors import VigilError

#: ID token signature algorithms accepted (never "none", never HMAC with a public secret)
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384")


class OidcError(VigilError):
    """The identity provider could not be reached or answered something unusable."""


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    scopes: str = "openid profile email"
    #: largest clock difference tolerated between Vigil and the provider, in seconds
    max_skew: int = 120


class OidcClient:
    """One relying party: discovery, keys, the authorization URL, the code exchange and the
    ID token checks."""

    def __init__(self, config: OidcConfig, clock: Clock, http: httpx.Client | None = None):
        self.config = config
        self._clock = clock
        self._http = http or httpx.Client(timeout=10)
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None

    # ------------------------------------------------------------------ provider documents
    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (cached); its issuer must be the configured one."""
        with self._lock:
            if self._metadata is None:
                url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
                doc = self._get_json(url)
                if doc.get("issuer", "").rstrip("/") != self.config.issuer.rstrip("/"):
                    raise OidcError(
                        f"the discovery document at {url} names issuer {doc.get('issuer')!r}, "
                        f"not the configured {self.config.issuer!r}"
                    )
                self._metadata = doc
            return self._metadata

    def keys(self, *, refresh: bool = False) -> KeySet:
        """The provider's signing keys (cached; ``refresh`` fetches them again)."""
        uri = self.metadata()["jwks_uri"]
        with self._lock:
            if self._keys is None or refresh:
                self._keys = KeySet.import_key_set(self._get_json(uri))  # type: ignore[arg-type]
            return self._keys

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            r = self._http.get(url)
            r.raise_for_status()
            data = r.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise OidcError(f"identity provider unreachable or unusable at {url}: {exc}") from None
        if not isinstance(data, dict):
            raise OidcError(f"identity provider answered {url} with something not an object")
        return data

    # ------------------------------------------------------------------ the flow
    def _oauth(self):  # type: ignore[no-untyped-def]
        from authlib.integrations.httpx_client import OAuth2Client

        return OAuth2Client(
            client_id=self.config.client_id,
            client_secret=self.config.client_secret,
            scope=self.config.scopes,
            redirect_uri=self.config.redirect_uri,
            code_challenge_method="S256",
            timeout=10,
        )

    def authorization_url(
        self, state: str, nonce: str, code_verifier: str, *, step_up: bool = False
    ) -> str:
        """Where to send the browser; a step-up asks the provider to authenticate again now
        (``prompt=login``, ``max_age=0``)."""
        extra: dict[str, Any] = {"nonce": nonce}
        if step_up:
            extra.update(prompt="login", max_age=0)
        url, _ = self._oauth().create_authorization_url(
            self.metadata()["authorization_endpoint"],
            state=state,
            code_verifier=code_verifier,
            **extra,
        )
        return str(url)

    def exchange(self, code: str, code_verifier: str) -> str:
        """The ID token for an authorization code (the PKCE verifier proves we asked for it)."""
        if _loopback(self.config.issuer):
            os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
        try:
            with self._oauth() as client:
                token = client.fetch_token(
                    self.metadata()["token_endpoint"],
                    code=code,
                    code_verifier=code_verifier,
                    grant_type="authorization_code",
                )
        except Exception as exc:  # Authlib raises its own OAuthError and httpx errors
            raise AuthenticationFailed(
                f"the identity provider refused the sign-in: {exc}"
            ) from None
        id_token = token.get("id_token")
        if not id_token:
            raise AuthenticationFailed("the identity provider sent no ID token")
        return str(id_token)

    def validate(self, id_token: str, nonce: str) -> dict[str, Any]:
        """The ID token's claims, once every check passes; else AuthenticationFailed naming
        the check."""
        try:
            token = jwt.decode(id_token, self.keys(), algorithms=ALGORITHMS)
        except (jose_errors.JoseError, ValueError):
            # perhaps a key we do not hold yet: the provider may have rotated its keys (with
            # or without key ids), so fetch them again once and retry
            try:
                token = jwt.decode(id_token, self.keys(refresh=True), algorithms=ALGORITHMS)
            except (jose_errors.JoseError, ValueError) as exc:
                raise AuthenticationFailed(
                    f"ID token refused: bad signature or key ({exc})"
                ) from None
        claims = dict(token.claims)
        now = int(self._clock.now().timestamp())
        registry = jwt.JWTClaimsRegistry(
            now=now,
            leeway=self.config.max_skew,
            iss={"essential": True, "value": self.config.issuer.rstrip("/")},
            aud={"essential": True, "value": self.config.client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            registry.validate(claims)
        except jose_errors.JoseError as exc:
            raise AuthenticationFailed(f"ID token refused: {exc}") from None
        if claims["iat"] > now + self.config.max_skew:
            raise AuthenticationFailed("ID token refused: issued in the future")
        aud = claims["aud"]
        if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != self.config.client_id:
            raise AuthenticationFailed("ID token refused: several audiences and azp is not Vigil")
        return claims

    def auth_time(self, claims: dict[str, Any]) -> datetime:
        """When the provider authenticated the person: ``auth_time``, else the issue time."""
        return datetime.fromtimestamp(int(claims.get("auth_time") or claims["iat"]), tz=UTC)

    def subject(self, claims: dict[str, Any]) -> str:
        return f"{self.config.issuer.rstrip('/')}|{claims['sub']}"

    def logout_url(self, post_logout_redirect_uri: str) -> str | None:
        """The provider's end-session endpoint (RP-initiated logout), if it has one."""
        endpoint = self.metadata().get("end_session_endpoint")
        if not endpoint:
            return None
        from urllib.parse import urlencode

        query = urlencode(
            {
                "client_id": self.config.client_id,
                "post_logout_redirect_uri": post_logout_redirect_uri,
            }
        )
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


def _loopback(url: str) -> bool:
    """Plain http is allowed only to a provider on this machine (tests, development)."""
    from urllib.parse import urlparse

    return urlparse(url).hostname in {"127.0.0.1", "localhost", "::1"}
