"""Who may sign in: local accounts, browser sessions, API tokens and grants of privilege.

Accounts belong to force staff and oversight members, never to members of the public; each holds
a role (and, for officers, a rank) and nothing else about the person. Passwords are hashed with
argon2 and checked against the bundled list of breached passwords
(:mod:`vigil.identity.passwords`); session and API tokens are random and only their SHA-256
digest is stored, so a copy of the database does not let anyone sign in.

Privileged accounts are under maker-checker, as in a Privileged Access Manager: granting the
authorising_officer or administrator role, or any police rank or a higher one, is a *request*
that a second administrator must approve (never the requester, never the account itself) within
``request_lifetime``; an approved grant lasts ``grant_lifetime`` and then lapses. Every account,
grant, session and token event is written to the hash-chained audit log in the same transaction
as the change.

Sign-in is throttled per account and per address (:mod:`vigil.identity.throttle`); tokens
expire, can be listed and revoked, and are revoked when the session they were issued from ends,
when the password changes and when the account is disabled.

Pluggable sign-in: the web app only ever asks an :class:`IdentityProvider` to turn credentials into
a :class:`User`. :class:`LocalIdentityProvider` checks local passwords; an OIDC provider maps the
ID token's claims to a row of ``identity_users`` (``password_hash`` empty). Sessions and API
tokens stay local either way.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from vigil.audit.log import GENESIS_HASH, Category, append
from vigil.clock import Clock, SystemClock, as_utc
from vigil.db.audit import AuditEntry, AuditHead
from vigil.db.base import Base
from vigil.errors import DataError, PermissionDenied, VigilError
from vigil.identity import throttle
from vigil.identity.passwords import password_problem
from vigil.lru import Lru
from vigil.roles import Actor, Rank, Role

#: how long a browser session lasts without use before it must sign in again
SESSION_IDLE = timedelta(hours=8)
#: how long an API token lasts unless issued for less (a working day: the command line signs in
#: through a token issued on the web page, as short-lived as the browser session behind it)
TOKEN_LIFETIME = timedelta(hours=12)
#: the longest an API token may be issued for, unless configured otherwise
TOKEN_MAX_LIFETIME = timedelta(days=30)
#: how long an approved grant of privilege lasts before it must be requested again
GRANT_LIFETIME = timedelta(days=365)
#: how long a grant request waits for the second administrator before it lapses
REQUEST_LIFETIME = timedelta(days=3)
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
#: how long a sign-in sent to the identity provider may take to come back
OIDC_REQUEST_LIFETIME = timedelta(minutes=10)
#: roles whose grant needs a second administrator (as does any police rank, or a higher one)
PRIVILEGED_ROLES = frozenset({Role.AUTHORISING_OFFICER, Role.ADMINISTRATOR})

#: who account events are logged under when no signed-in account made them
CONSOLE = Actor(user_id="system:console", role=Role.ADMINISTRATOR, display_name="console")
SIGN_IN = Actor(user_id="system:sign-in", role=Role.ADMINISTRATOR, display_name="sign-in")


class AuthenticationFailed(VigilError):
    """Credentials, session or token were missing, wrong, expired or revoked."""


class SignInThrottled(AuthenticationFailed):
    """Too many failed sign-ins for this account or address: wait ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PasswordChangeRequired(PermissionDenied):
    """The account signed in with an issued password and must choose its own first."""


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
    #: the password was issued by an administrator: the next sign-in must change it
    must_change_password: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: when the approved grant of privilege lapses (None: not a time-bound grant)
    grant_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: "issuer|sub" of an account that signs in through an OpenID Connect provider
    oidc_subject: Mapped[str | None] = mapped_column(String(300), unique=True)


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
    #: when the person last proved who they are in this session (sign-in or step-up)
    authenticated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: how: "password" (local, break-glass under OIDC) or "oidc"
    auth_method: Mapped[str] = mapped_column(String(16), nullable=False, default="password")


