"""Backing up and restoring the case database, with the restored copy verified before it is used.

- PostgreSQL: ``pg_dump --format=custom``, restored by ``pg_restore`` into a scratch database
  on the same server; only once that copy verifies is it renamed into place (the database it
  replaces is kept, renamed ``<name>_pre_restore_<time>``, until the operator drops it).
- SQLite: the SQLite online backup API (a consistent copy of a live database); restored into a
  scratch file beside the target, verified, then moved into place atomically (the replaced file
  is kept as ``<file>.pre-restore-<time>``).

Verification: the audit chain verifies (every entry's hash, sequence and link), the restored
audit head equals the one the backup's manifest recorded (a truncated or swapped dump is
caught), and the schema's migration state is reported. A copy that fails is dropped and the
target is left exactly as it was.

Each backup ``FILE`` gets a manifest ``FILE.json``: backend, time, audit head, migration heads.

The incident store (Parquet under ``VIGIL_DATA_DIR/store``) is not in the database: its files
are immutable once written, so a file-level copy of that folder (rsync, a snapshot) taken at
any time is consistent; or it is rebuilt from the source files with ``vigil data import``.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from vigil.db.engine import make_engine, make_sessionmaker
from vigil.errors import VigilError

PG_BIN = Path(os.environ.get("VIGIL_PG_BIN", "/usr/lib/postgresql/15/bin"))


class BackupError(VigilError):
    """A backup could not be made, or a restore was refused (the target is unchanged)."""


@dataclass
class Manifest:
    backend: str
    created_at: str
    audit_seq: int
    audit_hash: str
    entries: int
    chain_ok: bool = True
    problems: list[str] = field(default_factory=list)
    migrations: list[str] = field(default_factory=list)

    def write(self, backup: Path) -> Path:
        path = manifest_path(backup)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        return path


@dataclass
class Verification:
    ok: bool
    problems: list[str]
    audit_seq: int
    audit_hash: str
    entries: int
    missing_migrations: list[str]


@dataclass
class RestoreReport:
    target: str
    verification: Verification
    previous: str | None  # where the replaced database was kept


def manifest_path(backup: Path) -> Path:
    return backup.with_name(backup.name + ".json")


def _tool(name: str) -> str:
    candidate = PG_BIN / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} not found (looked in {PG_BIN} and PATH): install postgresql-client-15, "
            "the version of the server"
        )
    return found


def _libpq(url: sa.URL) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password (which goes in PGPASSWORD, not the process list)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    uri = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


def _run(cmd: list[str], env: dict[str, str] | None, what: str) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{what} failed ({Path(cmd[0]).name}): {done.stderr.strip()[-2000:]}")


def _sqlite_path(url: sa.URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError(f"{url}: an in-memory SQLite database cannot be backed up")
    return Path(url.database)


# ---------------------------------------------------------------------------- verification
def verify(url: str) -> Verification:
    """Check the database at ``url``: audit chain, audit head, migration state."""
    from alembic.runtime.migration import MigrationContext

    from vigil.audit.verify import verify_chain
    from vigil.db.migrate import missing_heads

    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as s:
            report = verify_chain(s)
            current = MigrationContext.configure(s.connection()).get_current_heads()
    except sa.exc.SQLAlchemyError as exc:
        raise BackupError(f"the database cannot be read: {exc.__class__.__name__}: {exc}") from exc
    finally:
        engine.dispose()
    return Verification(
        ok=report.ok,
        problems=list(report.problems),
        audit_seq=report.head_seq,
        audit_hash=report.head_hash,
        entries=report.entries,
        missing_migrations=missing_heads(current),
    )


# ---------------------------------------------------------------------------- backup
def backup(url: str, out: Path) -> Manifest:
    """Write a consistent backup of the database at ``url`` to ``out`` (and ``out.json``).

    A database whose audit chain fails is still backed up (the copy is evidence), with the
    failure in the manifest; restoring that copy will be refused."""
    parsed = sa.make_url(url)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    state = verify(url)
    if parsed.get_backend_name() == "postgresql":
        uri, env = _libpq(parsed)
        _run(
            [_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(partial), uri],
            env,
            "pg_dump",
        )
    else:
        source = sqlite3.connect(_sqlite_path(parsed))
        target = sqlite3.connect(partial)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    os.replace(partial, out)
    manifest = Manifest(
        backend=parsed.get_backend_name(),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        audit_seq=state.audit_seq,
        audit_hash=state.audit_hash,
        entries=state.entries,
        chain_ok=state.ok,
        problems=state.problems[:20],
        migrations=sorted(_current_heads(url)),
    )
    manifest.write(out)
    return manifest


def _current_heads(url: str) -> tuple[str, ...]:
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return tuple(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------- restore
def _accept(copy_url: str, backup_file: Path) -> Verification:
    """Verify the restored copy; raise BackupError naming every problem."""
    state = verify(copy_url)
    problems = list(state.problems)
    manifest = manifest_path(backup_file)
    if manifest.exists():
        recorded = json.loads(manifest.read_text())
        if (recorded["audit_seq"], recorded["audit_hash"]) != (state.audit_seq, state.audit_hash):
            problems.append(
                f"the restored audit head is entry {state.audit_seq} ({state.audit_hash[:16]}), "
                f"the backup recorded entry {recorded['audit_seq']} "
                f"({recorded['audit_hash'][:16]}): the file is not the backup its manifest "
                "describes"
            )
    if problems:
        raise BackupError(
            f"restore refused: the copy restored from {backup_file} does not verify; "
            "the database was not changed:\n  " + "\n  ".join(problems)
        )
    return state


def restore(url: str, backup_file: Path) -> RestoreReport:
    """Restore ``backup_file`` over the database at ``url`` once the restored copy verifies.

    Stop the server first: the database being replaced must have no open connections."""
    backup_file = Path(backup_file)
    if not backup_file.is_file():
        raise BackupError(f"{backup_file}: no such backup file")
    parsed = sa.make_url(url)
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    if parsed.get_backend_name() == "postgresql":
        return _restore_pg(parsed, backup_file, stamp)
    return _restore_sqlite(parsed, backup_file, stamp)


def _restore_sqlite(url: sa.URL, backup_file: Path, stamp: str) -> RestoreReport:
    target = _sqlite_path(url)
    scratch = target.with_name(f"{target.name}.restoring-{uuid.uuid4().hex[:8]}")
    try:
        source = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
        copy = sqlite3.connect(scratch)
        try:
            source.backup(copy)
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{backup_file}: not a SQLite backup ({exc})") from exc
        finally:
            copy.close()
            source.close()
        state = _accept(f"sqlite:///{scratch}", backup_file)
        previous = None
        if target.exists():
            previous = target.with_name(f"{target.name}.pre-restore-{stamp}")
            os.replace(target, previous)
            for suffix in ("-wal", "-shm"):  # the old database's journal goes with it
                side = target.with_name(target.name + suffix)
                if side.exists():
                    os.replace(side, previous.with_name(previous.name + suffix))
        os.replace(scratch, target)
        return RestoreReport(str(target), state, str(previous) if previous else None)
    finally:
        scratch.unlink(missing_ok=True)


def _admin(url: sa.URL) -> sa.Engine:
    return sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")


def _restore_pg(url: sa.URL, backup_file: Path, stamp: str) -> RestoreReport:
    target = url.database
    if not target:
        raise BackupError(f"{url.render_as_string()}: the URL names no database")
    scratch = f"{target[:40]}_restoring_{uuid.uuid4().hex[:8]}"
    admin = _admin(url)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{scratch}"')
        accepted = False
        try:
            uri, env = _libpq(url.set(database=scratch))
            _run(
                [
                    _tool("pg_restore"),
                    "--no-owner",
                    "--no-privileges",
                    "--exit-on-error",
                    "--dbname",
                    uri,
                    str(backup_file),
                ],
                env,
                "pg_restore",
            )
            state = _accept(url.set(database=scratch).render_as_string(False), backup_file)
            previous = _swap_pg(admin, target, scratch, stamp)
            accepted = True
        finally:
            if not accepted:
                with admin.connect() as conn:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        return RestoreReport(target, state, previous)
    finally:
        admin.dispose()


def _swap_pg(admin: sa.Engine, target: str, scratch: str, stamp: str) -> str | None:
    previous = f"{target[:40]}_pre_restore_{stamp}"
    with admin.connect() as conn:
        exists = conn.execute(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target}
        ).scalar()
        renamed = False
        try:
            if exists:
                conn.exec_driver_sql(f'ALTER DATABASE "{target}" RENAME TO "{previous}"')
                renamed = True
            conn.exec_driver_sql(f'ALTER DATABASE "{scratch}" RENAME TO "{target}"')
        except sa.exc.OperationalError as exc:
            if renamed:  # put the original back under its name
                conn.exec_driver_sql(f'ALTER DATABASE "{previous}" RENAME TO "{target}"')
            raise BackupError(
                f"database {target!r} is in use: stop the server (and other clients) before "
                f"restoring ({exc.orig})"
            ) from exc
    return previous if exists else None


def describe(report: RestoreReport) -> dict[str, Any]:
    return {
        "target": report.target,
        "entries": report.verification.entries,
        "audit_seq": report.verification.audit_seq,
        "previous": report.previous,
        "missing_migrations": report.verification.missing_migrations,
    }
