"""Issue 11: kill -9 of a server during concurrent writes loses no acknowledged write.

``vigil serve`` in its own process, four clients opening cases and reading them (audited) as
fast as they can; the server is killed with SIGKILL mid-load and started again on the same
database. Every case whose creation was answered 201 is there, every stored case has its audit
entry (nothing half-written) and the chain verifies. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import select

from tests.ops._live import case_body, free_port
from vigil.audit.verify import verify_chain
from vigil.clock import SystemClock
from vigil.db.audit import AuditEntry
from vigil.db.cases import Case
from vigil.db.engine import make_engine, make_sessionmaker
from vigil.db.identity import IdentityStore

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _start(url: str, data_dir: Path, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": SRC,
        "VIGIL_DATABASE_URL": url,
        "VIGIL_DATA_DIR": str(data_dir),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "vigil.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(data_dir / "server.log").open("ab"),
    )
    deadline = time.monotonic() + 240  # a loaded CI machine takes its time to import it all
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=30).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        log = (data_dir / "server.log").read_text()[-2000:]
        assert server.poll() is None, f"vigil serve exited: {log}"
        assert time.monotonic() < deadline, f"vigil serve not ready in 240 s: {log}"
        time.sleep(0.2)


def _client(base: str, auth: dict, stop: threading.Event, acked: list, failures: list) -> None:
    with httpx.Client(base_url=base, headers=auth, timeout=60) as client:
        while not stop.is_set():
            try:
                r = client.post("/api/cases", json=case_body())
                if r.status_code == 201:
                    acked.append(r.json()["id"])
                    client.get(f"/api/cases/{r.json()['id']}")
                else:
                    failures.append(r.status_code)
            except httpx.TransportError:
                time.sleep(0.05)  # the server is gone: the write was never acknowledged


def test_kill_9_mid_writes_loses_no_acknowledged_write(db_url, tmp_path):
    engine = make_engine(db_url)
    sf = make_sessionmaker(engine)
    ids = IdentityStore(sf, SystemClock())  # the server's clock: its tokens expire by it
    user = ids.create_user("analyst", "correct horse battery staple", "analyst")
    auth = {"Authorization": f"Bearer {ids.issue_token(user, 'load')}"}
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    server = _start(db_url, tmp_path, port)
    stop, acked, failures = threading.Event(), [], []
    clients = [
        threading.Thread(target=_client, args=(base, auth, stop, acked, failures)) for _ in range(4)
    ]
    try:
        for c in clients:
            c.start()
        deadline = time.monotonic() + 60
        while len(acked) < 8:  # well into the load
            assert time.monotonic() < deadline, f"no load: {failures[:5]}"
            time.sleep(0.05)
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
        killed_at = len(acked)
        time.sleep(0.5)
        stop.set()
        for c in clients:
            c.join(timeout=30)
        server = _start(db_url, tmp_path, port)  # the same database, a new process
        after = httpx.post(f"{base}/api/cases", json=case_body(), headers=auth, timeout=60)
        assert after.status_code == 201, after.text
    finally:
        stop.set()
        server.kill()
        server.wait(timeout=10)

    assert failures == [], failures[:5]
    assert len(acked) >= killed_at >= 8
    with sf() as s:
        stored = set(s.execute(select(Case.id)).scalars())
        audited = set(
            s.execute(select(AuditEntry.case_id).where(AuditEntry.case_id.is_not(None))).scalars()
        )
        report = verify_chain(s)
    engine.dispose()
    assert set(acked) <= stored, f"acknowledged but lost: {sorted(set(acked) - stored)}"
    assert stored <= audited, f"half-written cases: {sorted(stored - audited)}"
    assert report.ok, report
