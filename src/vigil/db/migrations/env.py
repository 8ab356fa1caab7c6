"""Alembic environment: imports every table module under vigil.db so the metadata is complete
(autogenerate then sees every team's tables), and runs online against the configured URL."""

from __future__ import annotations

import importlib
import pkgutil

from alembic import context

import vigil.db
from vigil.db.base import Base
from vigil.db.engine import make_engine

for _mod in pkgutil.iter_modules(vigil.db.__path__):
    if _mod.name not in {"migrations", "migrate", "engine"}:
        importlib.import_module(f"vigil.db.{_mod.name}")

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    connectable = config.attributes.get("connection")
    if connectable is None:
        engine = make_engine(url)
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connectable)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
