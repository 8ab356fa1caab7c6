"""`vigil serve`: the web application, in one process or several."""

from __future__ import annotations

import os
import tempfile

import typer


def register(app: typer.Typer) -> None:
    """Add the `serve` command to ``app``."""

    @app.command()
    def serve(
        host: str = typer.Option("127.0.0.1", help="interface to listen on"),
        port: int = typer.Option(8000, help="TCP port"),
        workers: int = typer.Option(
            1, min=1, max=64, help="worker processes (several need PostgreSQL in production)"
        ),
    ) -> None:
        """Serve the web application (map, cases, oversight) and its API (/openapi.json).

        Runs the database migrations once, then starts ``--workers`` uvicorn processes sharing
        the port. Background jobs (expiries, overdue debriefs, audit checkpoints) run in one
        process at a time whatever the number of workers. Logs are JSON lines on stderr; metrics
        are at /metrics, probes at /healthz and /readyz. Use a reverse proxy for https and set
        VIGIL_COOKIE_SECURE=true there.
        """
        import uvicorn
        from rich.console import Console

        from vigil.db import migrate
        from vigil.settings import get_settings

        settings = get_settings()
        url = settings.resolved_database_url
        if url.startswith("sqlite") and workers > 1:
            Console(stderr=True).print(
                "[yellow]note:[/] several workers on SQLite serialise every write; use "
                "PostgreSQL (VIGIL_DATABASE_URL) for a force-wide service"
            )
        if url.startswith("sqlite:///"):
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        migrate.upgrade(url)  # once, before any worker starts
        if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            # each worker writes its metrics here; /metrics in any worker reports them all
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="vigil-metrics-")
        uvicorn.run(
            "vigil.server:served_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=False,  # vigil.access writes one JSON line per request instead
            log_level="info",
        )
