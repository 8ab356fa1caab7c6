"""Issue 11: with PostgreSQL stopped, every page and API call got a bare text/plain 500.

A live server over a private PostgreSQL server under concurrent writes (cases opened, audited
reads); the database is stopped mid-load and started again. While it is down the API answers
503 JSON with Retry-After, browsers get the app's own page, /readyz says not ready and /healthz
still answers; once it is back the same process serves again (no restart). Afterwards every
acknowledged case is there, no case lacks its audit entry, and the chain verifies.
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from sqlalchemy import func, select

from tests.ops._live import case_body, serve, small_app, token_for
from tests.ops._pg import pg_ctl, private_server
from vigil.audit.verify import verify_chain
from vigil.db.audit import AuditEntry
from vigil.db.cases import Case
from vigil.db.engine import make_engine, make_sessionmaker

pytestmark = pytest.mark.postgres


def _load(base: str, auth: dict, stop: threading.Event, results: list) -> None:
    with httpx.Client(base_url=base, headers=auth, timeout=30) as client:
        last_case = None
        while not stop.is_set():
            try:
                r = client.post("/api/cases", json=case_body())
                results.append(("open", r.status_code, r))
                if r.status_code == 201:
                    last_case = r.json()["id"]
                if last_case is not None:
                    r = client.get(f"/api/cases/{last_case}")
                    results.append(("read", r.status_code, r))
            except httpx.TransportError as exc:  # the server itself must never drop a call
                results.append(("transport", 0, exc))
            time.sleep(0.02)


def test_database_stopped_and_restarted_mid_load(tmp_path):
    with private_server() as pg:
        url = pg.url_for(pg.create_database())
        app = small_app(tmp_path, url)
        auth = {"Authorization": f"Bearer {token_for(app, 'analyst', 'analyst')}"}
        with serve(app) as (host, port):
            base = f"http://{host}:{port}"
            stop, results = threading.Event(), []
            threads = [
                threading.Thread(target=_load, args=(base, auth, stop, results)) for _ in range(4)
            ]
            for t in threads:
                t.start()
            time.sleep(1.5)
            pg_ctl(pg, "stop")
            time.sleep(1.0)
            outage_start = len(results)
            time.sleep(1.5)
            down_api = httpx.get(f"{base}/api/cases", headers=auth)
            down_page = httpx.get(f"{base}/cases", headers={**auth, "Accept": "text/html"})
            down_ready = httpx.get(f"{base}/readyz")
            down_health = httpx.get(f"{base}/healthz")
            outage = results[outage_start:]
            pg_ctl(pg, "start")
            deadline = time.monotonic() + 30
            while httpx.get(f"{base}/readyz").status_code != 200:
                assert time.monotonic() < deadline, "not ready 30 s after the database returned"
                time.sleep(0.2)
            recovered_from = len(results)
            time.sleep(2.0)
            stop.set()
            for t in threads:
                t.join(timeout=60)

        # while the database was down: the app's own answers, never a bare 500
        assert down_api.status_code == 503
        assert down_api.headers["retry-after"] == "5"
        assert down_api.json()["error"] == "DatabaseUnavailable"
        assert down_page.status_code == 503
        assert down_page.headers["content-type"].startswith("text/html")
        assert "Service temporarily unavailable" in down_page.text
        assert "content-security-policy" in down_page.headers
        assert down_ready.status_code == 503
        assert down_ready.json()["checks"]["database"].startswith("unavailable")
        assert down_health.status_code == 200
        assert outage and {status for _, status, _ in outage} == {503}

        statuses = {status for _, status, _ in results}
        assert statuses <= {200, 201, 503}, statuses
        after = results[recovered_from:]
        assert any(status == 201 for _, status, _ in after), "no write succeeded after recovery"

        # nothing acknowledged is lost, nothing half-written, the chain intact
        acked = {r.json()["id"] for kind, status, r in results if kind == "open" and status == 201}
        engine = make_engine(url)
        with make_sessionmaker(engine)() as s:
            stored = set(s.execute(select(Case.id)).scalars())
            audited = set(
                s.execute(
                    select(AuditEntry.case_id)
                    .where(AuditEntry.case_id.is_not(None))
                    .group_by(AuditEntry.case_id)
                    .having(func.count() > 0)
                ).scalars()
            )
            report = verify_chain(s)
        engine.dispose()
        assert acked <= stored, f"acknowledged but lost: {sorted(acked - stored)}"
        assert stored <= audited, f"cases without their audit entry: {sorted(stored - audited)}"
        assert report.ok, report
