"""Issue 11: background jobs once, not per process.

The job lock admits one holder at a time (PostgreSQL advisory lock; a file lock on SQLite) and
a holder that dies frees it. Then the real thing: ``vigil serve --workers 2`` (two app processes,
each with its sweeper) and two ``vigil case sweep``-style sweeper processes run at once over
PostgreSQL holding active cases whose windows have ended: every expiry is written exactly once,
every overdue debrief flagged once, and the audit chain verifies.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from tests.cases.conftest import (
    ANALYST,
    AUTHORISER,
    COMMANDER_LAMBETH,
    COMMUNITY_LEAD,
    complete_cia,
    hot_cells,  # noqa: F401 - a fixture
    lambeth_surface,  # noqa: F401 - a fixture
    no_breaches,
)
from tests.ops._live import free_port
from vigil.audit.verify import verify_chain
from vigil.cases.service import CaseService
from vigil.cases.statements import Consultation
from vigil.cases.states import Status
from vigil.db.audit import AuditEntry
from vigil.db.cases import Case, Notification
from vigil.db.engine import make_engine, make_sessionmaker
from vigil.db.joblock import JobLock
from vigil.impact.case_service import case_service

SRC = str(Path(__file__).resolve().parents[2] / "src")


def test_job_lock_admits_one_holder(db_url):
    first, second = make_engine(db_url), make_engine(db_url)
    try:
        with JobLock(first).held() as mine:
            assert mine
            with JobLock(second).held() as theirs:
                assert not theirs
            with JobLock(second, name="another job").held() as other:
                assert other  # a different job is not blocked
        with JobLock(second).held() as theirs:
            assert theirs  # released at the end of the pass
    finally:
        first.dispose()
        second.dispose()


def test_a_killed_holder_frees_the_lock(db_url, tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from vigil.db.engine import make_engine
                from vigil.db.joblock import JobLock
                with JobLock(make_engine({db_url!r})).held() as mine:
                    print("held" if mine else "missed", flush=True)
                    time.sleep(120)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": SRC},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        engine = make_engine(db_url)
        with JobLock(engine).held() as mine:
            assert not mine
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        deadline = time.monotonic() + 10
        while True:
            with JobLock(engine).held() as mine:
                if mine:
                    break
            assert time.monotonic() < deadline, "the lock outlived its killed holder"
            time.sleep(0.1)
        engine.dispose()
    finally:
        holder.kill()


def _active_cases(service: CaseService, n: int, cells, surface) -> list[int]:
    ids = []
    for _ in range(n):
        now = service.clock.now()
        case_id = service.open_case(
            ANALYST,
            trigger="proactive",
            cells=cells,
            evidence=surface,
            window=(now + timedelta(minutes=5), now + timedelta(hours=2)),
            resources="two crews on foot",
            objectives="deter violence around the interchange",
            success_measures=["no serious violence in the area during the window"],
        ).id
        service.submit(ANALYST, case_id)
        service.record_consultation(
            COMMANDER_LAMBETH,
            case_id,
            Consultation("local_commander", "concur", "supports a short window"),
        )
        service.record_consultation(
            COMMUNITY_LEAD,
            case_id,
            Consultation("community", "concur", "IAG supports a short window"),
        )
        service.attach_impact_assessment(COMMUNITY_LEAD, case_id, complete_cia())
        service.review_impact_assessment(AUTHORISER, case_id, "assessment is sufficient")
        service.request_authorisation(ANALYST, case_id)
        service.authorise(AUTHORISER, case_id, conditions="stay in the area")
        service.notify_oversight(AUTHORISER, case_id, "authorised 2 h in Lambeth")
        service.clock.advance(timedelta(minutes=6))  # type: ignore[attr-defined]
        assert service.activate(COMMANDER_LAMBETH, case_id).status is Status.ACTIVE
        ids.append(case_id)
    return ids


SWEEPER = textwrap.dedent(
    """
    import sys, time
    from vigil.http.background import run_pass
    from vigil.clock import SystemClock
    from vigil.impact.case_service import case_service
    from vigil.db.engine import make_engine, make_sessionmaker
    engine = make_engine(sys.argv[1])
    service = case_service(make_sessionmaker(engine), SystemClock())
    tried = ran = 0
    deadline = time.monotonic() + float(sys.argv[2])
    while time.monotonic() < deadline:
        ran += run_pass(engine, service).ran
        tried += 1
        time.sleep(0.01)
    print(tried, ran, flush=True)
    """
)


@pytest.mark.postgres
def test_two_app_processes_and_two_sweepers_write_each_expiry_once(
    pg_url,
    clock,
    tmp_path,
    hot_cells,  # noqa: F811
    lambeth_surface,  # noqa: F811
):
    engine = make_engine(pg_url)
    sf = make_sessionmaker(engine)
    # the windows are in July 2022 (the fixed clock); the processes run on the real clock, for
    # which every window has long ended and every debrief is overdue
    service = case_service(sf, clock, check=no_breaches)
    cases = _active_cases(service, 6, hot_cells, lambeth_surface)
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": SRC,
        "VIGIL_DATABASE_URL": pg_url,
        "VIGIL_DATA_DIR": str(tmp_path),
        "VIGIL_SWEEP_SECONDS": "0.05",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "vigil.cli", "serve", "--workers", "2", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    sweepers = [
        subprocess.Popen(
            [sys.executable, "-c", SWEEPER, pg_url, "6"],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        passes = [p.communicate(timeout=90)[0].split() for p in sweepers]
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            assert time.monotonic() < deadline, "vigil serve --workers 2 did not become ready"
            time.sleep(0.2)
        metrics = httpx.get(f"{base}/metrics").text
        time.sleep(1.0)  # both app workers' sweepers have had their turns too
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        for p in sweepers:
            p.kill()

    # both sweepers tried many passes (each ran those it held the lock for)
    assert all(int(tried) >= 1 for tried, _ in passes), passes
    assert "vigil_sweeps_total" in metrics
    with sf() as s:
        expiries = dict(
            s.execute(
                select(AuditEntry.case_id, func.count())
                .where(AuditEntry.action.like("%expire%"))
                .group_by(AuditEntry.case_id)
            ).all()
        )
        statuses = set(s.execute(select(Case.status).where(Case.id.in_(cases))).scalars())
        flags = dict(
            s.execute(
                select(Notification.case_id, func.count())
                .where(Notification.kind == "overdue_debrief")
                .group_by(Notification.case_id)
            ).all()
        )
        report = verify_chain(s)
    engine.dispose()
    assert expiries == dict.fromkeys(cases, 1), expiries
    assert statuses == {Status.EXPIRED.value}
    assert flags == dict.fromkeys(cases, 1), flags
    assert report.ok, report
