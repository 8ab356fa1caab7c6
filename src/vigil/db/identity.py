"""Who may sign in: local accounts, browser sessions and API tokens.

Accounts belong to force staff and oversight members, never to members of the public; each holds
a role (and, for officers, a rank) and nothing else about the person. Passwords are hashed with
argon2; session and API tokens are random and only their SHA-256 digest is stored, so a copy of the
database does not let anyone sign in.

Pluggable sign-in: the web app only ever asks an :class:`IdentityProvider` to turn credentials into
an :class:`~vigil.roles.Actor`. :class:`LocalIdentityProvider` checks local passwords; an OIDC
provider would implement the same protocol (map the ID token's ``sub`` and claims to a row of
``identity_users`` via :meth:`IdentityStore.get_by_username`, ``password_hash`` empty) and be
passed to ``vigil.api.app.create_app(identity_provider=...)``. Sessions and API tokens stay local
either way.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from vigil.clock import Clock, SystemClock, as_utc
from vigil.db.base import Base
from vigil.errors import VigilError
from vigil.roles import Actor, Rank, Role

#: how long a browser session lasts without use before it must sign in again
SESSION_IDLE = timedelta(hours=8)
#: shortest password accepted for a local account
MIN_PASSWORD_LENGTH = 12
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")


class AuthenticationFailed(VigilError):
    """Credentials, session or token were missing, wrong, expired or revoked."""


class IdentityError(VigilError):
    """An account could not be created or changed (bad username, weak password, duplicate)."""


# ---------------------------------------------------------------------- tables
class UserRow(Base):
    __tablename__ = "identity_users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    #: argon2 hash; empty for accounts that sign in through an external provider
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    role: Mapped[str] = mapped_column(String(32), nullable=False)
    rank: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    borough: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: a role title ("Duty inspector, Lambeth"), not a person's name
    display_name: Mapped[str] = mapped_column(String(128), nullable=False, default="")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class SessionRow(Base):
    __tablename__ = "identity_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("identity_users.id", ondelete="CASCADE"), nullable=False
    )
    #: secret the CSRF token of this session is derived from
    csrf_secret: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class ApiTokenRow(Base):
    __tablename__ = "identity_api_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("identity_users.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    revoked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


IDENTITY_TABLES: list[Table] = [
    UserRow.__table__,  # type: ignore[list-item]
    SessionRow.__table__,  # type: ignore[list-item]
    ApiTokenRow.__table__,  # type: ignore[list-item]
]


# ---------------------------------------------------------------------- values
@dataclass(frozen=True)
class User:
    id: str
    username: str
    role: Role
    rank: Rank
    borough: str | None
    display_name: str
    active: bool

    def actor(self) -> Actor:
        return Actor(
            user_id=self.id,
            role=self.role,
            rank=self.rank,
            display_name=self.display_name or self.username,
            borough=self.borough,
        )


@dataclass(frozen=True)
class BrowserSession:
    token: str  # the raw cookie value; only its digest is stored
    csrf_token: str
    user: User


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _user(row: UserRow) -> User:
    return User(
        id=row.id,
        username=row.username,
        role=Role(row.role),
        rank=Rank(row.rank),
        borough=row.borough,
        display_name=row.display_name,
        active=row.active,
    )


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise IdentityError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")


def _by_username(s: Session, username: str) -> UserRow | None:
    """The account of ``username`` (usernames are stored stripped and lower-case)."""
    return s.scalar(select(UserRow).where(UserRow.username == username.strip().lower()))


def _account(s: Session, user_id: str) -> UserRow:
    row = s.get(UserRow, user_id)
    if row is None:
        raise IdentityError(f"no account with id '{user_id}'")
    return row


def csrf_for(csrf_secret: str) -> str:
    """The CSRF token a form of this session must carry (bound to the session, not guessable)."""
    return hmac.new(csrf_secret.encode(), b"vigil-csrf", hashlib.sha256).hexdigest()


class IdentityProvider(Protocol):
    """Turns credentials into a user; the seam where an OIDC provider plugs in."""

    def authenticate(self, username: str, password: str) -> User:  # pragma: no cover
        ...


class IdentityStore:
    """Accounts, sessions and API tokens in the case database."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Clock | None = None,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self._sf = session_factory
        self._clock = clock or SystemClock()
        self._hasher = hasher or PasswordHasher()

    # ------------------------------------------------------------------ accounts
    def create_user(
        self,
        username: str,
        password: str | None,
        role: Role | str,
        *,
        rank: Rank | str | int = Rank.NONE,
        borough: str | None = None,
        display_name: str = "",
    ) -> User:
        """A new account. ``password=None`` makes an account that only an external provider can
        sign in."""
        username = username.strip().lower()
        if not USERNAME_RE.match(username):
            raise IdentityError(
                f"username '{username}' must be 2-63 characters of a-z, 0-9, '.', '_' or '-'"
            )
        try:
            role = Role(role)
        except ValueError:
            roles = ", ".join(r.value for r in Role)
            raise IdentityError(f"unknown role '{role}'; expected one of: {roles}") from None
        try:
            rank = Rank.parse(rank)
        except ValueError as exc:
            raise IdentityError(str(exc)) from None
        if role is Role.AUTHORISING_OFFICER and rank is Rank.NONE:
            raise IdentityError("an authorising_officer account needs a police rank (--rank)")
        if role is Role.LOCAL_COMMANDER and not borough:
            raise IdentityError("a local_commander account needs a borough (--borough)")
        if password is not None:
            _check_password(password)
        row = UserRow(
            id=str(uuid.uuid4()),
            username=username,
            password_hash="" if password is None else self._hasher.hash(password),
            role=role.value,
            rank=int(rank),
            borough=borough,
            display_name=display_name,
            active=True,
            created_at=self._clock.now(),
        )
        try:
            with self._sf.begin() as s:
                s.add(row)
        except IntegrityError:
            raise IdentityError(f"username '{username}' is already taken") from None
        return _user(row)

    def get_user(self, user_id: str) -> User | None:
        with self._sf() as s:
            row = s.get(UserRow, user_id)
            return None if row is None else _user(row)

    def get_by_username(self, username: str) -> User | None:
        with self._sf() as s:
            row = _by_username(s, username)
            return None if row is None else _user(row)

    def list_users(self) -> list[User]:
        with self._sf() as s:
            return [_user(r) for r in s.scalars(select(UserRow).order_by(UserRow.username))]

    def set_active(self, user_id: str, active: bool) -> None:
        with self._sf.begin() as s:
            _account(s, user_id).active = active
            if not active:
                s.query(SessionRow).filter(SessionRow.user_id == user_id).delete()

    def set_password(self, user_id: str, password: str) -> None:
        """Replace an account's password; its browser sessions end."""
        _check_password(password)
        with self._sf.begin() as s:
            row = _account(s, user_id)
            row.password_hash = self._hasher.hash(password)
            s.query(SessionRow).filter(SessionRow.user_id == user_id).delete()

    # ------------------------------------------------------------------ passwords
    def authenticate(self, username: str, password: str) -> User:
        """The user if the password matches; one message for every failure so that a caller
        cannot tell which usernames exist."""
        failure = AuthenticationFailed("wrong username or password")
        with self._sf() as s:
            row = _by_username(s, username)
            if row is None or not row.active or not row.password_hash:
                self._hasher.hash("burn-the-same-time")  # equal work for unknown users
                raise failure
            try:
                self._hasher.verify(row.password_hash, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                raise failure from None
            needs_rehash = self._hasher.check_needs_rehash(row.password_hash)
            user = _user(row)
        if needs_rehash:
            with self._sf.begin() as s:
                s.execute(
                    update(UserRow)
                    .where(UserRow.id == user.id)
                    .values(password_hash=self._hasher.hash(password))
                )
        return user

    # ------------------------------------------------------------------ sessions
    def start_session(self, user: User) -> BrowserSession:
        token = secrets.token_urlsafe(32)
        secret = secrets.token_hex(32)
        now = self._clock.now()
        with self._sf.begin() as s:
            s.add(
                SessionRow(
                    token_hash=_digest(token),
                    user_id=user.id,
                    csrf_secret=secret,
                    created_at=now,
                    expires_at=now + SESSION_IDLE,
                )
            )
        return BrowserSession(token=token, csrf_token=csrf_for(secret), user=user)

    def resolve_session(self, token: str) -> BrowserSession | None:
        """The live session for a cookie value, sliding its expiry forward; None if unknown,
        expired or the account was disabled."""
        if not token:
            return None
        now = self._clock.now()
        with self._sf.begin() as s:
            row = s.get(SessionRow, _digest(token))
            if row is None:
                return None
            if as_utc(row.expires_at) <= now:
                s.delete(row)
                return None
            user_row = s.get(UserRow, row.user_id)
            if user_row is None or not user_row.active:
                return None
            row.expires_at = now + SESSION_IDLE
            return BrowserSession(
                token=token, csrf_token=csrf_for(row.csrf_secret), user=_user(user_row)
            )

    def end_session(self, token: str) -> None:
        with self._sf.begin() as s:
            row = s.get(SessionRow, _digest(token))
            if row is not None:
                s.delete(row)

    # ------------------------------------------------------------------ API tokens
    def issue_token(self, user: User, name: str) -> str:
        """A new bearer token for scripts; the raw value is shown once and never stored."""
        name = name.strip()
        if not name or len(name) > 64:
            raise IdentityError("a token needs a name of 1-64 characters")
        raw = "vgl_" + secrets.token_urlsafe(32)
        with self._sf.begin() as s:
            s.add(
                ApiTokenRow(
                    token_hash=_digest(raw),
                    user_id=user.id,
                    name=name,
                    created_at=self._clock.now(),
                    revoked=False,
                )
            )
        return raw

    def resolve_token(self, raw: str) -> User | None:
        if not raw:
            return None
        with self._sf() as s:
            row = s.get(ApiTokenRow, _digest(raw))
            if row is None or row.revoked:
                return None
            user_row = s.get(UserRow, row.user_id)
            if user_row is None or not user_row.active:
                return None
            return _user(user_row)

    def revoke_token(self, raw: str) -> None:
        with self._sf.begin() as s:
            row = s.get(ApiTokenRow, _digest(raw))
            if row is not None:
                row.revoked = True


class LocalIdentityProvider:
    """Sign-in against local argon2 password hashes."""

    def __init__(self, store: IdentityStore) -> None:
        self._store = store

    def authenticate(self, username: str, password: str) -> User:
        return self._store.authenticate(username, password)


def create_identity_tables(session_factory: sessionmaker[Session]) -> None:
    """Create the identity tables directly (tests and throwaway databases; production runs the
    ``identity`` Alembic branch)."""
    bind = session_factory.kw["bind"]
    Base.metadata.create_all(bind, tables=IDENTITY_TABLES)
