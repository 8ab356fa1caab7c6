"""`vigil audit ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="audit commands", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """audit commands."""
