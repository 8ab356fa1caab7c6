"""Attack: the web forms bypassed the API's validation: extend with ``hours=nan`` and debrief
with ``complaints=10**30`` answered 500. The pages now validate with the API's own request
models, so the same values get a 400 on the case page whose error summary links to the field
(GOV.UK pattern: the message beside its input), and nothing is recorded; a sweep of hostile
values (a NUL character too) over every case form finds no 5xx. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import page_csrf
from tests.api.test_route_access import brixton_case
from tests.security._identity import Env, build, role_users, signed_in, with_every_role
from vigil.roles import Role
from vigil.web.pages.case import ACTION_OF
from vigil.web.pages.case_actions import ACTIONS

HTML = {"Accept": "text/html"}
#: every field any case form posts
FIELDS = [
    "hours",
    "reasons",
    "override_reason",
    "conditions",
    "start",
    "end",
    "urgent",
    "message",
    "notes",
    "consultee",
    "position",
    "what_happened",
    "incidents",
    "complaints",
    "community_feedback",
    "mode",
]
HOSTILE = [
    "nan",
    "inf",
    "-inf",
    "1e309",
    str(10**30),
    "-1",
    "",
    "x" * 5000,
    "2022-13-45T25:61",
    "quiet\x00night",
]


@pytest.fixture
def env(db_url, clock, tmp_path) -> Env:
    return with_every_role(build(db_url, clock, tmp_path))


def _open(env: Env) -> int:
    """A draft Lambeth case, opened by the analyst through the API."""
    r = TestClient(env.app).post(
        "/api/cases", json=brixton_case(env.clock.now()), headers=env.bearer("analyst")
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


@pytest.mark.parametrize(
    ("action", "field", "value"),
    [
        ("extend", "hours", "nan"),
        ("extend", "hours", "inf"),
        ("debrief", "complaints", str(10**30)),
        ("debrief", "incidents", str(10**30)),
    ],
)
def test_reported_values_are_a_form_error_not_a_500(env: Env, action, field, value):
    cid = _open(env)
    c, _ = signed_in(env.app, "ao")
    csrf = page_csrf(c.get(f"/cases/{cid}", headers=HTML).text)
    data = {
        "csrf_token": csrf,
        "hours": "3",
        "reasons": "more time",
        "what_happened": "quiet",
        "incidents": "0",
        "complaints": "0",
        field: value,
    }
    r = c.post(f"/cases/{cid}/actions/{action}", data=data, headers=HTML)
    assert r.status_code == 400, r.text[:300]
    # the error summary links to the field's input (the message names it in words)
    assert f'href="#{action}-{field}"' in r.text
    # nothing was recorded
    trail = TestClient(env.app).get(f"/api/cases/{cid}/audit", headers=env.bearer("oversight"))
    trail = trail.json()
    assert not any(e["action"] in ("case.extend", "case.debrief") for e in trail)


def test_no_hostile_value_gives_a_5xx_on_any_case_form(env: Env):
    cid = _open(env)
    policy = env.app.state.ctx.cases.policy
    users = role_users(env)
    browsers = {}
    checked = 0
    for action in ACTIONS:
        roles = policy.roles_for(ACTION_OF[action])
        user = next(users[r.value] for r in Role if r in roles and r.value in users)
        if user not in browsers:
            c, _ = signed_in(env.app, user)
            browsers[user] = (c, page_csrf(c.get(f"/cases/{cid}", headers=HTML).text))
        c, csrf = browsers[user]
        for value in HOSTILE:
            data = {f: value for f in FIELDS} | {"csrf_token": csrf}
            r = c.post(f"/cases/{cid}/actions/{action}", data=data, headers=HTML)
            assert r.status_code < 500, (action, value[:20], r.text[:300])
            checked += 1
    assert checked == len(ACTIONS) * len(HOSTILE)
