"""Concurrency: two authorising officers decide the same case at the same moment, on
PostgreSQL (row locks) and on SQLite (writers serialised by BEGIN IMMEDIATE).

Exactly one wins; the other gets a clear refusal; nothing is lost and the audit chain still
verifies. Concurrent audited reads all land in the chain without a duplicate sequence number
(the chain head row is locked by each appender)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.cases.conftest import AUTHORISER, AUTHORISER_2, OVERSIGHT
from vigil.audit.verify import verify_chain
from vigil.cases.service import CaseService
from vigil.cases.states import Status
from vigil.cases.workflow import InvalidTransition
from vigil.db.audit import AuditEntry
from vigil.db.cases import Authorisation


def _race(calls: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test checks
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_two_authorisers_race_exactly_one_wins(
    service: CaseService,
    ready_case: Callable[..., int],
    session_factory: sessionmaker[Session],
) -> None:
    for _ in range(3):  # a few rounds: the loser differs by scheduling, the outcome must not
        case_id = ready_case()
        results = _race(
            [
                lambda c=case_id: service.authorise(AUTHORISER, c, conditions="first"),
                lambda c=case_id: service.authorise(AUTHORISER_2, c, conditions="second"),
            ]
        )
        wins = [r for r in results if not isinstance(r, Exception)]
        losses = [r for r in results if isinstance(r, Exception)]
        assert len(wins) == 1 and len(losses) == 1, results
        assert isinstance(losses[0], InvalidTransition)
        assert "cannot authorise a case that is authorised" in str(losses[0])
        with session_factory() as s:
            n_auth = s.scalar(
                select(func.count())
                .select_from(Authorisation)
                .where(Authorisation.case_id == case_id)
            )
            n_entries = s.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.case_id == case_id, AuditEntry.action == "case.authorise")
            )
        assert n_auth == 1 and n_entries == 1
        view = service.get_case(OVERSIGHT, case_id)
        assert view.status is Status.AUTHORISED
        assert view.conditions == wins[0].conditions
    with session_factory() as s:
        report = verify_chain(s)
    assert report.ok, report.problems


def test_concurrent_audited_reads_extend_the_chain_one_at_a_time(
    service: CaseService,
    open_case: Callable[..., int],
    session_factory: sessionmaker[Session],
) -> None:
    case_id = open_case()
    with session_factory() as s:
        before = s.scalar(select(func.count()).select_from(AuditEntry))
    results = _race([lambda: service.get_case(OVERSIGHT, case_id) for _ in range(8)])
    assert not [r for r in results if isinstance(r, Exception)], results
    with session_factory() as s:
        after = s.scalar(select(func.count()).select_from(AuditEntry))
        report = verify_chain(s)
    assert after == before + 8
    assert report.ok, report.problems
