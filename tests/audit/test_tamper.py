"""Tampering with the audit log in the database is detected, on SQLite and PostgreSQL.

Rows are changed with raw SQL, as someone with database access would (on PostgreSQL after
disabling the append-only trigger, as a superuser could). ``vigil audit verify`` (the CLI)
and :func:`verify_chain` must report each edit, deletion and reordering; a cut-off tail, which
a chain alone cannot reveal, is caught by a signed checkpoint."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from vigil.audit.checkpoint import Checkpoint, write_checkpoint, write_checkpoint_if_due
from vigil.audit.signing import Signer, generate
from vigil.audit.verify import verify_chain
from vigil.clock import FixedClock
from vigil.db.engine import make_engine
from vigil.impact.case_service import case_service
from vigil.roles import Actor, Rank, Role
from vigil.settings import get_settings

ANALYST = Actor("u-analyst-9", Role.ANALYST, Rank.NONE)
OVERSIGHT = Actor("u-oversight-9", Role.OVERSIGHT, Rank.NONE)
# a 400 m square in Peckham (Southwark), British National Grid
AREA = "POLYGON((534200 176300,534600 176300,534600 176700,534200 176700,534200 176300))"


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> Signer:
    return generate(tmp_path_factory.mktemp("key") / "audit.pem")


@pytest.fixture
def populated(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """Three cases opened and read: 9 audit entries."""
    clock = FixedClock(datetime(2022, 7, 1, 9, 0, tzinfo=UTC))
    svc = case_service(session_factory, clock, check=lambda *a: [])
    for i in range(3):
        now = clock.advance(timedelta(minutes=10))
        v = svc.open_case(
            ANALYST,
            trigger="reactive",
            area_wkt=AREA,
            window=(now, now + timedelta(hours=4)),
            resources="one crew",
            objectives=f"patrol after assault {i + 1}",
            success_measures=["no repeat"],
        )
        svc.get_case(OVERSIGHT, v.id)
        svc.get_case(OVERSIGHT, v.id, purpose="oversight review")
    return session_factory


def _tamper(url: str, *statements: str) -> None:
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


def _cut_tail(sf: sessionmaker[Session], url: str, keep: int) -> None:
    """Delete every entry after ``keep`` and rewrite the head to match, so the shorter chain is
    self-consistent."""
    with sf() as s:
        prev = s.execute(sa.text(f"SELECT hash FROM audit_log WHERE seq = {keep}")).scalar_one()
    _tamper(
        url,
        f"DELETE FROM audit_log WHERE seq > {keep}",
        f"UPDATE audit_head SET seq = {keep}, hash = '{prev}'",
    )


def _problems(
    sf: sessionmaker[Session],
    checkpoints: list[Checkpoint] | None = None,
    signer: Signer | None = None,
) -> list[str]:
    with sf() as s:
        verifiers = None if signer is None else [signer.verifier]
        return verify_chain(s, checkpoints=checkpoints, verifiers=verifiers).problems


@pytest.fixture
def cli_env(
    db_url: str, monkeypatch: pytest.MonkeyPatch, signer: Signer, tmp_path: Path
) -> Iterator[None]:
    monkeypatch.setenv("VIGIL_DATABASE_URL", db_url)
    monkeypatch.setenv("VIGIL_AUDIT_KEY_FILE", str(signer.path))
    monkeypatch.setenv("VIGIL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VIGIL_AUDIT_WITNESS_DIR", str(tmp_path / "witness"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _cli(*args: str) -> tuple[int, str]:
    from vigil.cli import app

    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_untouched_log_verifies(populated: sessionmaker[Session], cli_env: None) -> None:
    assert _problems(populated) == []
    code, out = _cli("audit", "verify")
    assert code == 0, out
    assert "audit log OK: 9 entries" in out
    assert "3 case row(s) match the log" in out


def test_edited_entry_is_detected(
    populated: sessionmaker[Session], db_url: str, cli_env: None
) -> None:
    _tamper(db_url, "UPDATE audit_log SET justification = 'nothing to see' WHERE seq = 3")
    problems = _problems(populated)
    assert len(problems) == 1 and "entry 3 (case.read, case 1) was altered" in problems[0]
    code, out = _cli("audit", "verify")
    assert code == 1
    assert "entry 3" in out and "altered" in out


def test_edited_actor_or_time_is_detected(populated: sessionmaker[Session], db_url: str) -> None:
    _tamper(
        db_url,
        "UPDATE audit_log SET actor_id = 'u-someone-else' WHERE seq = 1",
        "UPDATE audit_log SET at = at + interval '1 hour' WHERE seq = 5"
        if db_url.startswith("postgresql")
        else "UPDATE audit_log SET at = datetime(at, '+1 hour') WHERE seq = 5",
    )
    problems = _problems(populated)
    assert any("entry 1 " in p and "altered" in p for p in problems)
    assert any("entry 5 " in p and "altered" in p for p in problems)


def test_deleted_entry_is_detected(
    populated: sessionmaker[Session], db_url: str, cli_env: None
) -> None:
    _tamper(db_url, "DELETE FROM audit_log WHERE seq = 4")
    problems = _problems(populated)
    assert any("entry 4 missing before entry 5 (deleted)" in p for p in problems)
    assert any("entry 5 does not follow" in p for p in problems)
    code, out = _cli("audit", "verify", "--json")
    assert code == 1 and '"ok": false' in out


def test_reordered_entries_are_detected(
    populated: sessionmaker[Session], db_url: str, cli_env: None
) -> None:
    _tamper(
        db_url,
        "UPDATE audit_log SET seq = -1 WHERE seq = 4",
        "UPDATE audit_log SET seq = 4 WHERE seq = 5",
        "UPDATE audit_log SET seq = 5 WHERE seq = -1",
    )
    problems = _problems(populated)
    assert any("entry 4 does not follow" in p for p in problems)
    assert any("entry 4 " in p and "altered" in p for p in problems)
    code, out = _cli("audit", "verify")
    assert code == 1 and "does not follow" in out


def test_cut_off_tail_is_caught_by_a_signed_checkpoint(
    populated: sessionmaker[Session], db_url: str, cli_env: None, tmp_path: Path
) -> None:
    code, out = _cli("audit", "checkpoint", "--out", str(tmp_path / "cp.json"))
    assert code == 0, out
    witness = Checkpoint.load(tmp_path / "cp.json")
    assert witness.seq == 9
    assert len(list((tmp_path / "witness" / "checkpoints").glob("*.json"))) == 1
    _cut_tail(populated, db_url, keep=7)  # the last two entries
    assert _problems(populated) == []  # the chain alone cannot tell
    problems = _problems(populated, [witness])
    assert any("covers entry 9, which is no longer in the log" in p for p in problems)
    code, out = _cli("audit", "verify", "--checkpoint", str(tmp_path / "cp.json"))
    assert code == 1 and "tail was cut off" in out
    code, out = _cli("audit", "verify", "--witness", str(tmp_path / "witness"))
    assert code == 1 and "tail was cut off" in out


def test_tail_cut_without_fixing_the_head_is_detected(
    populated: sessionmaker[Session], db_url: str
) -> None:
    _tamper(db_url, "DELETE FROM audit_log WHERE seq = 9")
    problems = _problems(populated)
    assert any("head records entry 9" in p and "cut off" in p for p in problems)


def test_forged_checkpoint_is_rejected(populated: sessionmaker[Session], signer: Signer) -> None:
    with populated() as s, s.begin():
        cp = write_checkpoint(s, signer, datetime(2022, 7, 2, tzinfo=UTC))
    forged = Checkpoint(**{**cp.__dict__, "hash": "f" * 64})
    problems = _problems(populated, [forged], signer)
    assert any("bad signature" in p for p in problems)
    other_key = Checkpoint(**{**cp.__dict__, "key_id": "0" * 16})
    assert any("not a trusted audit key" in p for p in _problems(populated, [other_key], signer))
    assert _problems(populated, [cp], signer) == []


def test_periodic_checkpoints_are_stored_and_checked_by_verify(
    populated: sessionmaker[Session], db_url: str, cli_env: None, signer: Signer, tmp_path: Path
) -> None:
    t = datetime(2022, 7, 2, 0, 0, tzinfo=UTC)
    due = {"signer": signer, "witness_dir": tmp_path / "witness", "every_entries": 5}
    cp = write_checkpoint_if_due(populated, t, **due)  # type: ignore[arg-type]
    assert cp is not None and cp.seq == 9
    assert write_checkpoint_if_due(populated, t + timedelta(hours=1), **due) is None  # type: ignore[arg-type]
    svc = case_service(populated, FixedClock(t), check=lambda *a: [])
    svc.get_case(OVERSIGHT, 1)
    # one new entry: not yet due by count (5), nor by time (10 minutes)
    assert write_checkpoint_if_due(populated, t + timedelta(minutes=5), **due) is None  # type: ignore[arg-type]
    cp2 = write_checkpoint_if_due(populated, t + timedelta(minutes=11), **due)  # type: ignore[arg-type]
    assert cp2 is not None and cp2.seq == 10
    for _ in range(5):
        svc.get_case(OVERSIGHT, 1)
    cp3 = write_checkpoint_if_due(populated, t + timedelta(minutes=12), **due)  # type: ignore[arg-type]
    assert cp3 is not None and cp3.seq == 15  # due by count
    _cut_tail(populated, db_url, keep=12)
    code, out = _cli("audit", "verify")
    assert code == 1 and "covers entry 15" in out
