"""Issue 10: a database administrator cannot rewrite the audit log, or a case, unseen.

Each attack is done as someone with write access to the database would do it (raw SQL; on
PostgreSQL after disabling the append-only trigger, as a superuser can), *including recomputing
every hash after the edit* so the chain is again self-consistent: that alone used to make
``vigil audit verify`` say OK. Now the running server signs checkpoints with an Ed25519 key
kept outside the database and exports them to a witness directory, and verification proves the
log still extends every witnessed checkpoint and replays every case row against the log."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tests.cases.conftest import (  # noqa: F401  (fixtures)
    ANALYST,
    AUTHORISER,
    COMMANDER_LAMBETH,
    hot_cells,
    lambeth_surface,
    open_case,
    ready_case,
    service,
)
from vigil.audit.checkpoint import Checkpoint, witnessed, write_checkpoint
from vigil.audit.log import GENESIS_HASH, entry_hash
from vigil.audit.signing import Signer, generate
from vigil.audit.verify import verify_chain
from vigil.cases.audit_check import verify_log
from vigil.cases.service import CaseService
from vigil.clock import FixedClock
from vigil.db.audit import AuditEntry
from vigil.db.engine import make_engine
from vigil.settings import Settings, get_settings


@pytest.fixture
def keyfile(tmp_path: Path) -> Path:
    return generate(tmp_path / "keys" / "audit.pem").path


@pytest.fixture
def settings(tmp_path: Path, db_url: str, keyfile: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=db_url,
        audit_key_file=keyfile,
        audit_witness_dir=tmp_path / "witness",
    )


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("VIGIL_DATABASE_URL", str(settings.database_url))
    monkeypatch.setenv("VIGIL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("VIGIL_AUDIT_KEY_FILE", str(settings.audit_key_file))
    monkeypatch.setenv("VIGIL_AUDIT_WITNESS_DIR", str(settings.audit_witness_dir))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _cli(*args: str) -> tuple[int, str]:
    from vigil.cli import app

    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def live_case(
    service: CaseService,  # noqa: F811
    clock: FixedClock,
    ready_case: Callable[..., int],  # noqa: F811
) -> int:
    """A case authorised, notified and ACTIVE now (window 10:00-22:00 on 2022-07-01), plus a
    second case only opened: two cases, a few dozen audit entries."""
    case_id = ready_case()
    service.authorise(AUTHORISER, case_id, conditions="foot patrol only, body-worn video")
    service.notify_oversight(AUTHORISER, case_id, "authorised")
    clock.advance(timedelta(hours=1, minutes=5))
    service.activate(COMMANDER_LAMBETH, case_id)
    return case_id


def _checkpoint(sf: sessionmaker[Session], settings: Settings, clock: FixedClock) -> Checkpoint:
    assert settings.audit_key_file is not None
    with sf() as s, s.begin():
        return write_checkpoint(
            s, Signer.load(settings.audit_key_file), clock.now(), settings.witness_dir
        )


def _raw(url: str, *statements: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            pg = conn.dialect.name == "postgresql"
            if pg:
                conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER USER")
            for st in statements:
                conn.exec_driver_sql(st)
            if pg:
                conn.exec_driver_sql("ALTER TABLE audit_log ENABLE TRIGGER USER")
    finally:
        engine.dispose()


def _rehash(url: str) -> None:
    """What an attacker with the source code does after editing: renumber, recompute every hash,
    fix the head and drop the database's own checkpoints."""
    table = AuditEntry.__table__
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            pg = conn.dialect.name == "postgresql"
            if pg:
                conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER USER")
            rows = [dict(r._mapping) for r in conn.execute(sa.select(table).order_by(table.c.seq))]
            conn.execute(table.delete())
            prev = GENESIS_HASH
            for i, row in enumerate(rows, 1):
                row.update(seq=i, prev_hash=prev)
                row["hash"] = prev = entry_hash(SimpleNamespace(**row))
            if rows:
                conn.execute(table.insert(), rows)
            conn.execute(
                sa.text("UPDATE audit_head SET seq = :s, hash = :h"), {"s": len(rows), "h": prev}
            )
            conn.exec_driver_sql("DELETE FROM audit_checkpoints")
            if pg:
                conn.exec_driver_sql("ALTER TABLE audit_log ENABLE TRIGGER USER")
    finally:
        engine.dispose()


def _full(sf: sessionmaker[Session], settings: Settings) -> list[str]:
    with sf() as s:
        return verify_log(s, settings).problems


def _chain_only(sf: sessionmaker[Session]) -> list[str]:
    with sf() as s:
        return verify_chain(s).problems


def test_untouched_log_and_cases_verify(
    live_case: int,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FixedClock,
    cli: None,
) -> None:
    cp = _checkpoint(session_factory, settings, clock)
    assert settings.witness_dir is not None
    files = list((settings.witness_dir / "checkpoints").glob("*.json"))
    assert len(files) == 1 and Checkpoint.load(files[0]) == cp
    assert (settings.witness_dir / "keys" / f"{cp.key_id}.pub").is_file()
    assert _full(session_factory, settings) == []
    code, out = _cli("audit", "verify", "--witness", str(settings.witness_dir))
    assert code == 0, out
    assert f"proven by signature up to entry {cp.seq}" in out
    assert "1 case row(s) match the log" in out


