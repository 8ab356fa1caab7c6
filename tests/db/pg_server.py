"""A throw-away PostgreSQL server for the test run, started from the Debian binaries.

Why not a system service: CI machines are fresh, tests must not depend on (or disturb) a server
someone else configured, and a private server on a free port lets parallel runs coexist. When
``VIGIL_TEST_DATABASE_URL`` is set, that server is used instead (its user must be able to
CREATE DATABASE). Missing binaries are a failure, never a silent skip: the suite promises that
every case rule is tested on PostgreSQL too.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

PG_BIN = Path(os.environ.get("VIGIL_PG_BIN", "/usr/lib/postgresql/15/bin"))


class PostgresUnavailable(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(cmd: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: drop to the postgres account when root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@dataclass
class PostgresServer:
    """A running server; ``admin_url`` reaches its maintenance database as a superuser."""

    admin_url: str
    datadir: Path | None = None
    workdir: Path | None = None
    pg_bin: Path = PG_BIN

    def url_for(self, dbname: str) -> str:
        return sa.make_url(self.admin_url).set(database=dbname).render_as_string(False)

    def create_database(self, template: str | None = None) -> str:
        name = f"vigil_test_{uuid.uuid4().hex[:12]}"
        engine = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            tmpl = f" TEMPLATE {template}" if template else ""
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"{tmpl}')
        engine.dispose()
        return name

    def drop_database(self, name: str) -> None:
        engine = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()

    def stop(self) -> None:
        if self.datadir is None:
            return
        subprocess.run(
            _as_postgres(
                [str(self.pg_bin / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "stop"]
            ),
            check=False,
            capture_output=True,
        )
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_orphans(pg_bin: Path) -> None:
    """Stop servers left behind by test runs that were killed before their teardown ran (each
    server's folder records the pid of the run that started it)."""
    for workdir in Path(tempfile.gettempdir()).glob("vigil-pg-*"):
        owner = workdir / "owner.pid"
        try:
            pid = int(owner.read_text())
        except (OSError, ValueError):
            continue
        if _pid_alive(pid):
            continue
        PostgresServer(
            admin_url="", datadir=workdir / "data", workdir=workdir, pg_bin=pg_bin
        ).stop()


def start_server(pg_bin: Path | None = None) -> PostgresServer:
    """Use VIGIL_TEST_DATABASE_URL, or initdb + start a private server on a free port."""
    external = os.environ.get("VIGIL_TEST_DATABASE_URL")
    if external:
        return PostgresServer(admin_url=external)
    pg_bin = pg_bin or PG_BIN
    initdb, pg_ctl = pg_bin / "initdb", pg_bin / "pg_ctl"
    if not (initdb.exists() and pg_ctl.exists()):
        raise PostgresUnavailable(
            f"PostgreSQL binaries not found in {pg_bin} (initdb, pg_ctl): run "
            "`scripts/setup.sh --test` to install postgresql-15, or set VIGIL_TEST_DATABASE_URL"
        )
    reap_orphans(pg_bin)
    workdir = Path(tempfile.mkdtemp(prefix="vigil-pg-"))
    datadir, sockdir = workdir / "data", workdir / "sock"
    sockdir.mkdir()
    (workdir / "owner.pid").write_text(str(os.getpid()))
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres", "postgres")
        shutil.chown(sockdir, "postgres", "postgres")
    port = _free_port()
    run = dict(check=True, capture_output=True, text=True)
    try:
        subprocess.run(
            _as_postgres(
                [
                    str(initdb),
                    "-D",
                    str(datadir),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                    "--locale=C",
                ]
            ),
            **run,  # type: ignore[arg-type]
        )
        opts = (
            f"-p {port} -k {sockdir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        subprocess.run(
            _as_postgres(
                [
                    str(pg_ctl),
                    "-D",
                    str(datadir),
                    "-o",
                    opts,
                    "-l",
                    str(workdir / "log"),
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            **run,  # type: ignore[arg-type]
        )
    except subprocess.CalledProcessError as exc:
        log = workdir / "log"
        tail = log.read_text()[-2000:] if log.exists() else ""
        shutil.rmtree(workdir, ignore_errors=True)
        raise PostgresUnavailable(
            f"could not start PostgreSQL ({exc.cmd[0]}): {exc.stderr}\n{tail}"
        ) from exc
    return PostgresServer(
        admin_url=f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres",
        datadir=datadir,
        workdir=workdir,
        pg_bin=pg_bin,
    )
