"""Issue 11: on PostgreSQL the reads' audit entries go through one writer per process, which
chains the entries waiting at that moment in one transaction. Each request is answered only
after its own entry is committed, nothing acknowledged is lost, the chain stays one chain, and
one entry that cannot be written fails only its own request."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from sqlalchemy import event, select

from vigil.audit import writer as writer_module
from vigil.audit.log import record_access
from vigil.audit.verify import verify_chain
from vigil.audit.writer import writer_for
from vigil.db.audit import AuditEntry
from vigil.db.engine import make_engine, make_sessionmaker
from vigil.roles import Actor, Rank, Role

T0 = datetime(2022, 7, 1, tzinfo=UTC)
THREADS = 12
EACH = 15


def test_concurrent_reads_are_chained_in_shared_transactions(pg_url: str) -> None:
    engine = make_engine(pg_url)
    sf = make_sessionmaker(engine)
    commits: list[int] = []
    event.listen(engine, "commit", lambda conn: commits.append(1))
    acknowledged: list[str] = []
    lock = threading.Lock()

    def client(t: int) -> None:
        for i in range(EACH):
            record_access(
                sf,
                actor=Actor(f"u{t}", Role.OVERSIGHT, Rank.NONE),
                action="forecast.read",
                at=T0,
                detail={"t": t, "i": i},
            )
            # answered: the entry must be in the database now, committed
            with sf() as s:
                found = s.execute(
                    select(AuditEntry.seq).where(AuditEntry.detail == f'{{"i":{i},"t":{t}}}')
                ).scalar_one_or_none()
            assert found is not None
            with lock:
                acknowledged.append(f"{t}-{i}")

    try:
        assert writer_for(sf) is not None
        threads = [threading.Thread(target=client, args=(t,)) for t in range(THREADS)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert len(acknowledged) == THREADS * EACH
        with sf() as s:
            report = verify_chain(s)
            assert report.ok, report.problems
            assert report.entries == report.head_seq == THREADS * EACH
        # fewer transactions than entries: concurrent requests shared them
        assert len(commits) < THREADS * EACH, len(commits)
    finally:
        engine.dispose()


def test_one_bad_entry_fails_only_its_own_request(pg_url: str, monkeypatch) -> None:
    engine = make_engine(pg_url)
    sf = make_sessionmaker(engine)
    writer = writer_for(sf)
    assert writer is not None
    gate = threading.Event()
    real = writer_module.AuditWriter._transaction

    def held(self, entries):  # type: ignore[no-untyped-def]
        gate.wait(10)  # let several requests queue up, so they share a batch
        return real(self, entries)

    monkeypatch.setattr(writer_module.AuditWriter, "_transaction", held)
    results: dict[str, str] = {}

    def client(who: str, actor_id: str) -> None:
        try:
            record_access(
                sf, actor=Actor(actor_id, Role.OVERSIGHT, Rank.NONE), action="x.read", at=T0
            )
            results[who] = "ok"
        except Exception as exc:  # noqa: BLE001
            results[who] = type(exc).__name__

    try:
        threads = [
            threading.Thread(target=client, args=(f"good{i}", f"u{i}")) for i in range(4)
        ] + [threading.Thread(target=client, args=("bad", "x" * 500))]  # too long a column
        for th in threads:
            th.start()
        deadline = time.monotonic() + 10
        while writer._queue.qsize() < 4 and time.monotonic() < deadline:
            time.sleep(0.01)  # the first is held in its transaction, the others wait together
        gate.set()
        for th in threads:
            th.join()
        assert results.pop("bad") != "ok"
        assert set(results.values()) == {"ok"}, results
        with sf() as s:
            report = verify_chain(s)
            assert report.ok and report.entries == 4
    finally:
        engine.dispose()


def test_sqlite_keeps_the_entry_in_the_callers_transaction(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    assert writer_for(make_sessionmaker(engine)) is None
    engine.dispose()
