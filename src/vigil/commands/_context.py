"""What the case, report and admin commands share: the database and the signed-in account.

The command line acts as a real account of the account store, never as whatever a flag claims:
an API token (``VIGIL_TOKEN``, or typed at a prompt) or a local username (``--user`` /
``VIGIL_USERNAME``) with its password typed at a prompt (or piped on stdin). Role, rank and
borough come from the account; a token or password that does not verify, an expired or revoked
token or a disabled account is refused (the checks are ``vigil.db.identity``'s, the same the
web app uses).
"""

from __future__ import annotations

import dataclasses
import os
import sys

import typer
from sqlalchemy.orm import Session, sessionmaker

from vigil.cases.policy import load_policy
from vigil.cases.service import CaseService
from vigil.clock import Clock, SystemClock
from vigil.commands.db import database_url
from vigil.db.engine import make_engine, make_sessionmaker
from vigil.db.identity import AuthenticationFailed, IdentityStore
from vigil.db.migrate import upgrade
from vigil.errors import PermissionDenied
from vigil.identity.step_up import step_up_refusal
from vigil.impact.case_service import case_service as build_case_service
from vigil.roles import Actor
from vigil.settings import get_settings

TOKEN_ENV = "VIGIL_TOKEN"
USERNAME_ENV = "VIGIL_USERNAME"

NO_CREDENTIAL = (
    "no credential: the command line acts as a real account. Set VIGIL_TOKEN to an API token "
    "(`vigil users token NAME` issues one), or give --user NAME and type its password"
)


def session_factory() -> sessionmaker[Session]:
    url = database_url()
    upgrade(url)  # idempotent: a fresh SQLite file is usable at once
    return make_sessionmaker(make_engine(url))


def case_service(
    sf: sessionmaker[Session] | None = None, clock: Clock | None = None
) -> CaseService:
    """The case service of the command line: the real clock, unless ``clock`` (the demo's
    season steps a fixed clock through past weeks)."""
    from vigil.app.evaluation_plan import plan_on_open
    from vigil.app.history import store_incident_source

    settings = get_settings()
    return build_case_service(
        sf or session_factory(),
        clock or SystemClock(),
        load_policy(settings.policy_file),
        # the evaluation plan, against what the evaluation can detect on the store's history
        on_open=plan_on_open(store_incident_source(settings.store_dir)),
    )


def _interactive() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def signed_in_actor(sf: sessionmaker[Session], username: str | None = None) -> Actor:
    """The account this command acts as, proved by a token or a password.

    ``username`` (from ``--user``): sign in with that account's password, read from a hidden
    prompt (or the first line of stdin when piped). Otherwise the token in ``VIGIL_TOKEN``, or
    one typed at a hidden prompt when the command runs at a terminal. Anything else is refused
    with :class:`AuthenticationFailed`.
    """
    store = IdentityStore(sf)
    username = username or os.environ.get(USERNAME_ENV) or None
    if username:
        # a hidden prompt at a terminal; piped in (one line on stdin) otherwise, never a flag
        password = typer.prompt(f"password for {username}", hide_input=True)
        # the password was just checked: a fresh authentication (step-up), logged with decisions
        account = store.authenticate(username, password)
        return dataclasses.replace(account.actor(), authenticated_at=SystemClock().now())
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token and _interactive():
        token = typer.prompt("API token", hide_input=True, default="", show_default=False).strip()
    if not token:
        raise AuthenticationFailed(NO_CREDENTIAL)
    user = store.resolve_token(token)
    if user is None:
        raise AuthenticationFailed(f"{TOKEN_ENV}: the API token is unknown, expired or revoked")
    return user.actor()  # a token shows no authentication time: no step-up decisions


def require_step_up(actor: Actor, action: str) -> None:
    """Refuse a decision that needs a recent authentication (``vigil.identity.step_up``) when
    this command's account did not just type its password: a token cannot show one."""
    why = step_up_refusal(
        get_settings(),
        SystemClock().now(),
        action,
        actor.authenticated_at,
        bearer=actor.authenticated_at is None,
    )
    if why is not None:
        raise PermissionDenied(why)
