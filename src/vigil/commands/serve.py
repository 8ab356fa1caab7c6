"""`vigil serve`: the web application."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the `serve` command to ``app``."""

    @app.command()
    def serve(
        host: str = typer.Option("127.0.0.1", help="interface to listen on"),
        port: int = typer.Option(8000, help="TCP port"),
    ) -> None:
        """Serve the web application (map, cases, oversight) and its API (/openapi.json).

        Runs the database migrations first. Use a reverse proxy for https and set
        VIGIL_COOKIE_SECURE=true there.
        """
        import uvicorn

        from vigil.api import create_app

        uvicorn.run(create_app(), host=host, port=port, log_level="info")
