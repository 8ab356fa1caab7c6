"""A private PostgreSQL server that a fault test may stop and start again (the session's shared
server in tests/conftest.py must never be stopped under other tests)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from tests.db.pg_server import PostgresServer, PostgresUnavailable, _as_postgres, start_server


@contextmanager
def private_server() -> Iterator[PostgresServer]:
    try:
        server = start_server()
    except PostgresUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    if server.datadir is None:
        pytest.fail(
            "this fault test stops and restarts PostgreSQL, so it needs a private server: "
            "unset VIGIL_TEST_DATABASE_URL",
            pytrace=False,
        )
    try:
        yield server
    finally:
        server.stop()


def pg_ctl(server: PostgresServer, action: str) -> None:
    """``pg_ctl stop`` (fast: open sessions are cut) or ``start`` on the same port."""
    assert server.datadir is not None and server.workdir is not None
    cmd = [str(server.pg_bin / "pg_ctl"), "-D", str(server.datadir), "-w", "-t", "60"]
    if action == "stop":
        cmd += ["-m", "fast", "stop"]
    else:
        port = sa.make_url(server.admin_url).port
        opts = (
            f"-p {port} -k {server.workdir / 'sock'} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c max_connections=200"
        )
        cmd += ["-o", opts, "-l", str(server.workdir / "log"), "start"]
    subprocess.run(_as_postgres(cmd), check=True, capture_output=True)
