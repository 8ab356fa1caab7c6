"""A live server for the browser tests: uvicorn in a thread of the test process, serving the
app over a fresh migrated SQLite database, a real forecast (tests/api/_fixtures) and a
FixedClock the test moves directly. Headless Chromium is Debian's, driven by Playwright."""

from __future__ import annotations

import socket
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.api import _fixtures
from vigil.api import create_app
from vigil.api.history import frame_history_source
from vigil.clock import FixedClock
from vigil.db import migrate
from vigil.db.engine import make_engine, make_sessionmaker
from vigil.settings import Settings

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """(base_url, clock) of a running server."""
    import uvicorn

    tmp: Path = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{tmp / 'vigil.db'}"
    migrate.upgrade(url)
    sf = make_sessionmaker(make_engine(url))
    clock = FixedClock(datetime(2022, 7, 1, 9, 0, tzinfo=UTC))
    settings = Settings(data_dir=tmp, database_url=url, shared_data=_fixtures.SHARED)
    surface = _fixtures.surface()
    app = create_app(
        settings,
        clock,
        sf,
        surface_source=lambda: surface,
        history_source=frame_history_source(_fixtures.violence()),
    )
    ids = app.state.ctx.identity
    for username, role, rank, borough in _fixtures.ACCOUNTS:
        ids.create_user(
            username,
            _fixtures.PASSWORD,
            role,
            rank=rank,
            borough=borough,
            display_name=f"{role.replace('_', ' ').title()} ({username})",
        )
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start in 30 s")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", clock
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: run scripts/setup.sh --test (Debian chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
