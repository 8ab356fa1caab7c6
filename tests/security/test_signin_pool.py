"""Finding: 30 concurrent failing sign-ins slowed other users' requests from 22 ms to 4 s
(argon2 ran on the request path, unbounded).

Passwords are now checked on a small dedicated pool (``signin_workers`` threads and a short
queue; beyond that a sign-in is refused with 503 and Retry-After). The test serves the real app
with uvicorn on a loopback port and holds every password check open with a gate: with checks
stuck, another user's request must still be answered at once. Under the old code (sign-in on
the server's shared 40-thread pool) the 60 stuck sign-ins took every thread and the other
request hung. The timings under real argon2 are in benchmarks/bench_signin.py.
"""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import uvicorn
from argon2 import PasswordHasher

from tests.security._identity import build
from vigil.db import migrate
from vigil.db.identity import IdentityStore, LocalIdentityProvider

WORKERS = 2
QUEUE = 16


class GatedHasher(PasswordHasher):
    """argon2 that waits at a gate before each check, counting how many run at once."""

    def __init__(self, gate: threading.Event) -> None:
        super().__init__()
        self.gate = gate
        self.running = 0
        self.peak = 0
        self.lock = threading.Lock()

    def _hold(self) -> None:
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            self.gate.wait(30)
        finally:
            with self.lock:
                self.running -= 1

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:  # noqa: A002
        self._hold()
        return super().verify(hash, password)

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self._hold()
        return super().hash(password, salt=salt)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_failing_sign_ins_cannot_starve_other_requests(tmp_path: Path, clock) -> None:
    url = f"sqlite:///{tmp_path / 'vigil.db'}"
    migrate.upgrade(url)
    env = build(url, clock, tmp_path)
    gate = threading.Event()
    hasher = GatedHasher(gate)
    ctx = env.app.state.ctx
    ctx.identity = IdentityStore(ctx.session_factory, clock, hasher=hasher)
    ctx.provider = LocalIdentityProvider(ctx.identity)
    from vigil.identity.pool import HashPool

    ctx.signin_pool = HashPool(WORKERS, queue=QUEUE)

    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(env.app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    try:
        csrf = httpx.get(f"{base}/login").cookies["vigil_login_csrf"]

        def attempt(i: int) -> httpx.Response:
            return httpx.post(
                f"{base}/login",
                data={"username": f"nobody{i}", "password": "wrong guess here", "csrf_token": csrf},
                cookies={"vigil_login_csrf": csrf},
                timeout=60,
            )

        with ThreadPoolExecutor(60) as pool:
            futures = [pool.submit(attempt, i) for i in range(60)]
            deadline = time.monotonic() + 10
            while hasher.running < WORKERS and time.monotonic() < deadline:
                time.sleep(0.02)
            assert hasher.running == WORKERS  # checks are stuck at the gate
            # meanwhile another user is served at once
            t0 = time.monotonic()
            r = httpx.get(f"{base}/api/me", headers=env.bearer("analyst"), timeout=5)
            served_in = time.monotonic() - t0
            assert r.status_code == 200 and r.json()["username"] == "analyst"
            busy = [f.result() for f in futures if f.done()]
            gate.set()
            results = [f.result() for f in futures]
        statuses = [r.status_code for r in results]
        assert set(statuses) <= {401, 503}
        # beyond the pool and its queue, sign-ins are refused at once, not queued for ever
        assert statuses.count(503) >= 60 - WORKERS - QUEUE
        assert all(r.headers["Retry-After"] for r in results if r.status_code == 503)
        assert any(r.status_code == 503 for r in busy)
        assert hasher.peak <= WORKERS
        assert served_in < 5
    finally:
        gate.set()
        server.should_exit = True
        thread.join(10)
