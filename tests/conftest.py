"""Shared fixtures: where the real data live, an injectable clock, and case databases.

Database fixtures (the PostgreSQL machinery lives in tests/db/pg_server.py):

- ``pg_server`` (session): a private PostgreSQL 15 server started by the test run from the
  Debian binaries (initdb/pg_ctl in a temp dir, free port; via ``runuser -u postgres`` when
  root), stopped at the end. ``VIGIL_TEST_DATABASE_URL`` (a superuser URL to a maintenance
  database) makes it use that server instead. Missing binaries FAIL the test, asking to run
  ``scripts/setup.sh --test``: never a silent skip.
- ``db_url`` (function, parametrised ``sqlite`` / ``postgresql``): a fresh database migrated to
  Alembic ``heads`` (every team's branch). Each backend is migrated once per session into a
  template (a file copied per test on SQLite; ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL),
  so a fresh database costs milliseconds.
- ``pg_url``: the same, PostgreSQL only (races, triggers).
- ``session_factory``: a ``sessionmaker`` over ``vigil.db.engine.make_engine(db_url)``;
  its engine is disposed after the test.
- ``cli_db``: ``db_url`` set as ``VIGIL_DATABASE_URL`` for tests of the ``vigil`` command.

Password hashing runs at argon2's lightest parameters in tests (``_light_argon2``).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.db.pg_server import PostgresServer, PostgresUnavailable, start_server
from vigil.clock import FixedClock
from vigil.db.engine import make_engine, make_sessionmaker
from vigil.db.migrate import upgrade
from vigil.settings import _find_shared_data, get_settings

SHARED = _find_shared_data()

#: argon2id at its lightest: 1 pass over 1 MiB, one lane
LIGHT_ARGON2 = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}


def pytest_itemcollected(item: pytest.Item) -> None:
    """Put the tests that share a module's costly fixtures on one xdist worker (``--dist
    loadgroup``).

    Dealt out one by one, both workers built a module's fixtures (a migrated app, fitted models,
    a live server) whenever the module's tests landed on both. A group goes to one worker
    whole, and xdist deals the largest groups first, so the long modules start early instead of
    ending the run on one worker while the other waits. Session-scoped fixtures are built at
    most once per worker: tests that share only those (Chromium, ``browser``; the seeded
    season, ``seeded``: a few seconds of CPU, tests/web/conftest.py) are not grouped, so that
    the long browser tests over the seeded season share out between both workers instead of
    making one worker's tail. (Marked as each test is collected: xdist reads the groups in
    ``pytest_collection_modifyitems``.)
    """
    if item.get_closest_marker("xdist_group") is not None:
        return  # the module names its own group (shared with another module)
    info = getattr(item, "_fixtureinfo", None)
    defs = info.name2fixturedefs if info is not None else {}
    if any(d and d[-1].scope == "module" for d in defs.values()):
        item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Name each grouped test ``<nodeid>@<group>`` on an xdist worker under loadgroup, as
    xdist means to: pytest-xdist 3.8 writes the suffix to ``item._nodeid``, which pytest 9
    no longer reads (``_id``), so every group was silently dealt out test by test."""
    from _pytest.nodes import coerce_node_id

    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        groups = sorted({str(m.args[0]) for m in item.iter_markers("xdist_group") if m.args})
        if groups and "@" not in item.nodeid:
            item._id = coerce_node_id(f"{item.nodeid}@{'_'.join(groups)}")  # noqa: SLF001


@pytest.fixture(scope="session", autouse=True)
def _light_argon2() -> Iterator[None]:
    """Every account store the tests build hashes passwords with argon2id at its lightest.

    The production parameters (argon2-cffi's defaults, 64 MiB and 3 passes: 0.1-0.8 s a hash on
    this 2-core machine) were paid for every account a fixture created and every sign-in. What
    the tests check (argon2id hashes, verification, throttling, the sign-in pool) does not
    depend on the cost, and each hash records its own parameters; the real cost is measured by
    benchmarks/bench_signin.py. Hashers a test builds itself (tests/security/test_signin_pool)
    keep the production parameters.
    """
    import functools

    import vigil.db.identity

    patch = pytest.MonkeyPatch()
    light = functools.partial(vigil.db.identity.PasswordHasher, **LIGHT_ARGON2)
    patch.setattr(vigil.db.identity, "PasswordHasher", light)
    yield
    patch.undo()


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    """Headless Chromium for every browser test a worker runs (tests/web, tests/oidc), started
    once: each test opens its own context (separate cookies and storage), so a test sees no
    other's state, and Chromium and Playwright's driver start once per worker, not per module."""
    from tests.web._browser import chromium

    with chromium() as b:
        yield b


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED / "met-street-2022").is_dir():
        pytest.fail(f"real data not found at {SHARED}; clone beside shared/data")
    return SHARED


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2022, 7, 1, 9, 0, tzinfo=UTC))


# ---------------------------------------------------------------------- case databases
@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    try:
        server = start_server()
    except PostgresUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def _pg_template(pg_server: PostgresServer) -> Iterator[str]:
    name = pg_server.create_database()
    upgrade(pg_server.url_for(name))
    yield name
    pg_server.drop_database(name)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


def _fresh_pg(request: pytest.FixtureRequest) -> Iterator[str]:
    server: PostgresServer = request.getfixturevalue("pg_server")
    template: str = request.getfixturevalue("_pg_template")
    name = server.create_database(template=template)
    try:
        yield server.url_for(name)
    finally:
        server.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("_sqlite_template")
        path = tmp_path / "vigil.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
    else:
        yield from _fresh_pg(request)


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    yield from _fresh_pg(request)


@pytest.fixture
def session_factory(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    try:
        yield make_sessionmaker(engine)
    finally:
        engine.dispose()


@pytest.fixture
def cli_db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``db_url`` as the ``vigil`` command's case database (VIGIL_DATABASE_URL; the cached
    settings are re-read before and after)."""
    monkeypatch.setenv("VIGIL_DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield db_url
    get_settings.cache_clear()