def test_edited_authorisation_rehashed_is_caught_by_the_witness(
    live_case: int,
    session_factory: sessionmaker[Session],
    db_url: str,
    settings: Settings,
    clock: FixedClock,
    cli: None,
) -> None:
    cp = _checkpoint(session_factory, settings, clock)
    _raw(
        db_url,
        "UPDATE audit_log SET justification = 'approved by the chief constable', "
        "detail = '{}' WHERE action = 'case.authorise'",
    )
    _rehash(db_url)
    assert _chain_only(session_factory) == []  # the finding: a rehashed chain is consistent
    problems = _full(session_factory, settings)
    assert any(
        f"the log's first {cp.seq} entries differ from the checkpoint" in p for p in problems
    )
    code, out = _cli("audit", "verify", "--witness", str(settings.witness_dir))
    assert code == 1 and "was rewritten" in out


def test_erased_case_rehashed_is_caught_by_the_witness(
    live_case: int,
    open_case: Callable[..., int],  # noqa: F811
    session_factory: sessionmaker[Session],
    db_url: str,
    settings: Settings,
    clock: FixedClock,
) -> None:
    other = open_case()
    _checkpoint(session_factory, settings, clock)
    children = [
        "case_consultations",
        "case_impact_assessments",
        "case_extensions",
        "case_notifications",
        "case_debriefs",
    ]
    _raw(
        db_url,
        f"DELETE FROM audit_log WHERE case_id = {other}",
        *(f"DELETE FROM {t} WHERE case_id = {other}" for t in children),
        f"DELETE FROM case_authorisations WHERE case_id = {other}",
        f"DELETE FROM cases WHERE id = {other}",
    )
    _rehash(db_url)
    assert _chain_only(session_factory) == []
    problems = _full(session_factory, settings)
    assert any("differ from the checkpoint" in p or "no longer in the log" in p for p in problems)


def test_cut_tail_is_caught_by_the_witness(
    live_case: int,
    service: CaseService,  # noqa: F811
    session_factory: sessionmaker[Session],
    db_url: str,
    settings: Settings,
    clock: FixedClock,
    cli: None,
) -> None:
    first = _checkpoint(session_factory, settings, clock)
    clock.advance(timedelta(minutes=5))
    service.get_case(ANALYST, live_case, purpose="look")
    second = _checkpoint(session_factory, settings, clock)
    assert second.seq > first.seq
    _raw(db_url, f"DELETE FROM audit_log WHERE seq > {first.seq}")
    _rehash(db_url)
    assert _chain_only(session_factory) == []
    problems = _full(session_factory, settings)
    assert any(f"covers entry {second.seq}, which is no longer in the log" in p for p in problems)
    code, out = _cli("audit", "verify", "--witness", str(settings.witness_dir))
    assert code == 1 and "tail was cut off" in out


def test_forged_or_foreign_checkpoints_are_refused(
    live_case: int,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FixedClock,
    tmp_path: Path,
) -> None:
    cp = _checkpoint(session_factory, settings, clock)
    forged = Checkpoint(**{**cp.__dict__, "root": "f" * 64})
    other = generate(tmp_path / "attacker.pem")
    unsigned = Checkpoint(**{**cp.__dict__, "key_id": other.key_id, "signature": ""})
    foreign = Checkpoint(**{**unsigned.__dict__, "signature": other.sign(unsigned.message())})
    with session_factory() as s:
        bad = verify_log(s, settings, checkpoints=[forged]).problems
        assert any("bad signature" in p for p in bad)
        alien = verify_log(s, settings, checkpoints=[foreign]).problems
        assert any("not a trusted audit key" in p for p in alien)


def test_case_row_edited_in_the_database_is_caught_by_replay(
    live_case: int,
    session_factory: sessionmaker[Session],
    db_url: str,
    settings: Settings,
    clock: FixedClock,
    cli: None,
) -> None:
    _checkpoint(session_factory, settings, clock)
    plus3 = (
        "\"end\" + interval '3 days'"
        if db_url.startswith("postgresql")
        else "datetime(\"end\", '+3 days')"
    )
    _raw(db_url, f'UPDATE cases SET "end" = {plus3} WHERE id = {live_case}')
    assert _chain_only(session_factory) == []  # the log itself is untouched
    problems = _full(session_factory, settings)
    assert len(problems) == 1
    assert f"case {live_case} differs from the state its last logged change" in problems[0]
    assert "2022-07-04 22:00 UTC" in problems[0]  # the window the row now claims
    code, out = _cli("audit", "verify")
    assert code == 1 and f"case {live_case} differs" in out


def test_widened_authorisation_row_is_caught_by_replay(
    live_case: int, session_factory: sessionmaker[Session], db_url: str, settings: Settings
) -> None:
    _raw(db_url, f"UPDATE case_authorisations SET conditions = 'none' WHERE case_id = {live_case}")
    problems = _full(session_factory, settings)
    assert any(f"case {live_case} differs" in p for p in problems)


def test_case_inserted_or_erased_behind_vigils_back_is_caught_by_replay(
    live_case: int, session_factory: sessionmaker[Session], db_url: str, settings: Settings
) -> None:
    children = [
        "case_consultations",
        "case_extensions",
        "case_notifications",
        "case_debriefs",
        "case_authorisations",
        "case_impact_assessments",
    ]
    _raw(
        db_url,
        *(f"DELETE FROM {t} WHERE case_id = {live_case}" for t in children),
        f"DELETE FROM cases WHERE id = {live_case}",
    )
    problems = _full(session_factory, settings)
    assert any(
        f"case {live_case} was last changed by entry" in p and "erased" in p for p in problems
    )


def test_witness_files_are_never_replaced(
    live_case: int, session_factory: sessionmaker[Session], settings: Settings, clock: FixedClock
) -> None:
    a = _checkpoint(session_factory, settings, clock)
    clock.advance(timedelta(minutes=1))
    b = _checkpoint(session_factory, settings, clock)  # same size, later time: a new file
    assert settings.witness_dir is not None
    got = witnessed(settings.witness_dir)
    assert [c.at for c in got] == [a.at, b.at]
