"""`vigil users ...`: local accounts and API tokens, for administrators at the console."""

from __future__ import annotations

import secrets

import typer
from rich.console import Console
from rich.table import Table

from vigil.errors import VigilError

app = typer.Typer(help="Local accounts and API tokens.", no_args_is_help=True)


def _store():  # type: ignore[no-untyped-def]
    from vigil.commands._context import session_factory
    from vigil.db.identity import IdentityStore

    return IdentityStore(session_factory())


@app.command("add")
def add(
    username: str = typer.Argument(..., help="login name: a-z, 0-9, '.', '_' or '-'"),
    role: str = typer.Option(
        ...,
        "--role",
        help="analyst, local_commander, community_lead, "
        "authorising_officer, oversight or administrator",
    ),
    rank: str = typer.Option("none", "--rank", help="police rank, e.g. 'chief superintendent'"),
    borough: str | None = typer.Option(None, "--borough", help="borough of a local commander"),
    display_name: str = typer.Option("", "--title", help="role title shown in the app"),
    password: str | None = typer.Option(
        None, "--password", help="omit to generate a random password that is printed once"
    ),
) -> None:
    """Create an account. Without --password a random one is printed once; either way it must
    be changed at first sign-in.

    Privileged accounts (authorising_officer or administrator, or any police rank) can be made
    here only to bootstrap, while fewer than two active administrators exist; after that one
    administrator requests them in the app (/admin/users, POST /api/users) and a second
    approves."""
    from vigil.db.identity import IdentityError, needs_second_approval
    from vigil.roles import Rank, Role

    store = _store()
    try:
        wanted = (Role(role), Rank.parse(rank))
    except ValueError as exc:
        raise IdentityError(str(exc)) from None
    admins = [u for u in store.list_users() if u.role is Role.ADMINISTRATOR and u.active]
    if needs_second_approval(None, wanted) and len(admins) >= 2:
        raise VigilError(
            "privileged accounts need two administrators: request it at /admin/users (or POST "
            "/api/users) and have a second administrator approve it"
        )
    generated = password is None
    pw = password or secrets.token_urlsafe(12)
    user = store.create_user(
        username,
        pw,
        role,
        rank=rank,
        borough=borough,
        display_name=display_name,
        must_change_password=True,
    )
    typer.echo(f"created {user.username} ({user.role.value}, rank {user.rank.name.lower()})")
    if generated:
        typer.echo(f"password (printed once; reusable until changed): {pw}")


@app.command("list")
def list_users() -> None:
    """Every account with its role, rank and borough."""
    table = Table("username", "role", "rank", "borough", "active")
    for u in _store().list_users():
        table.add_row(u.username, u.role.value, u.rank.name.lower(), u.borough or "", str(u.active))
    Console().print(table)


@app.command("token")
def token(
    username: str = typer.Argument(...),
    name: str = typer.Option("script", "--name", help="what the token is for"),
    days: int = typer.Option(90, "--days", min=1, max=365, help="how many days it lasts"),
) -> None:
    """Issue an API token (Authorization: Bearer ...) acting as USERNAME; printed once. It
    expires after --days and is revoked when the password changes or the account is
    disabled."""
    from datetime import timedelta

    store = _store()
    user = store.get_by_username(username)
    if user is None:
        raise VigilError(f"no account named '{username}'")
    typer.echo(store.issue_token(user, name, lifetime=timedelta(days=days)))


@app.command("tokens")
def tokens(username: str = typer.Argument(...)) -> None:
    """USERNAME's live API tokens (never the tokens themselves)."""
    store = _store()
    user = store.get_by_username(username)
    if user is None:
        raise VigilError(f"no account named '{username}'")
    table = Table("id", "name", "created (UTC)", "expires (UTC)")
    for t in store.list_tokens(user.id):
        expires = t.expires_at.strftime("%Y-%m-%d %H:%M") if t.expires_at else ""
        table.add_row(t.id, t.name, t.created_at.strftime("%Y-%m-%d %H:%M"), expires)
    Console().print(table)


@app.command("revoke-token")
def revoke_token(token_id: str = typer.Argument(..., help="id from 'vigil users tokens'")) -> None:
    """Revoke an API token by its id."""
    from vigil.db.identity import CONSOLE

    _store().revoke_token_id(token_id, owner=None, by=CONSOLE)
    typer.echo(f"revoked {token_id}")


@app.command("disable")
def disable(username: str = typer.Argument(...)) -> None:
    """Disable an account: its sessions end and its tokens stop working."""
    store = _store()
    user = store.get_by_username(username)
    if user is None:
        raise VigilError(f"no account named '{username}'")
    store.set_active(user.id, False)
    typer.echo(f"disabled {user.username}")


#: the demo's accounts: one per role (username, role, rank, borough, title)
DEMO_ACCOUNTS = [
    ("analyst", "analyst", "none", None, "Intelligence analyst"),
    ("commander", "local_commander", "superintendent", "Westminster", "BCU commander, Westminster"),
    ("lead", "community_lead", "none", None, "Community engagement lead"),
    ("authoriser", "authorising_officer", "assistant_commissioner", None, "Authorising officer"),
    ("authoriser2", "authorising_officer", "commander", None, "Second authorising officer"),
    ("oversight", "oversight", "none", None, "MOPAC oversight"),
    ("admin", "administrator", "none", None, "System administrator"),
]


@app.command("demo")
def demo() -> None:
    """Create (or reset) one demo account per role; print their passwords (shown once,
    reusable until the next run)."""
    store = _store()
    typer.echo(f"{'username':<12} {'role':<20} {'rank':<23} {'borough':<12} password")
    for username, role, rank, borough, title in DEMO_ACCOUNTS:
        pw = secrets.token_urlsafe(12)
        user = store.get_by_username(username)
        if user is None:
            store.create_user(username, pw, role, rank=rank, borough=borough, display_name=title)
        else:
            store.set_password(user.id, pw)
        # plain lines, never a table a narrow terminal would truncate
        typer.echo(f"{username:<12} {role:<20} {rank:<23} {borough or '-':<12} {pw}")
    typer.echo("Passwords are new on every run: sign in at http://127.0.0.1:8000/login")
