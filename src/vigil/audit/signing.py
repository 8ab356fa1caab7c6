"""The checkpoint signing key: Ed25519, in a PEM file kept outside the database.

Why asymmetric: whoever verifies a checkpoint (oversight, a witness, a court) needs only the
public key, which cannot sign; a database administrator who can rewrite every row of the log
still cannot sign a checkpoint over the rewritten log without the private key file, which lives
on the application host (or an HSM in front of it), not in the database or its backups.

``vigil audit keygen --out FILE`` creates a key; ``VIGIL_AUDIT_KEY_FILE`` points the server at
it. In production mode (``VIGIL_MODE=production``) the server refuses to start without one; in
development a key is generated under the data directory, with a warning, so demos and tests run.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from vigil.errors import VigilError
from vigil.settings import Settings

ALGORITHM = "Ed25519"
#: where development mode keeps its generated key (never acceptable in production)
DEV_KEY_NAME = "audit-signing-key.dev.pem"

log = logging.getLogger(__name__)


class SigningKeyError(VigilError):
    """The audit signing key is missing, unreadable or not acceptable here."""


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_of(key: Ed25519PublicKey) -> str:
    """A short, stable name for a public key: the first 16 hex digits of SHA-256 of its bytes."""
    return hashlib.sha256(_raw_public(key)).hexdigest()[:16]


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


@dataclass(frozen=True)
class Verifier:
    """A trusted public key."""

    key: Ed25519PublicKey

    @property
    def key_id(self) -> str:
        return key_id_of(self.key)

    def verify(self, signature_hex: str, message: bytes) -> bool:
        try:
            self.key.verify(bytes.fromhex(signature_hex), message)
        except (InvalidSignature, ValueError):
            return False
        return True

    @classmethod
    def load(cls, path: str | Path) -> Verifier:
        """A public key PEM (``*.pub``) or, for convenience, the private key file itself."""
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SigningKeyError(f"public key {path}: cannot read it ({exc.strerror})") from exc
        try:
            if b"PRIVATE KEY" in data:
                return cls(Signer.load(path).private.public_key())
            key = serialization.load_pem_public_key(data)
        except ValueError as exc:
            raise SigningKeyError(f"public key {path}: not a PEM public key ({exc})") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise SigningKeyError(f"public key {path}: not an Ed25519 key")
        return cls(key)


@dataclass(frozen=True)
class Signer:
    """The private key, and where it came from."""

    private: Ed25519PrivateKey
    path: Path

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.private.public_key())

    @property
    def key_id(self) -> str:
        return key_id_of(self.private.public_key())

    def sign(self, message: bytes) -> str:
        return self.private.sign(message).hex()

    @classmethod
    def load(cls, path: str | Path) -> Signer:
        path = Path(path)
        if not path.is_file():
            raise SigningKeyError(
                f"audit signing key {path} does not exist: create one with "
                f"`vigil audit keygen --out {path}`"
            )
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (ValueError, TypeError) as exc:
            raise SigningKeyError(
                f"audit signing key {path}: not an unencrypted PEM private key ({exc})"
            ) from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyError(f"audit signing key {path}: not an Ed25519 key")
        return cls(key, path)


def generate(path: str | Path, *, overwrite: bool = False) -> Signer:
    """A new key in ``path`` (mode 0600) and its public half in ``path.pub``; refuses to
    replace an existing key unless ``overwrite`` (rotation keeps the old public key: see
    docs/security.md)."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise SigningKeyError(f"{path} already exists; refusing to replace a signing key")
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    os.replace(tmp, path)
    Path(str(path) + ".pub").write_text(public_pem(key.public_key()))
    return Signer(key, path)


def signer_from_settings(settings: Settings) -> Signer:
    """The key the server signs with.

    Production: ``VIGIL_AUDIT_KEY_FILE`` must name an existing Ed25519 key that is not the
    development key; otherwise :class:`SigningKeyError` says how to make one. Development: the
    configured file, or a key generated under the data directory (with a warning)."""
    production = settings.mode == "production"
    if settings.audit_key_file is not None:
        path = Path(settings.audit_key_file)
        if production and path.name == DEV_KEY_NAME:
            raise SigningKeyError(
                f"VIGIL_AUDIT_KEY_FILE={path} is the generated development key; production "
                "needs its own: `vigil audit keygen --out /etc/vigil/audit-signing-key.pem`, "
                "then set VIGIL_AUDIT_KEY_FILE to it"
            )
        return Signer.load(path)
    if production:
        raise SigningKeyError(
            "VIGIL_MODE=production needs an audit signing key kept outside the database: "
            "run `vigil audit keygen --out /etc/vigil/audit-signing-key.pem` (readable only by "
            "the service account) and set VIGIL_AUDIT_KEY_FILE to that path"
        )
    path = Path(settings.data_dir) / DEV_KEY_NAME
    if path.is_file():
        return Signer.load(path)
    log.warning(
        "no VIGIL_AUDIT_KEY_FILE: generated a development audit signing key at %s; "
        "production must use `vigil audit keygen` and VIGIL_MODE=production",
        path,
    )
    return generate(path)


def trusted_verifiers(settings: Settings, extra: list[Path] | None = None) -> list[Verifier]:
    """Public keys a checkpoint may be signed with: ``extra`` files (pinned by the verifier),
    the configured signing key's public half, and the keys published in the witness directory
    (``keys/*.pub``, written there when each key was first used)."""
    found: dict[str, Verifier] = {}
    for p in extra or []:
        v = Verifier.load(p)
        found[v.key_id] = v
    own = settings.audit_key_file or Path(settings.data_dir) / DEV_KEY_NAME
    if Path(own).is_file():  # verifying never creates a key
        v = Signer.load(own).verifier
        found.setdefault(v.key_id, v)
    witness = settings.witness_dir
    if witness is not None and (Path(witness) / "keys").is_dir():
        for p in sorted((Path(witness) / "keys").glob("*.pub")):
            v = Verifier.load(p)
            found.setdefault(v.key_id, v)
    return list(found.values())
