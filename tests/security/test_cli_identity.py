"""Attack: `vigil case --as anyone --role authorising_officer --rank commissioner authorise N`
used to succeed and be logged under an account that does not exist. The command line now acts
only as a real account (an API token, or a username and its password), with role, rank and
borough read from the account store; the operator's console (`vigil admin`) is audited and
cannot make case decisions. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from typer.testing import CliRunner

from vigil.cases.policy import CASE_CHANGES, default_policy
from vigil.clock import SystemClock
from vigil.db.audit import AuditEntry
from vigil.db.engine import make_engine, make_sessionmaker
from vigil.db.identity import AuthenticationFailed, IdentityStore
from vigil.db.migrate import upgrade
from vigil.errors import PermissionDenied
from vigil.impact.case_service import case_service

# a 500 m square around Brixton station (Lambeth), British National Grid
AREA = "POLYGON((531000 175000,531500 175000,531500 175500,531000 175500,531000 175000))"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def world(cli_db: str):
    """Accounts (analyst, authorising officer) and one case awaiting a decision's first step."""
    upgrade(cli_db)
    engine = make_engine(cli_db)
    sf = make_sessionmaker(engine)
    store = IdentityStore(sf)
    analyst = store.create_user("an", PASSWORD, "analyst")
    ao = store.create_user("ao", PASSWORD, "authorising_officer", rank="commander")
    tokens = {"an": store.issue_token(analyst, "cli"), "ao": store.issue_token(ao, "cli")}
    svc = case_service(sf, SystemClock(), default_policy())
    now = SystemClock().now()
    case = svc.open_case(
        analyst.actor(),
        trigger="reactive",
        area_wkt=AREA,
        window=(now + timedelta(hours=1), now + timedelta(hours=3)),
        resources="one crew on foot",
        objectives="deter a repeat assault",
        success_measures=["no repeat incident"],
    )
    yield {"sf": sf, "store": store, "tokens": tokens, "case": case.id, "ao": ao}
    engine.dispose()


def _invoke(args: list[str], env: dict[str, str] | None = None, input: str | None = None):
    from vigil.cli import app

    return CliRunner().invoke(app, args, env={"VIGIL_TOKEN": "", **(env or {})}, input=input)


def _entries(sf, **where) -> list[AuditEntry]:
    with sf() as s:
        return list(s.query(AuditEntry).filter_by(**where))


def test_claimed_identity_flags_no_longer_exist(world) -> None:
    r = _invoke(
        [
            "case",
            "--as",
            "anyone",
            "--role",
            "authorising_officer",
            "--rank",
            "commissioner",
            "show",
            str(world["case"]),
        ]
    )
    assert r.exit_code == 2 and "No such option: --as" in r.output
    assert _entries(world["sf"], actor_id="anyone") == []


def test_no_credential_is_refused(world) -> None:
    r = _invoke(["case", "withdraw", str(world["case"]), "--reasons", "x"])
    assert isinstance(r.exception, AuthenticationFailed)
    assert "no credential" in str(r.exception) and "VIGIL_TOKEN" in str(r.exception)


@pytest.mark.parametrize("token", ["vgl_made-up", "not even a token"])
def test_unknown_token_is_refused(world, token: str) -> None:
    r = _invoke(["case", "show", str(world["case"])], env={"VIGIL_TOKEN": token})
    assert isinstance(r.exception, AuthenticationFailed)
    assert "unknown, expired or revoked" in str(r.exception)


def test_revoked_token_and_disabled_account_are_refused(world) -> None:
    store, tokens = world["store"], world["tokens"]
    store.revoke_token(tokens["an"])
    r = _invoke(["case", "show", str(world["case"])], env={"VIGIL_TOKEN": tokens["an"]})
    assert isinstance(r.exception, AuthenticationFailed)
    store.set_active(world["ao"].id, False)
    r = _invoke(["case", "show", str(world["case"])], env={"VIGIL_TOKEN": tokens["ao"]})
    assert isinstance(r.exception, AuthenticationFailed)


def test_role_comes_from_the_account(world) -> None:
    """An analyst's token cannot authorise, whatever the command says; the refusal names the
    account's own role."""
    r = _invoke(
        ["case", "authorise", str(world["case"]), "--conditions", "x"],
        env={"VIGIL_TOKEN": world["tokens"]["an"]},
    )
    assert isinstance(r.exception, PermissionDenied) and "role 'analyst'" in str(r.exception)


def test_token_acts_as_its_account_and_is_logged_so(world) -> None:
    cid = world["case"]
    r = _invoke(["case", "submit", str(cid)], env={"VIGIL_TOKEN": world["tokens"]["an"]})
    assert r.exit_code == 0, r.output
    analyst = world["store"].get_by_username("an")
    submits = _entries(world["sf"], case_id=cid, action="case.submit")
    assert [(e.actor_id, e.actor_role) for e in submits] == [(analyst.id, "analyst")]


def test_password_sign_in(world) -> None:
    cid = str(world["case"])
    r = _invoke(["case", "--user", "an", "show", cid], input="wrong password here\n")
    assert isinstance(r.exception, AuthenticationFailed)
    r = _invoke(["case", "--user", "an", "show", cid], input=PASSWORD + "\n")
    assert r.exit_code == 0, r.output
    assert '"status": "draft"' in r.output


def test_operator_console_is_audited_and_makes_no_case_decision(world) -> None:
    from vigil.commands.admin import app as admin_app
    from vigil.commands.admin import operator

    names = {c.name for c in admin_app.registered_commands}
    assert names == {"migrate", "sweep"}
    policy = default_policy()
    for action in CASE_CHANGES:
        assert not policy.permits(operator(), action), action
    r = _invoke(["admin", "sweep"])
    assert r.exit_code == 0, r.output
    (entry,) = _entries(world["sf"], action="admin.sweep")
    assert entry.actor_id == operator().user_id and entry.actor_role == "administrator"


def test_report_commands_need_an_account_too(world, tmp_path) -> None:
    out = tmp_path / "case.html"
    r = _invoke(["report", "case", str(world["case"]), "--html", str(out)])
    assert isinstance(r.exception, AuthenticationFailed) and not out.exists()
    r = _invoke(
        ["report", "case", str(world["case"]), "--html", str(out)],
        env={"VIGIL_TOKEN": world["tokens"]["an"]},
    )
    assert r.exit_code == 0, r.output
    assert out.exists()