class ApiTokenRow(Base):
    __tablename__ = "identity_api_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: public handle for listing and revoking (the token itself is never stored)
    id: Mapped[str | None] = mapped_column(String(36), unique=True)
    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("identity_users.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    revoked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: digest of the browser session it was issued from: signing out there revokes it
    session_hash: Mapped[str | None] = mapped_column(String(64))


class GrantRow(Base):
    """A request for privilege (a privileged role, a rank, or a higher rank) and its decision."""

    __tablename__ = "identity_grants"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("identity_users.id", ondelete="CASCADE"), nullable=False
    )
    #: "create" (a new account, disabled until approved), "enable" (a disabled one) or "change"
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    role: Mapped[str] = mapped_column(String(32), nullable=False)
    rank: Mapped[int] = mapped_column(Integer, nullable=False)
    borough: Mapped[str | None] = mapped_column(String(64))
    previous_role: Mapped[str | None] = mapped_column(String(32))
    previous_rank: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    requested_by: Mapped[str] = mapped_column(String(128), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    request_expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    #: pending, approved, refused or cancelled (a pending request past its time reads expired)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ThrottleRow(Base):
    """Consecutive sign-in failures of one account (digest of the name) or one address."""

    __tablename__ = "identity_signin_throttle"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False)
    last_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OidcRequestRow(Base):
    """A sign-in sent to the identity provider and not yet come back: single use, bound to the
    browser that started it."""

    __tablename__ = "identity_oidc_requests"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    browser_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    nonce: Mapped[str] = mapped_column(String(128), nullable=False)
    code_verifier: Mapped[str] = mapped_column(String(128), nullable=False)
    next: Mapped[str] = mapped_column(String(500), nullable=False)
    #: for a step-up: the session whose authentication time it renews
    session_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class NoticeRow(Base):
    """Something about accounts that oversight must see: a break-glass sign-in, an identity
    provider granting authorising powers."""

    __tablename__ = "identity_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    user_id: Mapped[str | None] = mapped_column(String(36))
    message: Mapped[str] = mapped_column(String(500), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


IDENTITY_TABLES: list[Table] = [
    UserRow.__table__,  # type: ignore[list-item]
    SessionRow.__table__,  # type: ignore[list-item]
    ApiTokenRow.__table__,  # type: ignore[list-item]
    GrantRow.__table__,  # type: ignore[list-item]
    ThrottleRow.__table__,  # type: ignore[list-item]
    OidcRequestRow.__table__,  # type: ignore[list-item]
    NoticeRow.__table__,  # type: ignore[list-item]
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
    must_change_password: bool = False
    #: when the account's grant of privilege lapses (None: not time-bound)
    grant_expires_at: datetime | None = None

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
    #: when the person last proved who they are in this session (for step-up)
    authenticated_at: datetime | None = None
    auth_method: str = "password"


@dataclass(frozen=True)
class TokenInfo:
    """An API token as listed to its owner: never the token itself."""

    id: str
    user_id: str
    name: str
    created_at: datetime
    expires_at: datetime | None
    revoked: bool
    revoked_at: datetime | None

    def live(self, now: datetime) -> bool:
        return not self.revoked and self.expires_at is not None and now < self.expires_at


@dataclass(frozen=True)
class ExternalRequest:
    """A pending sign-in at the identity provider, as the callback needs it."""

    nonce: str
    code_verifier: str
    next: str
    session_hash: str | None
    created_at: datetime


@dataclass(frozen=True)
class Notice:
    """An account event oversight must see (break-glass sign-in, authorising powers granted
    by the identity provider)."""

    id: int
    kind: str
    user_id: str | None
    message: str
    created_at: datetime


@dataclass(frozen=True)
class Grant:
    """A request for privilege as administrators see it."""

    id: str
    user_id: str
    username: str
    kind: str
    role: Role
    rank: Rank
    borough: str | None
    previous_role: str | None
    previous_rank: Rank | None
    reason: str
    requested_by: str
    requested_at: datetime
    request_expires_at: datetime
    status: str
    decided_by: str | None
    decided_at: datetime | None


#: how long (seconds) a process trusts a token it resolved before looking it up again: a token
#: revoked (or an account disabled, or its role changed) by another process stops working
#: within this; by this process, at once (every IdentityStore write forgets what was kept)
TOKEN_CACHE_SECONDS = 1.0
#: "not kept": :meth:`IdentityStore.recent_token` found nothing it may answer from
MISS = object()


class _Epoch:
    """Counts the identity writes of this process: what was resolved before the latest is
    not trusted again."""

    value = 0
    _lock = threading.Lock()

    @classmethod
    def bump(cls) -> None:
        with cls._lock:
            cls.value += 1


_EPOCH = _Epoch


def _live(account: User, expires: datetime, now: datetime) -> User | None:
    """``account`` as a token expiring at ``expires`` presents it at ``now``: None once the
    token expired or the account is inactive (disabled, or its grant lapsed by now)."""
    if expires <= now:
        return None
    if account.grant_expires_at is not None and now >= account.grant_expires_at:
        return None
    return account if account.active else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _lapsed(row: UserRow, now: datetime) -> bool:
    return row.grant_expires_at is not None and now >= as_utc(row.grant_expires_at)


def _user(row: UserRow, now: datetime | None = None) -> User:
    """The account as the app sees it: a lapsed grant of privilege leaves it inactive."""
    lapsed = now is not None and _lapsed(row, now)
    return User(
        id=row.id,
        username=row.username,
        role=Role(row.role),
        rank=Rank(row.rank),
        borough=row.borough,
        display_name=row.display_name,
        active=row.active and not lapsed,
        must_change_password=row.must_change_password,
        grant_expires_at=None if row.grant_expires_at is None else as_utc(row.grant_expires_at),
    )


def _token_info(row: ApiTokenRow) -> TokenInfo:
    return TokenInfo(
        id=row.id or "",
        user_id=row.user_id,
        name=row.name,
        created_at=as_utc(row.created_at),
        expires_at=None if row.expires_at is None else as_utc(row.expires_at),
        revoked=row.revoked,
        revoked_at=None if row.revoked_at is None else as_utc(row.revoked_at),
    )


def _grant(row: GrantRow, username: str, now: datetime) -> Grant:
    status = row.status
    if status == "pending" and now >= as_utc(row.request_expires_at):
        status = "expired"
    return Grant(
        id=row.id,
        user_id=row.user_id,
        username=username,
        kind=row.kind,
        role=Role(row.role),
        rank=Rank(row.rank),
        borough=row.borough,
        previous_role=row.previous_role,
        previous_rank=None if row.previous_rank is None else Rank(row.previous_rank),
        reason=row.reason,
        requested_by=row.requested_by,
        requested_at=as_utc(row.requested_at),
        request_expires_at=as_utc(row.request_expires_at),
        status=status,
        decided_by=row.decided_by,
        decided_at=None if row.decided_at is None else as_utc(row.decided_at),
    )


def _check_password(password: str, username: str | None = None) -> None:
    problem = password_problem(password, username)
    if problem is not None:
        raise IdentityError(problem)


def _by_username(s: Session, username: str) -> UserRow | None:
    """The account of ``username`` (usernames are stored stripped and lower-case)."""
    return s.scalar(select(UserRow).where(UserRow.username == username.strip().lower()))


def _account(s: Session, user_id: str) -> UserRow:
    row = s.get(UserRow, user_id)
    if row is None:
        raise IdentityError(f"no account with id '{user_id}'")
    return row


def _parse_role_rank(role: Role | str, rank: Rank | str | int) -> tuple[Role, Rank]:
    try:
        role = Role(role)
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise IdentityError(f"unknown role '{role}'; expected one of: {roles}") from None
    try:
        rank = Rank.parse(rank)
    except ValueError as exc:
        raise IdentityError(str(exc)) from None
    return role, rank


def _check_role_rules(role: Role, rank: Rank, borough: str | None) -> None:
    if role is Role.AUTHORISING_OFFICER and rank is Rank.NONE:
        raise IdentityError("an authorising_officer account needs a police rank (--rank)")
    if role is Role.LOCAL_COMMANDER and not borough:
        raise IdentityError("a local_commander account needs a borough (--borough)")


def privileged(role: Role, rank: Rank) -> bool:
    """Whether holding ``role`` at ``rank`` is a privilege that needs a second administrator."""
    return role in PRIVILEGED_ROLES or rank > Rank.NONE


def needs_second_approval(
    old: tuple[Role, Rank] | None, new: tuple[Role, Rank], *, lapsed: bool = False
) -> bool:
    """Granting a privileged role, any rank to a new account, or a higher rank, or renewing a
    lapsed grant, needs a second administrator; lowering or keeping privilege does not."""
    role, rank = new
    if not privileged(role, rank):
        return False
    if old is None or lapsed:
        return True
    old_role, old_rank = old
    return (role in PRIVILEGED_ROLES and role is not old_role) or rank > old_rank


def csrf_for(csrf_secret: str) -> str:
    """The CSRF token a form of this session must carry (bound to the session, not guessable)."""
    return hmac.new(csrf_secret.encode(), b"vigil-csrf", hashlib.sha256).hexdigest()


def _audit(
    s: Session,
    actor: Actor,
    action: str,
    at: datetime,
    detail: dict[str, Any],
    category: Category = Category.ALTERATION,
) -> None:
    append(s, actor=actor, action=action, category=category, at=at, detail=detail)


class IdentityProvider(Protocol):
    """Turns credentials into a user; the seam where an OIDC provider plugs in."""

    def authenticate(
        self, username: str, password: str, address: str | None = None
    ) -> User:  # pragma: no cover
        ...


class IdentityStore:
    """Accounts, sessions, API tokens and grants in the case database, every change audited."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Clock | None = None,
        hasher: PasswordHasher | None = None,
        *,
        token_lifetime: timedelta = TOKEN_LIFETIME,
        token_max_lifetime: timedelta = TOKEN_MAX_LIFETIME,
        grant_lifetime: timedelta = GRANT_LIFETIME,
        request_lifetime: timedelta = REQUEST_LIFETIME,
    ) -> None:
        self._sf = session_factory
        self._clock = clock or SystemClock()
        self._hasher = hasher or PasswordHasher()
        self.token_lifetime = token_lifetime
        self.token_max_lifetime = max(token_max_lifetime, token_lifetime)
        self.grant_lifetime = grant_lifetime
        self.request_lifetime = request_lifetime
        #: tokens as last resolved: digest -> (epoch, monotonic deadline, expiry, account)
        self._tokens: Lru[str, tuple[int, float, datetime, User]] = Lru(4096)
        self._accounts: tuple[int, float, list[User]] | None = None

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        """A write transaction; once it has ended (committed or not), every IdentityStore of
        this process forgets the tokens and accounts it had resolved (a revocation, a disabled
        account or a role change holds from the next request on)."""
        try:
            with self._sf.begin() as s:
                yield s
        finally:
            _EPOCH.bump()

    @property
    def clock(self) -> Clock:
        return self._clock

    # ------------------------------------------------------------------ accounts
    def _new_row(
        self,
        username: str,
        password: str | None,
        role: Role | str,
        rank: Rank | str | int,
        borough: str | None,
        display_name: str,
    ) -> UserRow:
        username = username.strip().lower()
        if not USERNAME_RE.match(username):
            raise IdentityError(
                f"username '{username}' must be 2-63 characters of a-z, 0-9, '.', '_' or '-'"
            )
        role, rank = _parse_role_rank(role, rank)
        _check_role_rules(role, rank, borough)
        if password is not None:
            _check_password(password, username)
        now = self._clock.now()
        return UserRow(
            id=str(uuid.uuid4()),
            username=username,
            password_hash="" if password is None else self._hasher.hash(password),
            role=role.value,
            rank=int(rank),
            borough=borough,
            display_name=display_name,
            active=True,
            created_at=now,
            must_change_password=False,
            password_changed_at=None if password is None else now,
        )

    def create_user(
        self,
        username: str,
        password: str | None,
        role: Role | str,
        *,
        rank: Rank | str | int = Rank.NONE,
        borough: str | None = None,
        display_name: str = "",
        must_change_password: bool = False,
        by: Actor = CONSOLE,
    ) -> User:
        """A new account, at once and without a second approval: the operator's seeding path
        (console bootstrap, tests, the demo). Administrators in the app use
        :meth:`request_account`, which puts privilege under maker-checker.

        ``password=None`` makes an account that only an external provider can sign in."""
        row = self._new_row(username, password, role, rank, borough, display_name)
        row.must_change_password = must_change_password and password is not None
        try:
            with self._writing() as s:
                s.add(row)
                s.flush()
                _audit(
                    s,
                    by,
                    "account.create",
                    row.created_at,
                    {"user": row.id, "username": row.username, **_grant_detail(row)},
                    Category.COLLECTION,
                )
        except IntegrityError:
            raise IdentityError(f"username '{row.username}' is already taken") from None
        return _user(row)

    def request_account(
        self,
        by: Actor,
        username: str,
        password: str | None,
        role: Role | str,
        *,
        rank: Rank | str | int = Rank.NONE,
        borough: str | None = None,
        display_name: str = "",
        reason: str = "",
    ) -> tuple[User, Grant | None]:
        """An administrator creates an account. A privileged one (see :func:`privileged`) is
        created disabled with a pending grant that a second administrator must approve; the
        issued password must be changed at first sign-in."""
        _require_admin(by)
        row = self._new_row(username, password, role, rank, borough, display_name)
        row.must_change_password = password is not None
        new = (Role(row.role), Rank(row.rank))
        grant_row = None
        if needs_second_approval(None, new):
            row.active = False
            grant_row = self._grant_row(by, row, "create", new, row.borough, None, reason)
        try:
            with self._writing() as s:
                s.add(row)
                s.flush()
                detail = {"user": row.id, "username": row.username, **_grant_detail(row)}
                _audit(s, by, "account.create", row.created_at, detail, Category.COLLECTION)
                if grant_row is not None:
                    s.add(grant_row)
                    s.flush()
                    _audit(s, by, "grant.request", row.created_at, _request_detail(grant_row))
        except IntegrityError:
            raise IdentityError(f"username '{row.username}' is already taken") from None
        now = self._clock.now()
        return _user(row), None if grant_row is None else _grant(grant_row, row.username, now)

    def change_account(
        self,
        by: Actor,
        user_id: str,
        *,
        role: Role | str | None = None,
        rank: Rank | str | int | None = None,
        borough: str | None = None,
        reason: str = "",
    ) -> tuple[User, Grant | None]:
        """An administrator changes an account's role, rank or borough. Raising privilege (a
        privileged role, a higher rank, renewing a lapsed grant) files a pending grant instead
        of taking effect; anything else takes effect at once. Both are audited."""
        _require_admin(by)
        now = self._clock.now()
        with self._writing() as s:
            row = _account(s, user_id)
            old = (Role(row.role), Rank(row.rank))
            new_role, new_rank = _parse_role_rank(
                old[0] if role is None else role, old[1] if rank is None else rank
            )
            new_borough = row.borough if borough is None else (borough or None)
            _check_role_rules(new_role, new_rank, new_borough)
            # an account that is disabled (or was never approved) comes back only by a grant
            renew = _lapsed(row, now) or not row.active
            if needs_second_approval(old, (new_role, new_rank), lapsed=renew):
                kind = "change" if row.active else "enable"
                grant_row = self._grant_row(
                    by, row, kind, (new_role, new_rank), new_borough, old, reason
                )
                s.add(grant_row)
                s.flush()
                _audit(s, by, "grant.request", now, _request_detail(grant_row))
                return _user(row, now), _grant(grant_row, row.username, now)
            before = _grant_detail(row)
            row.role, row.rank, row.borough = new_role.value, int(new_rank), new_borough
            if not privileged(new_role, new_rank):
                row.grant_expires_at = None
            _audit(
                s,
                by,
                "account.change",
                now,
                {"user": row.id, "before": before, "after": _grant_detail(row), "reason": reason},
            )
            return _user(row, now), None

    def _grant_row(
        self,
        by: Actor,
        row: UserRow,
        kind: str,
        new: tuple[Role, Rank],
        borough: str | None,
        old: tuple[Role, Rank] | None,
        reason: str,
    ) -> GrantRow:
        now = self._clock.now()
        return GrantRow(
            id=str(uuid.uuid4()),
            user_id=row.id,
            kind=kind,
            role=new[0].value,
            rank=int(new[1]),
            borough=borough,
            previous_role=None if old is None else old[0].value,
            previous_rank=None if old is None else int(old[1]),
            reason=reason[:500],
            requested_by=by.user_id,
            requested_at=now,
            request_expires_at=now + self.request_lifetime,
            status="pending",
        )

    def list_grants(self, *, pending_only: bool = False) -> list[Grant]:
        """Grant requests, newest first (a pending one past its time reads ``expired``)."""
        now = self._clock.now()
        with self._sf() as s:
            query = (
                select(GrantRow, UserRow.username)
                .join(UserRow, UserRow.id == GrantRow.user_id)
                .order_by(GrantRow.requested_at.desc(), GrantRow.id)
            )
            grants = [_grant(g, name, now) for g, name in s.execute(query)]
        return [g for g in grants if g.status == "pending"] if pending_only else grants

    def get_grant(self, grant_id: str) -> Grant | None:
        return next((g for g in self.list_grants() if g.id == grant_id), None)

    def decide_grant(self, by: Actor, grant_id: str, *, approve: bool, reason: str = "") -> Grant:
        """A second administrator approves or refuses a pending grant. The requester may not
        decide it, nor may the account that would receive it; an approved grant lasts
        ``grant_lifetime`` and then lapses (the account stops working until it is renewed)."""
        _require_admin(by)
        now = self._clock.now()
        with self._writing() as s:
            g = s.get(GrantRow, grant_id, with_for_update=True)
            if g is None:
                raise IdentityError(f"no grant request with id '{grant_id}'")
            row = _account(s, g.user_id)
            current = _grant(g, row.username, now)
            if current.status != "pending":
                raise IdentityError(f"grant request '{grant_id}' is {current.status}, not pending")
            if approve and by.user_id == g.requested_by:
                raise PermissionDenied(
                    "a grant of privilege needs a second administrator: the administrator "
                    "who requested it may not approve it"
                )
            if approve and by.user_id == g.user_id:
                raise PermissionDenied("no one may approve a grant of privilege to themselves")
            g.status = "approved" if approve else "refused"
            g.decided_by, g.decided_at = by.user_id, now
            detail = {**_request_detail(g), "reason": reason}
            if approve:
                row.role, row.rank, row.borough = g.role, g.rank, g.borough
                row.grant_expires_at = now + self.grant_lifetime
                if g.kind in ("create", "enable"):
                    row.active = True
                detail["grant_expires_at"] = row.grant_expires_at.isoformat()
            _audit(s, by, "grant.approve" if approve else "grant.refuse", now, detail)
            return _grant(g, row.username, now)

    def get_user(self, user_id: str) -> User | None:
        with self._sf() as s:
            row = s.get(UserRow, user_id)
            return None if row is None else _user(row, self._clock.now())

    def get_by_username(self, username: str) -> User | None:
        with self._sf() as s:
            row = _by_username(s, username)
            return None if row is None else _user(row, self._clock.now())

    def list_users_recent(self) -> list[User]:
        """:meth:`list_users`, kept for :data:`TOKEN_CACHE_SECONDS` like a resolved token
        (forgotten at once when this process writes an identity change): for offering a choice
        of accounts in a form, which the action re-checks, not for deciding access."""
        kept = self._accounts
        if kept is not None and kept[0] == _EPOCH.value and time.monotonic() < kept[1]:
            return list(kept[2])
        epoch = _EPOCH.value
        users = self.list_users()
        self._accounts = (epoch, time.monotonic() + TOKEN_CACHE_SECONDS, users)
        return list(users)

    def list_users(self) -> list[User]:
        now = self._clock.now()
        with self._sf() as s:
            return [_user(r, now) for r in s.scalars(select(UserRow).order_by(UserRow.username))]

    def set_active(self, user_id: str, active: bool, *, by: Actor = CONSOLE) -> None:
        """Disable (or re-enable) an account. Disabling ends its sessions, revokes its tokens
        and cancels its pending grants."""
        now = self._clock.now()
        with self._writing() as s:
            row = _account(s, user_id)
            row.active = active
            if not active:
                _end_everything(s, user_id, now)
                s.execute(
                    update(GrantRow)
                    .where(GrantRow.user_id == user_id, GrantRow.status == "pending")
                    .values(status="cancelled", decided_by=by.user_id, decided_at=now)
                )
            action = "account.enable" if active else "account.disable"
            _audit(s, by, action, now, {"user": user_id, "username": row.username})

    def set_password(
        self,
        user_id: str,
        password: str,
        *,
        by: Actor = CONSOLE,
        must_change: bool = False,
    ) -> None:
        """An administrator (or the console) sets an account's password: its sessions end and
        its tokens are revoked; ``must_change`` makes the next sign-in choose a new one."""
        now = self._clock.now()
        with self._writing() as s:
            row = _account(s, user_id)
            _check_password(password, row.username)
            row.password_hash = self._hasher.hash(password)
            row.password_changed_at = now
            row.must_change_password = must_change
            _end_everything(s, user_id, now)
            _audit(s, by, "account.password_reset", now, {"user": user_id})

    def change_password(
        self, user: User, current: str, new: str, *, keep_session: bool = False
    ) -> BrowserSession | None:
        """The account holder changes their own password, proving the current one. Every
        session ends and every token is revoked; with ``keep_session`` a fresh session is
        started for the caller (the old cookie stops working)."""
        now = self._clock.now()
        with self._sf() as s:
            row = _account(s, user.id)
            stored = row.password_hash
        if not stored or not self._verify(stored, current):
            raise AuthenticationFailed("the current password is wrong")
        if hmac.compare_digest(current, new):
            raise IdentityError("the new password must differ from the current one")
        _check_password(new, user.username)
        hashed = self._hasher.hash(new)
        with self._writing() as s:
            row = _account(s, user.id)
            row.password_hash = hashed
            row.password_changed_at = now
            row.must_change_password = False
            revoked = _end_everything(s, user.id, now)
            _audit(s, user.actor(), "account.password_change", now, {"tokens_revoked": revoked})
            fresh = _user(row, now)
        return self.start_session(fresh) if keep_session else None

    # ------------------------------------------------------------------ passwords
    def _verify(self, stored: str | None, password: str) -> bool:
        if not stored:
            self._hasher.hash("burn-the-same-time")  # equal work for unknown users
            return False
        try:
            return bool(self._hasher.verify(stored, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def authenticate(self, username: str, password: str, address: str | None = None) -> User:
        """The user if the password matches, through the sign-in throttle; one message for
        every wrong credential so that a caller cannot tell which usernames exist.

        An attempt while the account or ``address`` must still wait is refused with
        :class:`SignInThrottled` without checking the password. The hash is checked outside
        any transaction (it takes tens of milliseconds on purpose), and every outcome is
        audited: success, failure, throttled attempt, lockout."""
        if "\x00" in username or "\x00" in password:
            # PostgreSQL text cannot hold it (the lookup would fail as a 500); no account can
            raise DataError(
                "contains a NUL character (\\x00): no account name or password can",
                field="username" if "\x00" in username else "password",
            )
        now = self._clock.now()
        keys = [(throttle.account_key(username), throttle.ACCOUNT_RULE)]
        if address:
            keys.append((throttle.address_key(address), throttle.ADDRESS_RULE))
        with self._sf() as s:
            counters = {key: _counter(s, key) for key, _ in keys}
            row = _by_username(s, username)
            actor = SIGN_IN if row is None else _user(row).actor()
            account = None if row is None else row.id
            stored = row.password_hash if row is not None else None
            waits = [throttle.wait(counters[key], rule, now) for key, rule in keys]
            s.rollback()
        longest = max(waits)
        if longest > timedelta(0):
            seconds = max(1, int(-(-longest.total_seconds() // 1)))
            with self._writing() as s:
                _audit(
                    s,
                    actor,
                    "signin.throttled",
                    now,
                    {"user": account, "address": address, "retry_after": seconds},
                )
            raise SignInThrottled(
                f"too many failed sign-ins: try again in {seconds} s", retry_after=seconds
            )
        ok = self._verify(stored, password)
        problem: str | None = None
        with self._writing() as s:
            row = None if account is None else s.get(UserRow, account)
            if ok and row is not None:
                s.execute(delete(ThrottleRow).where(ThrottleRow.key == keys[0][0]))
                problem = self._unusable(row, now)
                outcome = "signin.success" if problem is None else "signin.refused"
                _audit(s, actor, outcome, now, {"address": address, "reason": problem or ""})
                if problem is None and self._hasher.check_needs_rehash(row.password_hash):
                    row.password_hash = self._hasher.hash(password)
            else:
                locked = []
                for key, rule in keys:
                    after = throttle.after_failure(counters[key], rule, now)
                    _store_counter(s, key, after)
                    if after.locked_until is not None and after.failures == rule.lockout_after:
                        locked.append(key.split(":", 1)[0])
                _audit(s, actor, "signin.failure", now, {"user": account, "address": address})
                if locked:
                    _audit(
                        s,
                        actor,
                        "signin.lockout",
                        now,
                        {"user": account, "address": address, "locked": locked},
                    )
        if not ok or row is None:
            raise AuthenticationFailed("wrong username or password")
        if problem is not None:
            raise AuthenticationFailed(problem)
        return _user(row, now)

    @staticmethod
    def _unusable(row: UserRow, now: datetime) -> str | None:
        """Why a correctly authenticated account may still not sign in (told only to someone
        who knew the password)."""
        if _lapsed(row, now):
            return (
                "this account's grant of privilege has lapsed: an administrator must request "
                "it again and a second administrator approve it"
            )
        if not row.active:
            return "this account is disabled or awaits a second administrator's approval"
        return None

    # ------------------------------------------------------------------ sessions
    def start_session(
        self,
        user: User,
        *,
        auth_method: str = "password",
        authenticated_at: datetime | None = None,
    ) -> BrowserSession:
        """A new browser session; ``authenticated_at`` is when the person proved who they are
        (the identity provider's ``auth_time``), default now."""
        token = secrets.token_urlsafe(32)
        secret = secrets.token_hex(32)
        now = self._clock.now()
        authenticated_at = authenticated_at or now
        with self._writing() as s:
            s.add(
                SessionRow(
                    token_hash=_digest(token),
                    user_id=user.id,
                    csrf_secret=secret,
                    created_at=now,
                    expires_at=now + SESSION_IDLE,
                    authenticated_at=authenticated_at,
                    auth_method=auth_method,
                )
            )
        return BrowserSession(
            token=token,
            csrf_token=csrf_for(secret),
            user=user,
            authenticated_at=authenticated_at,
            auth_method=auth_method,
        )

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
            if user_row is None:
                return None
            user = _user(user_row, now)
            if not user.active:
                return None
            row.expires_at = now + SESSION_IDLE
            authenticated = row.authenticated_at or row.created_at
            return BrowserSession(
                token=token,
                csrf_token=csrf_for(row.csrf_secret),
                user=user,
                authenticated_at=as_utc(authenticated),
                auth_method=row.auth_method,
            )

    def reauthenticate(self, token: str, password: str, address: str | None = None) -> datetime:
        """Step-up: the holder of session ``token`` proves their password again (through the
        throttle); the session's authentication time becomes now and is returned."""
        session = self.resolve_session(token)
        if session is None:
            raise AuthenticationFailed("sign in first")
        self.authenticate(session.user.username, password, address)
        now = self._clock.now()
        with self._writing() as s:
            row = s.get(SessionRow, _digest(token))
            if row is None:
                raise AuthenticationFailed("the session ended")
            row.authenticated_at = now
            _audit(s, session.user.actor(), "session.step_up", now, {"method": "password"})
        return now

    def end_session(self, token: str) -> None:
        """Sign out: the session ends and the tokens issued from it are revoked."""
        if not token:
            return
        now = self._clock.now()
        digest = _digest(token)
        with self._writing() as s:
            row = s.get(SessionRow, digest)
            if row is None:
                return
            user_row = s.get(UserRow, row.user_id)
            s.delete(row)
            result = s.execute(
                update(ApiTokenRow)
                .where(ApiTokenRow.session_hash == digest, ApiTokenRow.revoked.is_(False))
                .values(revoked=True, revoked_at=now)
            )
            if user_row is not None:
                _audit(
                    s,
                    _user(user_row).actor(),
                    "session.end",
                    now,
                    {"tokens_revoked": int(getattr(result, "rowcount", 0) or 0)},
                )

    # ------------------------------------------------------------------ API tokens
    def issue_token(
        self,
        user: User,
        name: str,
        *,
        lifetime: timedelta | None = None,
        session_token: str | None = None,
        by: Actor | None = None,
    ) -> str:
        """A new bearer token for scripts (see :meth:`issue_token_info`); the raw value is
        shown once and never stored."""
        raw, _ = self.issue_token_info(
            user, name, lifetime=lifetime, session_token=session_token, by=by
        )
        return raw

    def issue_token_info(
        self,
        user: User,
        name: str,
        *,
        lifetime: timedelta | None = None,
        session_token: str | None = None,
        by: Actor | None = None,
    ) -> tuple[str, TokenInfo]:
        """A new bearer token for scripts and its listing, expiring after ``lifetime`` (default
        ``token_lifetime``, never more than ``token_max_lifetime``); the raw value is shown
        once and never stored. Issued from a browser session (``session_token``), it is revoked
        when that session signs out."""
        name = name.strip()
        if not name or len(name) > 64:
            raise IdentityError("a token needs a name of 1-64 characters")
        lifetime = self.token_lifetime if lifetime is None else lifetime
        if lifetime <= timedelta(0) or lifetime > self.token_max_lifetime:
            most = self.token_max_lifetime.total_seconds() / 3600
            raise IdentityError(f"a token lasts more than 0 and at most {most:g} hours")
        raw = "vgl_" + secrets.token_urlsafe(32)
        now = self._clock.now()
        token_id = str(uuid.uuid4())
        with self._writing() as s:
            row = ApiTokenRow(
                token_hash=_digest(raw),
                id=token_id,
                user_id=user.id,
                name=name,
                created_at=now,
                revoked=False,
                expires_at=now + lifetime,
                session_hash=None if session_token is None else _digest(session_token),
            )
            s.add(row)
            _audit(
                s,
                by or user.actor(),
                "token.issue",
                now,
                {
                    "user": user.id,
                    "token": token_id,
                    "name": name,
                    "expires_at": (now + lifetime).isoformat(),
                },
            )
        return raw, _token_info(row)

    def resolve_token(self, raw: str) -> User | None:
        """The account a bearer token acts as; None if unknown, revoked, expired or the
        account is disabled. See :meth:`recent_token` for what is kept between requests."""
        if not raw:
            return None
        hit = self.recent_token(raw)
        if hit is not MISS:
            return hit  # type: ignore[return-value]
        now = self._clock.now()
        epoch = _EPOCH.value
        with self._sf() as s:
            row = s.execute(
                select(ApiTokenRow.revoked, ApiTokenRow.expires_at, UserRow)
                .join(UserRow, UserRow.id == ApiTokenRow.user_id)
                .where(ApiTokenRow.token_hash == _digest(raw))
            ).one_or_none()
            if row is None or row.revoked or row.expires_at is None:
                return None
            expires = as_utc(row.expires_at)
            account = _user(row.UserRow)  # active as stored; a grant's lapse is checked below
        self._tokens[_digest(raw)] = (
            epoch,
            time.monotonic() + TOKEN_CACHE_SECONDS,
            expires,
            account,
        )
        return _live(account, expires, now)

    def recent_token(self, raw: str) -> User | None | object:
        """The account a token acts as, from what this process resolved less than
        :data:`TOKEN_CACHE_SECONDS` ago with no identity change written by this process since
        (else :data:`MISS`: ask :meth:`resolve_token`). The token's expiry and the account's
        grant are checked against the clock on every call. No database work: the event loop may
        call it (issue 11: two lookups of every API request cost more than the audit entry)."""
        if not raw:
            return None
        digest = _digest(raw)
        kept = self._tokens.get(digest)
        if kept is None:
            return MISS
        epoch, deadline, expires, account = kept
        if epoch != _EPOCH.value or time.monotonic() >= deadline:
            self._tokens.pop(digest)
            return MISS
        return _live(account, expires, self._clock.now())

    def list_tokens(self, user_id: str, *, include_ended: bool = False) -> list[TokenInfo]:
        """An account's tokens, newest first: live ones, or all with ``include_ended``."""
        now = self._clock.now()
        with self._sf() as s:
            rows = s.scalars(
                select(ApiTokenRow)
                .where(ApiTokenRow.user_id == user_id)
                .order_by(ApiTokenRow.created_at.desc())
            )
            tokens = [_token_info(r) for r in rows]
        return tokens if include_ended else [t for t in tokens if t.live(now)]

    def revoke_token(self, raw: str, *, by: Actor | None = None) -> None:
        """Revoke the token ``raw`` (a script giving up its own token)."""
        self._revoke(ApiTokenRow.token_hash == _digest(raw), by)

    def revoke_token_id(self, token_id: str, *, owner: str | None, by: Actor) -> None:
        """Revoke a token by its listed id; ``owner`` limits it to that account's tokens."""
        where = ApiTokenRow.id == token_id
        if owner is not None:
            where = where & (ApiTokenRow.user_id == owner)
        if not self._revoke(where, by):
            raise IdentityError(f"no token with id '{token_id}'")

    def _revoke(self, where: Any, by: Actor | None) -> bool:
        now = self._clock.now()
        with self._writing() as s:
            row = s.scalar(select(ApiTokenRow).where(where))
            if row is None:
                return False
            if not row.revoked:
                row.revoked, row.revoked_at = True, now
                actor = by
                if actor is None:
                    owner = s.get(UserRow, row.user_id)
                    actor = CONSOLE if owner is None else _user(owner).actor()
                _audit(s, actor, "token.revoke", now, {"user": row.user_id, "token": row.id or ""})
            return True

    # ------------------------------------------------------------------ identity provider
    def begin_external(
        self, next_path: str, *, session_token: str | None = None
    ) -> tuple[str, str, str, str]:
        """A new sign-in at the identity provider: (state, nonce, PKCE code verifier, browser
        secret). Only digests of the state and browser secret are stored; the request is
        single use and lasts ``OIDC_REQUEST_LIFETIME``. With ``session_token`` it is a step-up
        of that session."""
        state, nonce, browser = (secrets.token_urlsafe(32) for _ in range(3))
        verifier = secrets.token_urlsafe(64)
        now = self._clock.now()
        with self._writing() as s:
            s.execute(
                delete(OidcRequestRow).where(
                    OidcRequestRow.created_at < now - OIDC_REQUEST_LIFETIME
                )
            )
            s.add(
                OidcRequestRow(
                    state_hash=_digest(state),
                    browser_hash=_digest(browser),
                    nonce=nonce,
                    code_verifier=verifier,
                    next=next_path[:500],
                    session_hash=None if session_token is None else _digest(session_token),
                    created_at=now,
                )
            )
        return state, nonce, verifier, browser

    def take_external(self, state: str, browser: str) -> ExternalRequest:
        """The pending sign-in of ``state``, removed so it cannot be used twice; refused if
        unknown, used, expired or started in another browser."""
        now = self._clock.now()
        with self._writing() as s:
            row = s.get(OidcRequestRow, _digest(state or "-"), with_for_update=True)
            if row is None:
                raise AuthenticationFailed(
                    "unknown, expired or already used sign-in (state): start the sign-in again"
                )
            s.delete(row)
            request = ExternalRequest(
                nonce=row.nonce,
                code_verifier=row.code_verifier,
                next=row.next,
                session_hash=row.session_hash,
                created_at=as_utc(row.created_at),
            )
        if now - request.created_at > OIDC_REQUEST_LIFETIME:
            raise AuthenticationFailed("the sign-in took too long: start it again")
        if not hmac.compare_digest(row.browser_hash, _digest(browser or "-")):
            raise AuthenticationFailed("this sign-in was started in another browser")
        return request

    def sign_in_external(
        self,
        subject: str,
        username: str,
        grant: tuple[Role, Rank, str | None] | None,
        *,
        display_name: str = "",
    ) -> User:
        """The account of an identity-provider ``subject`` with the role, rank and borough its
        claims map to now (``grant``), created on first sign-in. No mapped role: the account is
        disabled (its sessions and tokens end) and the sign-in refused. A change that grants
        authorising powers is audited and shown to oversight."""
        now = self._clock.now()
        with self._writing() as s:
            row = s.scalar(select(UserRow).where(UserRow.oidc_subject == subject))
            if grant is None:
                if row is not None and row.active:
                    row.active = False
                    _end_everything(s, row.id, now)
                    _audit(s, _user(row).actor(), "account.idp_removed", now, {"user": row.id})
            else:
                role, rank, borough = grant
                old = None if row is None else (Role(row.role), Rank(row.rank))
                if row is None:
                    row = UserRow(
                        id=str(uuid.uuid4()),
                        username=_free_username(s, username),
                        password_hash="",
                        role=role.value,
                        rank=int(rank),
                        borough=borough,
                        display_name=display_name[:128],
                        active=True,
                        created_at=now,
                        must_change_password=False,
                        oidc_subject=subject,
                    )
                    s.add(row)
                    s.flush()
                    detail = {"user": row.id, "source": "identity provider", **_grant_detail(row)}
                    _audit(s, _user(row).actor(), "account.create", now, detail)
                elif (row.role, row.rank, row.borough, row.active) != (
                    role.value,
                    int(rank),
                    borough,
                    True,
                ):
                    before = _grant_detail(row)
                    row.role, row.rank, row.borough, row.active = (
                        role.value,
                        int(rank),
                        borough,
                        True,
                    )
                    detail = {"user": row.id, "before": before, "after": _grant_detail(row)}
                    _audit(s, _user(row).actor(), "account.idp_sync", now, detail)
                if role is Role.AUTHORISING_OFFICER and needs_second_approval(old, (role, rank)):
                    message = (
                        f"the identity provider gave {row.username} authorising powers "
                        f"({Rank(rank).name.lower().replace('_', ' ')})"
                    )
                    _audit(s, _user(row).actor(), "account.idp_grant", now, _grant_detail(row))
                    s.add(
                        NoticeRow(kind="idp_grant", user_id=row.id, message=message, created_at=now)
                    )
                _audit(s, _user(row).actor(), "signin.success", now, {"method": "oidc"})
            user = None if row is None else _user(row, now)
        if grant is None or user is None:
            raise AuthenticationFailed(
                "your identity provider account holds no Vigil role: ask for the group that "
                "gives one"
            )
        return user

    def step_up_external(self, session_hash: str, subject: str, auth_time: datetime) -> None:
        """A step-up through the identity provider: the session's authentication time becomes
        ``auth_time``, if the provider signed in the session's own account."""
        now = self._clock.now()
        with self._writing() as s:
            row = s.get(SessionRow, session_hash)
            user_row = None if row is None else s.get(UserRow, row.user_id)
            if row is None or user_row is None or user_row.oidc_subject != subject:
                raise AuthenticationFailed("the step-up signed in another account")
            row.authenticated_at = auth_time
            _audit(s, _user(user_row).actor(), "session.step_up", now, {"method": "oidc"})

    def record_break_glass(self, user: User, address: str | None) -> None:
        """A local password sign-in while the identity provider is the way in: audited, and
        oversight is told."""
        now = self._clock.now()
        with self._writing() as s:
            message = f"break-glass sign-in with a local password by {user.username}"
            s.add(NoticeRow(kind="break_glass", user_id=user.id, message=message, created_at=now))
            _audit(s, user.actor(), "signin.break_glass", now, {"address": address})

    def end_external_sessions(self, subject: str) -> int:
        """The provider says ``subject`` signed out (back-channel logout): end its sessions and
        the tokens issued from them; how many sessions ended."""
        now = self._clock.now()
        with self._writing() as s:
            row = s.scalar(select(UserRow).where(UserRow.oidc_subject == subject))
            if row is None:
                return 0
            hashes = list(
                s.scalars(select(SessionRow.token_hash).where(SessionRow.user_id == row.id))
            )
            s.execute(delete(SessionRow).where(SessionRow.user_id == row.id))
            if hashes:
                s.execute(
                    update(ApiTokenRow)
                    .where(ApiTokenRow.session_hash.in_(hashes), ApiTokenRow.revoked.is_(False))
                    .values(revoked=True, revoked_at=now)
                )
            _audit(s, _user(row).actor(), "session.idp_logout", now, {"sessions": len(hashes)})
            return len(hashes)

    def list_notices(self) -> list[Notice]:
        with self._sf() as s:
            rows = s.scalars(select(NoticeRow).order_by(NoticeRow.id.desc()))
            return [Notice(r.id, r.kind, r.user_id, r.message, as_utc(r.created_at)) for r in rows]


def _free_username(s: Session, wanted: str) -> str:
    """``wanted``, or it with the first free numeric suffix."""
    name, n = wanted[:60], 1
    while s.scalar(select(UserRow.id).where(UserRow.username == name)) is not None:
        n += 1
        name = f"{wanted[:56]}-{n}"
    return name


def _end_everything(s: Session, user_id: str, now: datetime) -> int:
    """End every session of an account and revoke its live tokens; how many tokens."""
    s.execute(delete(SessionRow).where(SessionRow.user_id == user_id))
    result = s.execute(
        update(ApiTokenRow)
        .where(ApiTokenRow.user_id == user_id, ApiTokenRow.revoked.is_(False))
        .values(revoked=True, revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _require_admin(by: Actor) -> None:
    if by.role is not Role.ADMINISTRATOR:
        raise PermissionDenied("only administrators manage accounts")


def _grant_detail(row: UserRow) -> dict[str, Any]:
    return {"role": row.role, "rank": Rank(row.rank).name.lower(), "borough": row.borough}


def _request_detail(g: GrantRow) -> dict[str, Any]:
    return {
        "grant": g.id,
        "user": g.user_id,
        "kind": g.kind,
        "role": g.role,
        "rank": Rank(g.rank).name.lower(),
        "borough": g.borough,
        "previous_role": g.previous_role,
        "previous_rank": None if g.previous_rank is None else Rank(g.previous_rank).name.lower(),
        "requested_by": g.requested_by,
    }


def _counter(s: Session, key: str) -> throttle.Counter | None:
    row = s.get(ThrottleRow, key)
    if row is None:
        return None
    return throttle.Counter(
        failures=row.failures,
        last_failure_at=as_utc(row.last_failure_at),
        locked_until=None if row.locked_until is None else as_utc(row.locked_until),
    )


def _store_counter(s: Session, key: str, counter: throttle.Counter) -> None:
    values = {
        "failures": counter.failures,
        "last_failure_at": counter.last_failure_at,
        "locked_until": counter.locked_until,
    }
    done = s.execute(update(ThrottleRow).where(ThrottleRow.key == key).values(**values))
    if not getattr(done, "rowcount", 0):
        s.execute(insert(ThrottleRow).values(key=key, **values))


class LocalIdentityProvider:
    """Sign-in against local argon2 password hashes."""

    def __init__(self, store: IdentityStore) -> None:
        self._store = store

    def authenticate(self, username: str, password: str, address: str | None = None) -> User:
        return self._store.authenticate(username, password, address)


def create_identity_tables(session_factory: sessionmaker[Session]) -> None:
    """Create the identity tables, and the audit log they write to, directly (tests and
    throwaway databases; production runs the Alembic branches)."""
    bind = session_factory.kw["bind"]
    tables: list[Table] = [AuditEntry.__table__, AuditHead.__table__]  # type: ignore[list-item]
    Base.metadata.create_all(bind, tables=[*tables, *IDENTITY_TABLES])
    with session_factory.begin() as s:
        if s.get(AuditHead, 1) is None:
            s.add(AuditHead(id=1, seq=0, hash=GENESIS_HASH))
