"""The migrations build the same schema on both backends, and the PostgreSQL trigger keeps the
audit log append-only."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.exc import DBAPIError

from tests.db.pg_server import PostgresUnavailable, start_server
from vigil.db.engine import make_engine
from vigil.db.migrate import alembic_config


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def _every_revision() -> set[str]:
    return {r.revision for r in _script().walk_revisions()}


def _applied(heads: set[str]) -> set[str]:
    """The revisions the recorded heads stand on (down revisions and dependencies)."""
    script, seen, todo = _script(), set(), list(heads)
    while todo:
        rev = script.get_revision(todo.pop())
        if rev is None or rev.revision in seen:
            continue
        seen.add(rev.revision)
        for parent in (rev.down_revision, rev.dependencies):
            if isinstance(parent, str):
                todo.append(parent)
            elif parent:
                todo.extend(parent)
    return seen


CASE_TABLES = {
    "cases",
    "case_consultations",
    "case_impact_assessments",
    "case_authorisations",
    "case_extensions",
    "case_notifications",
    "case_debriefs",
    "audit_log",
    "audit_head",
    "audit_checkpoints",
}


def test_upgrade_heads_creates_every_table(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        names = set(sa.inspect(engine).get_table_names())
        assert names >= CASE_TABLES
        with engine.connect() as conn:
            heads = {r[0] for r in conn.exec_driver_sql("SELECT version_num FROM alembic_version")}
            head = conn.exec_driver_sql("SELECT seq, hash FROM audit_head").one()
        assert _applied(heads) == _every_revision()
        assert tuple(head) == (0, "0" * 64)
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"],
)
def test_postgres_trigger_refuses_changes_to_audit_log(pg_url: str, statement: str) -> None:
    engine = make_engine(pg_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO audit_log (seq, at, actor_id, actor_role, actor_rank, action, "
                "category, justification, detail, prev_hash, hash) VALUES (1, now(), 'u', "
                "'analyst', 0, 'case.open', 'collection', '', '{}', 'p', 'h')"
            )
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.exec_driver_sql(statement)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM audit_log").scalar() == 1
    finally:
        engine.dispose()


def test_missing_postgres_binaries_fail_with_the_setup_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VIGIL_TEST_DATABASE_URL", raising=False)
    with pytest.raises(PostgresUnavailable, match=r"scripts/setup.sh --test"):
        start_server(tmp_path)
