"""The `vigil` command: one group per resource, all thin shells over the library and domain.

Any VigilError becomes a one-line message naming what is wrong and where, with exit status 2,
instead of a traceback.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from vigil.commands import audit, case, data, db, forecast, impact, report, serve, users
from vigil.errors import VigilError

app = typer.Typer(
    name="vigil",
    help="Vigil: accountable, time-limited, intelligence-led patrol deployments.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(data.app, name="data")
app.add_typer(case.app, name="case")
app.add_typer(audit.app, name="audit")
app.add_typer(db.app, name="db")
app.add_typer(impact.app, name="impact")
app.add_typer(report.app, name="report")
app.add_typer(users.app, name="users")
forecast.register(app)
serve.register(app)


def main() -> None:
    try:
        app()
    except VigilError as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
