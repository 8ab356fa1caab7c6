"""One holder at a time for the background jobs, across processes and machines.

``vigil serve --workers N`` runs N processes, and an operator may run ``vigil admin sweep`` from
cron as well: each wakes up to write expiries, flag overdue debriefs and sign checkpoints. The
writes are safe to race (each case is row-locked and re-checked), but running a pass once is
what the operator expects to read in the logs and metrics, and a checkpoint must not be signed
twice for the same head. So a pass runs only while its process holds this lock:

- PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) on a connection kept for
  the pass; the server drops it if the process dies, so a killed holder never blocks the rest.
- SQLite: an exclusive ``flock`` on a file beside the database (the same machine by
  construction); the kernel drops it when the process dies.

Trying never waits: a process that does not get the lock skips this pass.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, func, select


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for ``name``."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class JobLock:
    """``with JobLock(engine).held() as mine: if mine: ...``"""

    def __init__(self, engine: Engine, name: str = "vigil.background-jobs") -> None:
        self.engine = engine
        self.name = name

    @contextmanager
    def held(self) -> Iterator[bool]:
        """True while this process holds the lock; False (at once) if another does."""
        if self.engine.dialect.name == "postgresql":
            with self._pg() as mine:
                yield mine
        else:
            with self._file() as mine:
                yield mine

    @contextmanager
    def _pg(self) -> Iterator[bool]:
        key = lock_key(self.name)
        with self.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            mine = bool(conn.execute(select(func.pg_try_advisory_lock(key))).scalar())
            try:
                yield mine
            finally:
                if mine:
                    conn.execute(select(func.pg_advisory_unlock(key)))

    def lock_path(self) -> Path | None:
        database = self.engine.url.database
        if not database or database == ":memory:":
            return None
        return Path(f"{database}.{self.name}.lock")

    @contextmanager
    def _file(self) -> Iterator[bool]:
        path = self.lock_path()
        if path is None:  # an in-memory database lives in one process
            yield True
            return
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
