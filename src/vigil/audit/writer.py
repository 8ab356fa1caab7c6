"""Batched appends through one writer per process: the audit entries of reads that change
nothing else (a case page, a forecast, an evidence layer) are chained and committed together.

Every audited read used to take its own transaction on the chain head: a connection, the head
locked, one insert, the head moved, a commit, for each request. Under load most of the audit's
cost was that per-request transaction, and the head lock made concurrent requests of all the
processes queue for it one by one (issue 11). Here a request hands its entry to the process's
writer thread and waits; the writer takes every entry waiting at that moment and writes them in
ONE transaction (the same three statements under the head lock as :mod:`vigil.audit.log`, with
a multi-row insert), then wakes each request. So:

* nothing is answered before its entry is durable: :meth:`AuditWriter.write` returns only after
  the commit that holds the entry, and raises if it failed (the request fails with it, and no
  entry of it is kept);
* nothing acknowledged can be lost: an entry is acknowledged only after its commit;
* one bad entry cannot sink the others: a failed batch is retried one entry at a time, so each
  request gets its own answer;
* the chain stays one chain whatever the number of processes: each batch locks the head row like
  any other transaction (``SELECT ... FOR UPDATE``).

Used on PostgreSQL, where several worker processes write at once; SQLite (one writer at a time
by ``BEGIN IMMEDIATE``, the tests' in-memory databases) keeps the entry in the caller's own
transaction.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future

from sqlalchemy.orm import Session, sessionmaker

from vigil.db.audit import AuditEntry

#: entries written in one transaction at most
MAX_BATCH = 256
#: a writer thread with nothing to do for this long ends (started again by the next write)
IDLE_SECONDS = 30.0
#: how long a request waits for its entry's commit before failing
WAIT_SECONDS = 60.0

_Item = tuple[list[AuditEntry], "Future[None]"]


class AuditWriter:
    """The writer thread of one database in this process (see the module docstring)."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sf = session_factory
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def write(self, entries: list[AuditEntry]) -> None:
        """Chain and commit ``entries`` (in this order, consecutively); return once durable."""
        done: Future[None] = Future()
        self._queue.put((entries, done))
        self._ensure_running()
        done.result(timeout=WAIT_SECONDS)

    def _ensure_running(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="vigil-audit-writer", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():  # else a write came in just now: keep going
                        self._thread = None
                        return
                continue
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._commit(batch)

    def _commit(self, batch: list[_Item]) -> None:
        try:
            self._transaction([e for entries, _ in batch for e in entries])
        except BaseException as exc:  # noqa: BLE001 - each request is told, none is lost
            if len(batch) == 1:
                batch[0][1].set_exception(exc)
                return
            for item in batch:  # one at a time: each request gets its own answer
                self._commit([item])
            return
        for _, done in batch:
            done.set_result(None)

    def _transaction(self, entries: list[AuditEntry]) -> None:
        from vigil.audit.log import park

        with self._sf() as s, s.begin():
            park(s, entries)  # chained, inserted and the head moved as the commit begins


def writer_for(session_factory: sessionmaker[Session]) -> AuditWriter | None:
    """The process's writer for this database when it is PostgreSQL, else None (SQLite keeps
    each entry in the caller's transaction)."""
    writer: AuditWriter | None = getattr(session_factory, "_vigil_audit_writer", None)
    if writer is not None:
        return writer
    bind = session_factory.kw.get("bind")
    if bind is None or getattr(bind.dialect, "name", "") != "postgresql":
        return None
    with _REGISTRY_LOCK:
        writer = getattr(session_factory, "_vigil_audit_writer", None)
        if writer is None:
            writer = AuditWriter(session_factory)
            session_factory._vigil_audit_writer = writer  # type: ignore[attr-defined]
    return writer


_REGISTRY_LOCK = threading.Lock()
