"""`vigil admin ...`: the operator's console work, kept apart from case decisions.

The operator (whoever runs the service on its machine) migrates the database and runs the
scheduler's sweep. Each run is written to the audit log as the operator account
``operator:<login>`` with the administrator role, which the policy's permission table admits to
no case decision: nothing here opens, authorises, extends or ends a case by a person's choice
(the sweep only writes down what the clock already decided). Case work is ``vigil case``, which
needs a real account.
"""

from __future__ import annotations

import getpass
from datetime import datetime
from typing import Any

import typer
from rich.console import Console

from vigil.roles import Actor, Role

app = typer.Typer(
    help="Operator work (migrations, the scheduler's sweep): audited, never a case decision.",
    no_args_is_help=True,
)
console = Console()


def operator() -> Actor:
    """The operator at this console, as the audit log names them."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = "unknown"
    return Actor(f"operator:{login}", Role.ADMINISTRATOR, display_name="operator console")


def _audit(sf: Any, action: str, at: datetime, detail: dict[str, Any]) -> None:
    from vigil.audit.log import Category, append

    with sf() as s, s.begin():
        append(
            s,
            actor=operator(),
            action=f"admin.{action}",
            category=Category.ALTERATION,
            at=at,
            detail=detail,
        )


@app.command("migrate")
def migrate_cmd() -> None:
    """Apply every migration branch to the configured database (alembic upgrade heads)."""
    from vigil.clock import SystemClock
    from vigil.commands._context import session_factory

    sf = session_factory()  # upgrades on the way
    _audit(sf, "migrate", SystemClock().now(), {})
    console.print("database upgraded")


@app.command("sweep")
def sweep_cmd() -> None:
    """The scheduler's job: write down expiries and flag overdue debriefs to oversight."""
    from vigil.audit.checkpoint import write_checkpoint_from_settings
    from vigil.commands._context import case_service
    from vigil.settings import get_settings

    svc = case_service()
    expired = svc.sweep_expired()
    flagged = svc.flag_overdue_debriefs()
    now = svc.clock.now()
    _audit(svc.session_factory, "sweep", now, {"expired": expired, "flagged": flagged})
    console.print(f"expired: {expired or 'none'}; overdue debriefs flagged: {flagged or 'none'}")
    cp = write_checkpoint_from_settings(svc.session_factory, get_settings(), now)
    if cp is not None:
        console.print(f"audit checkpoint signed at entry {cp.seq} ({cp.hash[:16]}...)")
