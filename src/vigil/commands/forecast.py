"""`vigil forecast` and `vigil backtest`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the top-level forecasting commands to ``app``."""
