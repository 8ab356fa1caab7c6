"""`vigil data ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Import incident files into the store and summarise them.", no_args_is_help=True
)


@app.callback()
def _group() -> None:
    """data commands."""
