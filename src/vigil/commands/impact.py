"""`vigil impact ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="impact commands", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """impact commands."""
