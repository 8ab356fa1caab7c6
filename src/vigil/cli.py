"""The `vigil` command: one group per resource, all thin shells over the library and domain.

Any VigilError becomes a one-line message naming what is wrong and where, with exit status 2,
instead of a traceback.

The command groups pull in heavy libraries (geopandas, SQLAlchemy, Alembic, Jinja2), so the
entry point imports only the group being run: ``vigil data import`` does not pay for the web
app. ``app`` (the whole command, used by tests and ``--help``) is built on first access.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer
from rich.console import Console

from vigil.errors import VigilError

#: group name -> module with a Typer ``app``
GROUPS: dict[str, str] = {
    "data": "vigil.commands.data",
    "case": "vigil.commands.case",
    "audit": "vigil.commands.audit",
    "db": "vigil.commands.db",
    "impact": "vigil.commands.impact",
    "report": "vigil.commands.report",
    "users": "vigil.commands.users",
    "admin": "vigil.commands.admin",
    "demo": "vigil.season",
}
#: top-level command name -> module with ``register(app)``
TOP_LEVEL: dict[str, str] = {
    "forecast": "vigil.commands.forecast",
    "backtest": "vigil.commands.forecast",
    "serve": "vigil.commands.serve",
}


def build_app(only: str | None = None) -> typer.Typer:
    """The ``vigil`` command with every group, or only the one named ``only``."""
    root = typer.Typer(
        name="vigil",
        help="Vigil: accountable, time-limited, intelligence-led patrol deployments.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
    )

    # A callback keeps the root a group even when it holds one command (``vigil serve``):
    # Typer would otherwise collapse it into that command and refuse the word "serve".
    @root.callback()
    def _root() -> None:
        """Vigil: accountable, time-limited, intelligence-led patrol deployments."""

    for name, module in GROUPS.items():
        if only in (None, name):
            root.add_typer(importlib.import_module(module).app, name=name)
    registered: set[str] = set()
    for name, module in TOP_LEVEL.items():
        if only in (None, name) and module not in registered:
            importlib.import_module(module).register(root)
            registered.add(module)
    return root


def __getattr__(name: str) -> Any:
    if name == "app":
        full = build_app()
        globals()["app"] = full
        return full
    raise AttributeError(name)


def main() -> None:
    first = sys.argv[1] if len(sys.argv) > 1 else None
    only = first if first in GROUPS or first in TOP_LEVEL else None
    try:
        build_app(only)()
    except VigilError as exc:
        # soft_wrap: one line whatever the width, also when stderr is a pipe (80 columns to Rich)
        Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
