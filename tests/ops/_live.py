"""A live Vigil server for tests that need real sockets: uvicorn in a thread of the test
process on 127.0.0.1, over a fresh migrated SQLite database in a temp folder."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from vigil.clock import FixedClock
from vigil.db import migrate
from vigil.db.engine import make_engine, make_sessionmaker
from vigil.server import create_app
from vigil.settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


#: a Westminster square (EPSG:27700) for cases opened without a forecast
WESTMINSTER = "POLYGON((529000 180000, 529800 180000, 529800 180800, 529000 180800, 529000 180000))"


def small_app(tmp: Path, url: str | None = None, **settings: Any) -> FastAPI:
    """The real app over ``url`` (default: a fresh SQLite database in ``tmp``), migrated, with a
    FixedClock and no forecast."""
    url = url or f"sqlite:///{tmp / 'vigil.db'}"
    migrate.upgrade(url)
    sf = make_sessionmaker(make_engine(url))
    clock = FixedClock(datetime(2022, 7, 1, 9, 0, tzinfo=UTC))
    return create_app(
        Settings(data_dir=tmp, database_url=url, **settings),
        clock,
        sf,
        surface_source=lambda: None,
    )


def token_for(app: FastAPI, username: str, role: str, **account: Any) -> str:
    """A bearer token of a new account with ``role``."""
    ids = app.state.ctx.identity
    user = ids.create_user(username, "correct horse battery staple", role, **account)
    return str(ids.issue_token(user, "tests"))


def case_body(**fields: Any) -> dict[str, Any]:
    """A valid new case on the Westminster square, starting an hour after the fixed clock."""
    return {
        "area_wkt": WESTMINSTER,
        "use_current_forecast": False,
        "start": "2022-07-01T10:00:00+00:00",
        "end": "2022-07-01T16:00:00+00:00",
        "resources": "Officers on foot",
        "objectives": "Prevent serious violence",
        "success_measures": ["No knife injuries"],
        **fields,
    }


@contextmanager
def serve(app: FastAPI) -> Iterator[tuple[str, int]]:
    """(host, port) of ``app`` served by uvicorn until the block ends."""
    import uvicorn

    port = free_port()
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
    try:
        yield "127.0.0.1", port
    finally:
        server.should_exit = True
        thread.join(timeout=10)
