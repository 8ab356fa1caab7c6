"""Issue 10: several app processes appending to the audit log at once on PostgreSQL keep one
valid chain and lose no entry; a transaction that has appended does not hold the chain head
while it works, only for its last statements before commit."""

from __future__ import annotations

import multiprocessing
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from vigil.audit.log import Category, append
from vigil.audit.verify import verify_chain
from vigil.db.audit import AuditEntry
from vigil.db.engine import make_engine, make_sessionmaker
from vigil.roles import Actor, Rank, Role

T0 = datetime(2022, 7, 1, tzinfo=UTC)
PER_THREAD = 60
THREADS = 3
PROCESSES = 2


def _read(s: Session, who: str, case_id: int | None, **detail: int | str) -> None:
    """Log one case read by ``who`` in ``s``'s transaction (parked until it commits)."""
    append(
        s,
        actor=Actor(who, Role.OVERSIGHT, Rank.NONE),
        action="case.read",
        category=Category.CONSULTATION,
        at=T0 + timedelta(seconds=int(detail.get("i", 0))),
        case_id=case_id,
        detail=detail or None,
    )


def _writer(url: str, tag: str, n: int) -> None:
    """One app process's worth of audited requests: each its own transaction and commit."""
    engine = make_engine(url)
    sf = make_sessionmaker(engine)
    for i in range(n):
        with sf() as s, s.begin():
            _read(s, f"u-{tag}", 1 + i % 7, writer=tag, i=i)
    engine.dispose()


def _process(url: str, p: int) -> None:
    threads = [
        threading.Thread(target=_writer, args=(url, f"p{p}t{t}", PER_THREAD))
        for t in range(THREADS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_processes_appending_at_once_keep_one_chain(pg_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_process, args=(pg_url, p)) for p in range(PROCESSES)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
        assert p.exitcode == 0
    engine = make_engine(pg_url)
    try:
        with make_sessionmaker(engine)() as s:
            report = verify_chain(s)
            assert report.ok, report.problems
            total = PROCESSES * THREADS * PER_THREAD
            assert report.entries == report.head_seq == total
            details = set(s.execute(select(AuditEntry.detail)).scalars())
        # every request's entry is there, exactly once
        want = {
            f'{{"i":{i},"writer":"p{p}t{t}"}}'
            for p in range(PROCESSES)
            for t in range(THREADS)
            for i in range(PER_THREAD)
        }
        assert details == want
    finally:
        engine.dispose()


def test_an_open_transaction_does_not_hold_the_chain(pg_url: str) -> None:
    """A slow request that has appended (its transaction still open) does not block another
    process's audited request: the head is locked only while a transaction commits."""
    slow_engine, fast_engine = make_engine(pg_url), make_engine(pg_url)
    slow = make_sessionmaker(slow_engine)()
    try:
        slow.begin()
        _read(slow, "u-slow", 1)
        slow.execute(select(AuditEntry.seq).limit(1))  # the transaction is open on the server
        with make_sessionmaker(fast_engine)() as fast, fast.begin():
            fast.execute(text("SET LOCAL lock_timeout = '3s'"))  # fail rather than wait
            _read(fast, "u-fast", 2)
        slow.commit()
        with make_sessionmaker(fast_engine)() as s:
            report = verify_chain(s)
            assert report.ok and report.entries == 2
            actors = list(s.execute(select(AuditEntry.actor_id).order_by(AuditEntry.seq)).scalars())
            assert actors == ["u-fast", "u-slow"]
        # a rolled-back transaction leaves no entry behind
        with make_sessionmaker(fast_engine)() as s:
            s.begin()
            _read(s, "u-gone", None)
            s.rollback()
        with make_sessionmaker(fast_engine)() as s, s.begin():
            pass  # a later commit on the same kind of session chains nothing stale
        with make_sessionmaker(fast_engine)() as s:
            assert verify_chain(s).entries == 2
    finally:
        slow.close()
        slow_engine.dispose()
        fast_engine.dispose()
