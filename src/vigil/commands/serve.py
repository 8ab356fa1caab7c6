"""`vigil serve`: the web application."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the `serve` command to ``app``."""
