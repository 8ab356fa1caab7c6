"""The identity layer: argon2 passwords, hashed session and API tokens, role rules for accounts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from vigil.db.engine import make_engine, make_sessionmaker
from vigil.db.identity import (
    ApiTokenRow,
    AuthenticationFailed,
    IdentityError,
    IdentityStore,
    SessionRow,
    UserRow,
    create_identity_tables,
)
from vigil.roles import Rank, Role


@pytest.fixture
def store(session_factory, clock):
    """On both backends: a fresh database migrated to every head (tests/conftest.py)."""
    return IdentityStore(session_factory, clock), session_factory


def test_password_is_argon2_hashed_and_checked(store):
    ids, sf = store
    user = ids.create_user("Analyst.One", "correct horse battery", Role.ANALYST)
    assert user.username == "analyst.one"
    with sf() as s:
        row = s.scalar(select(UserRow))
    assert row.password_hash.startswith("$argon2id$")
    assert "correct horse" not in row.password_hash
    assert ids.authenticate("ANALYST.ONE", "correct horse battery").id == user.id
    with pytest.raises(AuthenticationFailed, match="wrong username or password"):
        ids.authenticate("analyst.one", "correct horse batterY")
    with pytest.raises(AuthenticationFailed, match="wrong username or password"):
        ids.authenticate("nobody", "correct horse battery")


def test_account_rules_name_the_problem(store):
    ids, _ = store
    with pytest.raises(IdentityError, match="needs a police rank"):
        ids.create_user("ao", "long enough password", Role.AUTHORISING_OFFICER)
    with pytest.raises(IdentityError, match="needs a borough"):
        ids.create_user("lc", "long enough password", Role.LOCAL_COMMANDER)
    with pytest.raises(IdentityError, match="at least 12"):
        ids.create_user("an", "short", Role.ANALYST)
    with pytest.raises(IdentityError, match="unknown role 'chief'"):
        ids.create_user("an", "long enough password", "chief")
    with pytest.raises(IdentityError, match="unknown rank 'general'"):
        ids.create_user("ao", "long enough password", Role.AUTHORISING_OFFICER, rank="general")
    with pytest.raises(IdentityError, match="username 'a b'"):
        ids.create_user("a b", "long enough password", Role.ANALYST)
    ao = ids.create_user(
        "ao", "long enough password", Role.AUTHORISING_OFFICER, rank="chief superintendent"
    )
    assert ao.rank is Rank.CHIEF_SUPERINTENDENT
    with pytest.raises(IdentityError, match="already taken"):
        ids.create_user("AO", "long enough password", Role.ANALYST)


def test_sessions_store_only_digests_and_expire_on_the_clock(store, clock):
    ids, sf = store
    user = ids.create_user("lead", "long enough password", Role.COMMUNITY_LEAD)
    session = ids.start_session(user)
    with sf() as s:
        row = s.scalar(select(SessionRow))
    assert row.token_hash != session.token and len(row.token_hash) == 64
    resolved = ids.resolve_session(session.token)
    assert resolved is not None and resolved.user.id == user.id
    assert resolved.csrf_token == session.csrf_token
    assert ids.resolve_session("forged") is None
    clock.advance(timedelta(hours=9))
    assert ids.resolve_session(session.token) is None


def test_disabled_account_loses_sessions_and_tokens(store):
    ids, sf = store
    user = ids.create_user("an", "long enough password", Role.ANALYST)
    session = ids.start_session(user)
    token = ids.issue_token(user, "nightly import")
    with sf() as s:
        assert s.scalar(select(ApiTokenRow)).token_hash != token
    assert ids.resolve_token(token).id == user.id
    ids.set_active(user.id, False)
    assert ids.resolve_session(session.token) is None
    assert ids.resolve_token(token) is None
    with pytest.raises(AuthenticationFailed):
        ids.authenticate("an", "long enough password")


def test_revoked_token_is_refused(store):
    ids, _ = store
    user = ids.create_user("an", "long enough password", Role.ANALYST)
    token = ids.issue_token(user, "script")
    ids.revoke_token(token)
    assert ids.resolve_token(token) is None


def test_identity_branch_migrates(tmp_path):
    """The identity tables come from their own Alembic branch, as production builds them."""
    from sqlalchemy import inspect

    from vigil.db import migrate

    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate.upgrade(url, "identity@head")
    names = set(inspect(make_engine(url)).get_table_names())
    assert {"identity_users", "identity_sessions", "identity_api_tokens"} <= names


def test_create_identity_tables_without_migrations(tmp_path, clock):
    """Throwaway databases (scripts, notebooks) can create just the identity tables."""
    sf = make_sessionmaker(make_engine(f"sqlite:///{tmp_path / 'id.db'}"))
    create_identity_tables(sf)
    ids = IdentityStore(sf, clock)
    user = ids.create_user("an", "long enough password", Role.ANALYST)
    assert ids.authenticate("an", "long enough password").id == user.id


def test_a_token_kept_between_requests_stops_working_promptly(store, clock, monkeypatch):
    """Issue 11: a resolved token is kept for a moment (no lookup on every API request), but
    a revocation, a disabled account or a role change written by this process holds from the
    next request, even through another IdentityStore of the process (the CLI's); one written by
    another process (here: straight into the database) within TOKEN_CACHE_SECONDS; and expiry
    by the clock at once."""
    import vigil.db.identity as identity
    from vigil.db.identity import MISS, TOKEN_CACHE_SECONDS

    ids, sf = store
    user = ids.create_user("an", "long enough password", Role.ANALYST)
    token = ids.issue_token(user, "script", lifetime=timedelta(hours=1))
    assert ids.recent_token(token) is MISS  # never resolved yet: it must be looked up
    assert ids.resolve_token(token).role is Role.ANALYST
    assert ids.recent_token(token).id == user.id  # kept: no database work

    # a revocation through another store of the same process: refused at once
    IdentityStore(sf, clock).revoke_token(token)
    assert ids.recent_token(token) is MISS
    assert ids.resolve_token(token) is None

    # a change written by another process: kept at most TOKEN_CACHE_SECONDS
    other = ids.issue_token(user, "other", lifetime=timedelta(hours=1))
    assert ids.resolve_token(other).id == user.id
    with sf.begin() as s:
        s.execute(ApiTokenRow.__table__.update().values(revoked=True))
    now = [identity.time.monotonic()]
    monkeypatch.setattr(identity.time, "monotonic", lambda: now[0])
    assert ids.recent_token(other) is not None  # within the moment it is trusted
    now[0] += TOKEN_CACHE_SECONDS
    assert ids.recent_token(other) is MISS
    assert ids.resolve_token(other) is None

    # the token's own expiry is checked against the clock on every use, kept or not
    third = ids.issue_token(user, "third", lifetime=timedelta(minutes=30))
    assert ids.resolve_token(third).id == user.id
    clock.advance(timedelta(minutes=31))
    assert ids.recent_token(third) is None
    assert ids.resolve_token(third) is None


def test_role_change_and_disabling_hold_from_the_next_request(store):
    ids, _ = store
    admin = ids.create_user("admin", "long enough password", Role.ADMINISTRATOR)
    user = ids.create_user("an", "long enough password", Role.ANALYST)
    token = ids.issue_token(user, "script")
    assert ids.resolve_token(token).role is Role.ANALYST
    ids.change_account(admin.actor(), user.id, role=Role.COMMUNITY_LEAD)
    assert ids.resolve_token(token).role is Role.COMMUNITY_LEAD
    ids.set_active(user.id, False, by=admin.actor())
    assert ids.resolve_token(token) is None
