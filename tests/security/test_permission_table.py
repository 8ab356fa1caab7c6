"""The permission table is whole and is the one place roles are written: every action has a
row, every case change is scoped, no module outside the policy names a role for an action, and
docs/security.md shows the table as the packaged policy has it."""

from __future__ import annotations

import re
from pathlib import Path

from vigil.cases.policy import CASE_CHANGES, Action, default_policy
from vigil.roles import Actor, Rank, Role

ROOT = Path(__file__).parents[2]
SRC = ROOT / "src" / "vigil"


def _row(r: dict) -> str:
    rank = r["min_rank"].replace("_", " ") if r["min_rank"] != "none" else "-"
    scope = "yes" if r["borough_scope"] else "no"
    own = ", ".join(r["own_cases_only"]) or "-"
    return f"| `{r['action']}` | {', '.join(r['roles'])} | {rank} | {scope} | {own} |"


def test_docs_show_the_packaged_table() -> None:
    doc = (ROOT / "docs" / "security.md").read_text()
    assert "## Who may do what" in doc
    for row in default_policy().table():
        assert _row(row) in doc, row["action"]


def test_every_action_has_a_row_and_case_changes_are_scoped() -> None:
    policy = default_policy()
    assert set(policy.permissions) == set(Action)
    for action in CASE_CHANGES:
        assert policy.rule(action).borough_scope, action


def test_no_role_lists_outside_the_policy() -> None:
    """Roles named in code decide nothing outside cases/policy.py: no tuple of roles, no
    ``role ==`` / ``role in`` test, no ``Require(Role.X)`` route gate."""
    # identity checks the shape of accounts (an officer holds a rank; is there an administrator
    # yet), not who may act
    allowed = {
        SRC / "cases" / "policy.py",
        SRC / "roles.py",
        SRC / "db" / "identity.py",
        SRC / "identity" / "claims.py",  # the provider's claims mapping: same account shape
        SRC / "commands" / "users.py",
    }
    pattern = re.compile(
        r"Require\(Role\.|\(Role\.[A-Z_]+,\s*Role\.|role\s*(==|!=|is|in)\s*\(?Role\.|"
        r"_roles\s*=\s*\(|_READERS\b"
    )
    offenders = [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
        for p in SRC.rglob("*.py")
        if p not in allowed
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert not offenders, offenders


def test_rank_and_ownership_come_from_the_row() -> None:
    policy = default_policy()
    chief_supt = Actor("u-cs", Role.AUTHORISING_OFFICER, Rank.CHIEF_SUPERINTENDENT)
    assert policy.permits(chief_supt, Action.AUTHORISE_URGENT)
    assert not policy.permits(chief_supt, Action.AUTHORISE)
    reason = policy.refusal(chief_supt, Action.AUTHORISE)
    assert reason is not None and "commander or above" in reason
