"""An app over the ``db_url`` database (SQLite and PostgreSQL) with a FixedClock and a few
accounts, for the account and sign-in attacks of tests/security."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from vigil.clock import FixedClock
from vigil.db.audit import AuditEntry
from vigil.db.engine import make_engine, make_sessionmaker
from vigil.db.identity import IdentityStore
from vigil.server import create_app
from vigil.settings import Settings, _find_shared_data

PASSWORD = "correct horse battery staple"
#: username, role, rank, borough
SEED = [
    ("admin", "administrator", "none", None),
    ("admin2", "administrator", "none", None),
    ("analyst", "analyst", "none", None),
    ("ao", "authorising_officer", "commander", None),
]


@dataclass
class Env:
    app: FastAPI
    clock: FixedClock
    sf: sessionmaker[Session]
    ids: IdentityStore
    tokens: dict[str, str]
    user_ids: dict[str, str]

    def bearer(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def audit_actions(self) -> list[str]:
        with self.sf() as s:
            return list(s.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))

    def audit(self, action: str) -> list[AuditEntry]:
        with self.sf() as s:
            query = select(AuditEntry).where(AuditEntry.action == action)
            return list(s.scalars(query.order_by(AuditEntry.seq)))


def build(db_url: str, clock: FixedClock, tmp: Path, **more: object) -> Env:
    sf = make_sessionmaker(make_engine(db_url))
    settings = Settings(
        data_dir=tmp,
        database_url=db_url,
        shared_data=_find_shared_data(),
        **more,  # type: ignore[arg-type]
    )
    app = create_app(settings, clock, sf, surface_source=lambda: None)
    ids: IdentityStore = app.state.ctx.identity
    tokens, user_ids = {}, {}
    for username, role, rank, borough in SEED:
        user = ids.create_user(username, PASSWORD, role, rank=rank, borough=borough)
        tokens[username] = ids.issue_token(user, "tests")
        user_ids[username] = user.id
    return Env(app, clock, sf, ids, tokens, user_ids)


def login_form(c: TestClient, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    """POST the sign-in form (with the CSRF cookie a GET /login set); redirects not followed."""
    if not c.cookies.get("vigil_login_csrf"):
        c.get("/login")
    data = {"username": username, "password": password, "csrf_token": c.cookies["vigil_login_csrf"]}
    return c.post("/login", data=data, follow_redirects=False)


def signed_in(app: FastAPI, username: str, password: str = PASSWORD) -> tuple[TestClient, str]:
    """A browser-like client signed in through the form, and its CSRF token."""
    c = TestClient(app)
    r = login_form(c, username, password)
    assert r.status_code == 303, r.text
    page = c.get("/account/password", headers={"Accept": "text/html"}).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None
    return c, csrf.group(1)


#: accounts ``with_every_role`` adds: username, role, rank, borough
MORE_ROLES = [
    ("lambeth", "local_commander", "chief_superintendent", "Lambeth"),
    ("community", "community_lead", "none", None),
    ("oversight", "oversight", "none", None),
]


def with_every_role(env: Env) -> Env:
    """``env`` with an account of every role (a Lambeth commander, a community lead and
    oversight added to ``SEED``), each with a token."""
    for username, role, rank, borough in MORE_ROLES:
        user = env.ids.create_user(username, PASSWORD, role, rank=rank, borough=borough)
        env.tokens[username] = env.ids.issue_token(user, "tests")
        env.user_ids[username] = user.id
    return env


def role_users(env: Env) -> dict[str, str]:
    """One username per role of ``env``'s accounts (the first of each)."""
    out: dict[str, str] = {}
    for username, role, _, _ in [*SEED, *MORE_ROLES]:
        if username in env.tokens:
            out.setdefault(role, username)
    return out
