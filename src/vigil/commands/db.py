"""`vigil db ...`: the case database's migrations."""

from __future__ import annotations

from pathlib import Path

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
    Console(soft_wrap=True).print(f"database upgraded: {shown}")


@app.command("backup")
def backup_cmd(
    out: Path = typer.Argument(..., help="backup file to write (a manifest OUT.json beside it)"),
    url: str = typer.Option(None, "--url", help="SQLAlchemy URL (default: VIGIL_DATABASE_URL)"),
) -> None:
    """Back up the case database: pg_dump (custom format) on PostgreSQL, the SQLite backup API
    on SQLite. The incident store (Parquet under VIGIL_DATA_DIR/store) is copied as files."""
    from vigil.app.backup import BackupError, backup

    try:
        manifest = backup(url or database_url(), out)
    except BackupError as exc:
        Console(stderr=True, soft_wrap=True).print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None
    if not manifest.chain_ok:
        Console(stderr=True, soft_wrap=True).print(
            "[yellow]warning:[/] the audit chain does not verify; this backup will not restore: "
            + "; ".join(manifest.problems[:3])
        )
    Console(soft_wrap=True).print(
        f"backup written: {out} ({manifest.backend}, {manifest.entries} audit entries, "
        f"head {manifest.audit_seq} {manifest.audit_hash[:16]})"
    )


@app.command("restore")
def restore_cmd(
    backup_file: Path = typer.Argument(..., help="a file written by `vigil db backup`"),
    url: str = typer.Option(None, "--url", help="SQLAlchemy URL (default: VIGIL_DATABASE_URL)"),
) -> None:
    """Restore a backup over the case database, once the restored copy verifies (audit chain,
    the head its manifest recorded). Stop the server first. The replaced database is kept
    (renamed) until you remove it; a copy that fails verification is dropped, nothing changed."""
    from vigil.app.backup import BackupError, restore

    try:
        report = restore(url or database_url(), backup_file)
    except BackupError as exc:
        Console(stderr=True, soft_wrap=True).print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None
    v = report.verification
    console = Console(soft_wrap=True)  # paths are copied by hand: never wrapped
    console.print(
        f"restored {backup_file} into {report.target}: audit chain OK "
        f"({v.entries} entries, head {v.audit_seq} {v.audit_hash[:16]})"
    )
    if report.previous:
        console.print(f"the replaced database is kept as {report.previous}")
    if v.missing_migrations:
        console.print(
            f"the backup predates migrations {', '.join(v.missing_migrations)}: run "
            "`vigil db upgrade`"
        )
