"""Issue 11: the backup-restore drill, on SQLite and PostgreSQL: back up, destroy, restore,
verify. A backup of a tampered log, or a file that is not the backup its manifest describes,
is refused with the target left exactly as it was."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.cases.conftest import ANALYST, OVERSIGHT
from tests.ops._live import WESTMINSTER
from vigil.app.backup import BackupError, backup, restore, verify
from vigil.cli import app as cli
from vigil.db.audit import AuditEntry
from vigil.db.cases import Case
from vigil.db.engine import make_engine, make_sessionmaker
from vigil.impact.case_service import case_service


def _some_cases(url: str, clock, n: int = 3) -> None:
    engine = make_engine(url)
    service = case_service(make_sessionmaker(engine), clock)
    for _ in range(n):
        now = clock.now()
        case = service.open_case(
            ANALYST,
            trigger="proactive",
            area_wkt=WESTMINSTER,
            window=(now + timedelta(hours=1), now + timedelta(hours=5)),
            resources="two crews on foot",
            objectives="deter violence",
            success_measures=["no serious violence in the area"],
        )
        service.get_case(OVERSIGHT, case.id, purpose="review")
    engine.dispose()


def _state(url: str) -> tuple[int, int, str]:
    engine = make_engine(url)
    with engine.connect() as conn:
        cases = conn.execute(select(func.count()).select_from(Case)).scalar_one()
        seq, hash_ = conn.execute(
            select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
        ).one()
    engine.dispose()
    return cases, seq, hash_


def _destroy(url: str) -> None:
    """The disaster: every table gone."""
    engine = make_engine(url)
    meta = sa.MetaData()
    meta.reflect(engine)
    meta.drop_all(engine)
    engine.dispose()


def _edit_log(url: str, statement: str) -> None:
    """What a database administrator could do: the append-only trigger switched off."""
    engine = make_engine(url)
    pg = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        if pg:
            conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER USER")
        conn.exec_driver_sql(statement)
        if pg:
            conn.exec_driver_sql("ALTER TABLE audit_log ENABLE TRIGGER USER")
    engine.dispose()


def _drop_previous(url: str, previous: str | None) -> None:
    parsed = sa.make_url(url)
    if previous and parsed.get_backend_name() == "postgresql":
        admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{previous}" WITH (FORCE)')
        admin.dispose()


def test_backup_destroy_restore_verify(db_url, clock, tmp_path):
    _some_cases(db_url, clock)
    before = _state(db_url)
    assert before[0] == 3 and before[1] >= 6

    out = tmp_path / "backups" / "vigil.backup"
    manifest = backup(db_url, out)
    assert out.is_file() and (manifest.audit_seq, manifest.audit_hash) == before[1:]
    assert json.loads(out.with_name("vigil.backup.json").read_text())["entries"] == before[1]

    _destroy(db_url)
    with pytest.raises(BackupError):
        verify(db_url)  # the database is gone: nothing to verify

    report = restore(db_url, out)
    try:
        assert _state(db_url) == before
        assert verify(db_url).ok
        assert report.verification.missing_migrations == []
        # the service works on the restored database: the log goes on from where it was
        _some_cases(db_url, clock, n=1)
        assert verify(db_url).ok and _state(db_url)[0] == 4
    finally:
        _drop_previous(db_url, report.previous)


def test_a_backup_of_a_tampered_log_is_refused(db_url, clock, tmp_path):
    """Someone rewrote an entry before the backup: the backup is written (it is evidence) and
    its manifest says the chain failed; restoring it is refused, the target left as it was."""
    _some_cases(db_url, clock)
    _edit_log(db_url, "UPDATE audit_log SET justification = 'rewritten' WHERE seq = 2")
    out = tmp_path / "tampered.backup"
    manifest = backup(db_url, out)
    assert not manifest.chain_ok and "entry 2" in manifest.problems[0]
    # the live database is repaired (say, from an earlier backup)
    _edit_log(db_url, "UPDATE audit_log SET justification = 'review' WHERE seq = 2")
    current = _state(db_url)
    with pytest.raises(BackupError, match="does not verify") as refused:
        restore(db_url, out)
    assert "entry 2" in str(refused.value) and "was not changed" in str(refused.value)
    assert _state(db_url) == current and verify(db_url).ok


def test_a_file_that_is_not_its_manifests_backup_is_refused(db_url, clock, tmp_path):
    _some_cases(db_url, clock, n=1)
    older = tmp_path / "older.backup"
    backup(db_url, older)
    _some_cases(db_url, clock, n=1)
    backup(db_url, tmp_path / "newer.backup")
    shutil.copyfile(tmp_path / "newer.backup", older)  # the manifest still describes the old one
    current = _state(db_url)
    with pytest.raises(BackupError, match="not the backup its manifest describes"):
        restore(db_url, older)
    assert _state(db_url) == current


def test_cli_backup_and_restore(cli_db, clock, tmp_path):
    _some_cases(cli_db, clock, n=1)
    out = tmp_path / "cli.backup"
    done = CliRunner().invoke(cli, ["db", "backup", str(out)])
    assert done.exit_code == 0, done.output
    assert "backup written" in done.output
    _destroy(cli_db)
    done = CliRunner().invoke(cli, ["db", "restore", str(out)])
    assert done.exit_code == 0, done.output
    assert "audit chain OK" in done.output
    previous = done.output.split("kept as ")[-1].strip() if "kept as" in done.output else None
    _drop_previous(cli_db, previous)
    done = CliRunner().invoke(cli, ["db", "restore", str(tmp_path / "missing.backup")])
    assert done.exit_code == 1 and "no such backup file" in done.output
