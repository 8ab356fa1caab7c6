"""`vigil case ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="case commands", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """case commands."""
