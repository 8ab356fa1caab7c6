"""`vigil audit ...`: verify the hash-chained audit log; export signed checkpoints."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from vigil.audit.verify import (
    Checkpoint,
    create_checkpoint,
    report_dict,
    stored_checkpoints,
    verify_chain,
)
from vigil.clock import SystemClock
from vigil.commands._context import session_factory
from vigil.settings import get_settings

app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """The tamper-evident audit log."""


@app.command("verify")
def verify_cmd(
    checkpoint: list[Path] = typer.Option(
        None, "--checkpoint", help="signed checkpoint JSON from a witness (repeatable)"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
) -> None:
    """Check every entry's hash and link; exit 1 if anything was edited, deleted or reordered,
    or if a witness's checkpoint is no longer in the log (a cut-off tail)."""
    checkpoints = [Checkpoint.load(p) for p in checkpoint or []]
    with session_factory()() as s:
        # the checkpoints recorded in the database count too (a witness's copy counts more)
        checkpoints = stored_checkpoints(s) + checkpoints
        report = verify_chain(s, checkpoints=checkpoints, key=get_settings().secret_key)
    console = Console()
    if as_json:
        console.print_json(json.dumps(report_dict(report)))
    elif report.ok:
        console.print(
            f"audit log OK: {report.entries} entries, head {report.head_seq} "
            f"{report.head_hash[:16]}..., {report.checkpoints_checked} checkpoint(s) checked"
        )
    else:
        console.print(f"[bold red]audit log FAILED[/] ({len(report.problems)} problem(s)):")
        for p in report.problems:
            console.print(f"  - {p}", highlight=False)
    if not report.ok:
        raise typer.Exit(1)


@app.command("checkpoint")
def checkpoint_cmd(
    out: Path = typer.Option(..., "--out", help="where to write the signed checkpoint JSON"),
) -> None:
    """Sign the current head (HMAC-SHA256, VIGIL_SECRET_KEY) for an outside witness."""
    with session_factory()() as s, s.begin():
        cp = create_checkpoint(s, get_settings().secret_key, SystemClock().now())
    out.write_text(cp.to_json())
    Console().print(f"checkpoint of entry {cp.seq} written to {out}; hand it to oversight")
