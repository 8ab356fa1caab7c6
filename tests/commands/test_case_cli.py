"""`vigil db upgrade`, `vigil case ...` and `vigil audit verify` end to end on a SQLite file and
on PostgreSQL, with the real clock (windows start now) and the real guardrails."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.cases.conftest import complete_cia
from vigil.errors import PermissionDenied

# a 500 m square around Brixton station (Lambeth), British National Grid
AREA = "POLYGON((531000 175000,531500 175000,531500 175500,531000 175500,531000 175000))"


def run(*args: str, user: str = "", role: str = "", rank: str = "none") -> str:
    from vigil.cli import app

    who = ["case", "--as", user, "--role", role, "--rank", rank] if user else []
    result = CliRunner().invoke(app, [*who, *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result.output


def test_case_life_from_the_command_line(cli_db: str, tmp_path: Path) -> None:
    assert "database upgraded" in run("db", "upgrade")
    analyst = {"user": "u-an", "role": "analyst"}
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
        user="u-bcu",
        role="local_commander",
        rank="chief superintendent",
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
        user="u-cl",
        role="community_lead",
    )
    cia = tmp_path / "cia.json"
    cia.write_text(json.dumps(complete_cia()))
    assert "v1 complete" in run(
        "assess", "1", "--file", str(cia), user="u-cl", role="community_lead"
    )
    run(
        "review",
        "1",
        "--notes",
        "sufficient",
        user="u-auth",
        role="authorising_officer",
        rank="commander",
    )
    assert "awaiting_authorisation" in run("request", "1", **analyst)

    with pytest.raises(PermissionDenied, match="role 'analyst'"):
        run("authorise", "1", "--conditions", "x", **analyst)
    # no forecast evidence on this reactive case: the guardrails need an override by an AC
    out = run(
        "authorise",
        "1",
        "--conditions",
        "foot patrol, body-worn video",
        "--override-reason",
        "serious assault, linked intelligence",
        user="u-ac",
        role="authorising_officer",
        rank="assistant commissioner",
    )
    assert "authorised" in out
    run(
        "notify",
        "1",
        "--message",
        "authorised 4 h",
        user="u-ac",
        role="authorising_officer",
        rank="assistant commissioner",
    )
    assert "active" in run(
        "activate", "1", user="u-bcu", role="local_commander", rank="chief superintendent"
    )
    assert "cancelled" in run(
        "cancel",
        "1",
        "--reasons",
        "suspect arrested",
        user="u-bcu",
        role="local_commander",
        rank="chief superintendent",
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
        user="u-bcu",
        role="local_commander",
        rank="chief superintendent",
    )
    assert "closed" in run("close", "1", user="u-mopac", role="oversight")
    shown = json.loads(run("show", "1", user="u-mopac", role="oversight"))
    assert shown["status"] == "closed"
    assert shown["boroughs"][0] == "Lambeth"
    assert [a["kind"] for a in shown["authorisations"]] == ["initial"]
    assert "evidence" in shown["authorisations"][0]["overridden"]
    assert "closed" in run("list", user="u-mopac", role="oversight")
    assert "expired: none" in run("case", "sweep")
    assert "audit log OK" in run("audit", "verify")
