"""The migrations build the same schema on both backends, and the PostgreSQL trigger keeps the
audit log append-only."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from vigil.db.engine import make_engine

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
        assert "cases_0001" in heads
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
