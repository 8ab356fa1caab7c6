"""What the case and audit commands share: the database and the acting account."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from vigil.cases.policy import load_policy
from vigil.cases.service import CaseService
from vigil.clock import SystemClock
from vigil.commands.db import database_url
from vigil.db.engine import make_engine, make_sessionmaker
from vigil.db.migrate import upgrade
from vigil.errors import VigilError
from vigil.impact.case_service import case_service as build_case_service
from vigil.roles import Actor, Rank, Role
from vigil.settings import get_settings


def session_factory() -> sessionmaker[Session]:
    url = database_url()
    upgrade(url)  # idempotent: a fresh SQLite file is usable at once
    return make_sessionmaker(make_engine(url))


def case_service() -> CaseService:
    return build_case_service(
        session_factory(), SystemClock(), load_policy(get_settings().policy_file)
    )


def acting_actor(user: str, role: str, rank: str = "none", borough: str | None = None) -> Actor:
    """The acting account from ``--as``, ``--role``, ``--rank`` and ``--borough``; an unknown role
    or rank is refused, naming the option."""
    try:
        parsed_role = Role(role)
    except ValueError:
        raise VigilError(
            f"--role '{role}' unknown; expected one of: {', '.join(r.value for r in Role)}"
        ) from None
    try:
        parsed_rank = Rank.parse(rank)
    except ValueError as exc:
        raise VigilError(f"--rank: {exc}") from None
    return Actor(user_id=user, role=parsed_role, rank=parsed_rank, borough=borough)
