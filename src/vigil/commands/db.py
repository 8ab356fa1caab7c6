"""`vigil db ...`: the case database's migrations."""

from __future__ import annotations

import typer
from rich.console import Console

from vigil.settings import get_settings

app = typer.Typer(
    help="The case database (SQLite by default, PostgreSQL in production).", no_args_is_help=True
)


def database_url() -> str:
    """The configured URL; for SQLite, the data folder is created first."""
    settings = get_settings()
    if not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings.resolved_database_url


@app.command("upgrade")
def upgrade_cmd(
    url: str = typer.Option(None, "--url", help="SQLAlchemy URL (default: VIGIL_DATABASE_URL)"),
) -> None:
    """Apply every migration branch (alembic upgrade heads)."""
    from vigil.db.migrate import upgrade

    target = url or database_url()
    upgrade(target)
    shown = target.split("@")[-1] if "@" in target else target
    Console().print(f"database upgraded: {shown}")
