"""Run the Alembic migrations from code (tests, `vigil db upgrade`, the web app's start-up).

Every team's tables live on an independent Alembic branch (cases + audit: ``cases``; users and
sessions: ``identity``; ...), so the target is always ``heads``, never ``head``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the packaged migrations and the given database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", str(MIGRATIONS_DIR / "versions"))
    # ConfigParser interpolation would choke on a '%' in a password
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


def upgrade(url: str, target: str = "heads") -> None:
    """Bring the database at ``url`` up to every branch head."""
    command.upgrade(alembic_config(url), target)


def downgrade(url: str, target: str = "base") -> None:
    command.downgrade(alembic_config(url), target)


@lru_cache(maxsize=1)
def _script() -> Any:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def _as_tuple(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def missing_heads(current: tuple[str, ...] | set[str]) -> list[str]:
    """The migration heads not applied to a database whose version table holds ``current``.

    Alembic records a head that another branch's head depends on only implicitly (outcomes
    depends on cases), so a head counts as applied when it is a recorded head or an ancestor
    (down revision or dependency) of one."""
    script = _script()
    applied: set[str] = set()
    stack = list(current)
    while stack:
        rev_id = stack.pop()
        if rev_id in applied:
            continue
        applied.add(rev_id)
        rev = script.get_revision(rev_id)
        if rev is not None:
            stack += [*_as_tuple(rev.down_revision), *_as_tuple(rev.dependencies)]
    return sorted(set(script.get_heads()) - applied)
