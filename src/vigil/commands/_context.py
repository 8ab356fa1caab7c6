"""What the case and audit commands share: the database and the acting account."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from vigil.cases.policy import load_policy
from vigil.cases.service import CaseService
from vigil.clock import SystemClock
from vigil.commands.db import database_url
from vigil.db.engine import make_engine, make_sessionmaker
from vigil.db.migrate import upgrade
from vigil.settings import get_settings


def session_factory() -> sessionmaker[Session]:
    url = database_url()
    upgrade(url)  # idempotent: a fresh SQLite file is usable at once
    return make_sessionmaker(make_engine(url))


def case_service() -> CaseService:
    return CaseService(session_factory(), SystemClock(), load_policy(get_settings().policy_file))
