"""`vigil db upgrade`, `vigil case ...` and `vigil audit verify` end to end on a SQLite file and
on PostgreSQL, with the real clock (windows start now) and the real guardrails. Each command
acts as a real account of the store, signed in with an API token (VIGIL_TOKEN); the
authorisation, a decision that needs a fresh authentication, with ``--user`` and the password."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.cases.conftest import complete_cia
from vigil.errors import PermissionDenied

# a 500 m square around Brixton station (Lambeth), British National Grid
AREA = "POLYGON((531000 175000,531500 175000,531500 175500,531000 175500,531000 175000))"


#: the accounts the test signs in as: username -> (role, rank, borough)
ACCOUNTS = {
    "an": ("analyst", "none", None),
    "bcu": ("local_commander", "chief superintendent", "Lambeth"),
    "cl": ("community_lead", "none", None),
    "auth": ("authorising_officer", "commander", None),
    "ac": ("authorising_officer", "assistant commissioner", None),
    "mopac": ("oversight", "none", None),
}
TOKENS: dict[str, str] = {}
PASSWORD = "correct horse battery staple"


def _last_entry(db_url: str, action: str):  # type: ignore[no-untyped-def]
    """The latest audit entry of ``action`` in the case database."""
    from sqlalchemy import select

    from vigil.db.audit import AuditEntry
    from vigil.db.engine import make_engine, make_sessionmaker

    engine = make_engine(db_url)
    try:
        with make_sessionmaker(engine)() as s:
            query = select(AuditEntry).where(AuditEntry.action == action)
            return s.scalars(query.order_by(AuditEntry.seq.desc())).first()
    finally:
        engine.dispose()


def make_accounts(db_url: str) -> dict[str, str]:
    """One account per entry of ACCOUNTS in the case database; their API tokens by username."""
    from vigil.db.engine import make_engine, make_sessionmaker
    from vigil.db.identity import IdentityStore

    engine = make_engine(db_url)
    try:
        store = IdentityStore(make_sessionmaker(engine))
        tokens = {}
        for name, (role, rank, borough) in ACCOUNTS.items():
            user = store.create_user(f"cli-{name}", PASSWORD, role, rank=rank, borough=borough)
            tokens[name] = store.issue_token(user, "cli tests")
        return tokens
    finally:
        engine.dispose()


def run(*args: str, user: str = "", input: str | None = None, **env: str) -> str:
    from vigil.cli import app

    who = ["case"] if user else []
    environ = {"VIGIL_TOKEN": TOKENS[user]} if user else {}
    result = CliRunner().invoke(app, [*who, *args], env={**environ, **env}, input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result.output


def test_case_life_from_the_command_line(cli_db: str, tmp_path: Path) -> None:
    assert "database upgraded" in run("admin", "migrate")
    TOKENS.update(make_accounts(cli_db))
    analyst = {"user": "an"}
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    out = run(
        "open",
        "--trigger",
        "reactive",
        "--start",
        now.isoformat(),
        "--hours",
        "4",
        "--resources",
        "one ARV crew on foot",
        "--objectives",
        "deter a repeat assault",
        "--measure",
        "no repeat incident",
        "--area-wkt",
        AREA,
        **analyst,
    )
    assert "case 1: draft" in out
    assert "submitted" in run("submit", "1", **analyst)
    run(
        "consult",
        "1",
        "--consultee",
        "local_commander",
        "--position",
        "concur",
        "--reasons",
        "supports",
        user="bcu",
    )
    run(
        "consult",
        "1",
        "--consultee",
        "community",
        "--position",
        "object",
        "--reasons",
        "IAG asks for a short window",
        user="cl",
    )
    cia = tmp_path / "cia.json"
    cia.write_text(json.dumps(complete_cia()))
    assert "v1 complete" in run(
        "assess",
        "1",
        "--file",
        str(cia),
        user="cl",
    )
    run(
        "review",
        "1",
        "--notes",
        "sufficient",
        user="auth",
    )
    assert "awaiting_authorisation" in run("request", "1", **analyst)

    with pytest.raises(PermissionDenied, match="role 'analyst'"):
        run("authorise", "1", "--conditions", "x", **analyst)
    # no forecast evidence on this reactive case: the guardrails need an override by an AC.
    # A decision needs a fresh authentication (step-up): a token shows none and is refused...
    decision = [
        "authorise",
        "1",
        "--conditions",
        "foot patrol, body-worn video",
        "--override-reason",
        "serious assault, linked intelligence",
    ]
    with pytest.raises(PermissionDenied, match="recent authentication"):
        run(*decision, user="ac")
    # ... the account's password, typed now, is one; its time goes into the decision's entry
    typed_at = datetime.now(UTC)
    out = run("case", "--user", "cli-ac", *decision, input=f"{PASSWORD}\n")
    assert "authorised" in out
    entry = _last_entry(cli_db, "case.authorise")
    auth_time = datetime.fromisoformat(json.loads(entry.detail)["auth_time"])
    assert typed_at - timedelta(seconds=1) <= auth_time <= datetime.now(UTC)
    run(
        "notify",
        "1",
        "--message",
        "authorised 4 h",
        user="ac",
    )
    assert "active" in run("activate", "1", user="bcu")
    assert "cancelled" in run(
        "cancel",
        "1",
        "--reasons",
        "suspect arrested",
        user="bcu",
    )
    run(
        "debrief",
        "1",
        "--what-happened",
        "ran 1 h, no stops",
        "--incidents",
        "0",
        "--complaints",
        "0",
        user="bcu",
    )
    assert "closed" in run("close", "1", user="mopac")
    shown = json.loads(run("show", "1", user="mopac"))
    assert shown["status"] == "closed"
    assert shown["boroughs"][0] == "Lambeth"
    assert [a["kind"] for a in shown["authorisations"]] == ["initial"]
    assert "evidence" in shown["authorisations"][0]["overridden_rules"]
    assert "closed" in run("list", user="mopac")
    assert "expired: none" in run("admin", "sweep")
    assert "audit log OK" in run("audit", "verify")
