"""`vigil audit ...`: create the signing key, sign checkpoints for the witness, verify the log
(chain, Merkle consistency with every witnessed checkpoint, and a replay of the case rows)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from vigil.audit.checkpoint import Checkpoint, write_checkpoint
from vigil.audit.signing import SigningKeyError, generate, signer_from_settings
from vigil.clock import SystemClock
from vigil.commands._context import session_factory
from vigil.errors import VigilError

if TYPE_CHECKING:
    from vigil.app.audit import VerifyOut
from vigil.settings import get_settings

app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """The tamper-evident audit log."""


def _fail(message: str) -> None:
    Console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(2)


@app.command("keygen")
def keygen_cmd(
    out: Path = typer.Option(..., "--out", help="the private key file to create (mode 0600)"),
    force: bool = typer.Option(False, "--force", help="replace an existing key (rotation)"),
) -> None:
    """Create an Ed25519 key that signs audit checkpoints; its public half goes to OUT.pub.

    Keep OUT outside the database and its backups, readable only by the service account, and
    set VIGIL_AUDIT_KEY_FILE to it. Give OUT.pub to oversight (the witness)."""
    try:
        signer = generate(out, overwrite=force)
    except SigningKeyError as exc:
        _fail(str(exc))
    Console().print(
        f"audit signing key {signer.key_id} written to {out} (public key: {out}.pub)\n"
        f"set VIGIL_AUDIT_KEY_FILE={out.resolve()} and hand {out}.pub to oversight",
        highlight=False,
    )


def _verify(
    witness: Path | None,
    checkpoint: list[Path] | None,
    public_key: list[Path] | None,
    replay: bool,
) -> VerifyOut:
    from vigil.app.audit import VerifyOut
    from vigil.cases.audit_check import verify_log

    extra = [Checkpoint.load(p) for p in checkpoint or []]
    if witness is not None and not witness.is_dir():
        raise VigilError(f"witness directory {witness} does not exist")
    with session_factory()() as s:
        report = verify_log(
            s,
            get_settings(),
            witness=witness,
            checkpoints=extra,
            public_keys=list(public_key or []),
            replay=replay,
        )
    return VerifyOut.of(report)


@app.command("verify")
def verify_cmd(
    witness: Path = typer.Option(
        None,
        "--witness",
        help="witness directory of signed checkpoints (default VIGIL_AUDIT_WITNESS_DIR)",
    ),
    checkpoint: list[Path] = typer.Option(
        None, "--checkpoint", help="a signed checkpoint JSON file (repeatable)"
    ),
    public_key: list[Path] = typer.Option(
        None, "--public-key", help="a trusted public key PEM (repeatable; pin it out of band)"
    ),
    no_replay: bool = typer.Option(False, "--no-replay", help="skip the case-row replay"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
) -> None:
    """Check every entry's hash and link; that the log still extends every signed checkpoint
    (Merkle consistency: nothing before the latest witnessed checkpoint was edited, erased or
    cut off, even if rehashed); and that every case row equals the state the log implies.
    Exit 1 on any problem."""
    try:
        report = _verify(witness, checkpoint, public_key, not no_replay)
    except VigilError as exc:
        _fail(str(exc))
    console = Console()
    if as_json:
        console.print_json(report.model_dump_json())
    elif report.ok:
        console.print(
            f"audit log OK: {report.entries} entries, head {report.head_seq} "
            f"{report.head_hash[:16]}..., {report.checkpoints_checked} checkpoint(s) checked, "
            f"proven by signature up to entry {report.proven_to}"
            + (
                ""
                if report.cases_checked is None
                else f", {report.cases_checked} case row(s) match the log"
            ),
            highlight=False,
        )
    else:
        problems = report.problems
        console.print(f"[bold red]audit log FAILED[/] ({len(problems)} problem(s)):")
        for p in problems:
            console.print(f"  - {p}", highlight=False)
    if not as_json:
        for n in report["notes"]:  # type: ignore[attr-defined]
            console.print(f"  note: {n}", highlight=False)
    if not report["ok"]:
        raise typer.Exit(1)


@app.command("checkpoint")
def checkpoint_cmd(
    out: Path = typer.Option(None, "--out", help="also write the signed checkpoint JSON here"),
) -> None:
    """Sign the current head now (Ed25519, VIGIL_AUDIT_KEY_FILE) and export it to the witness
    directory; the running server also does this by itself every N entries or M minutes."""
    settings = get_settings()
    try:
        signer = signer_from_settings(settings)
        with session_factory()() as s, s.begin():
            cp = write_checkpoint(s, signer, SystemClock().now(), settings.witness_dir)
    except VigilError as exc:
        _fail(str(exc))
    if out is not None:
        out.write_text(cp.to_json())
    where = settings.witness_dir or out
    Console().print(
        f"checkpoint of entry {cp.seq} (root {cp.root[:16]}...) signed with key {cp.key_id}"
        + (f", exported to {where}" if where else ""),
        highlight=False,
    )
