"""Attack: the web forms bypassed the API's validation: extend with ``hours=nan`` and debrief
with ``complaints=10**30`` answered 500. The pages now validate with the API's own request
models, so the same values get a 400 on the case page whose error summary links to the field
(GOV.UK pattern: the message beside its input), and nothing is recorded; a sweep of hostile
values over every case form finds no 5xx."""

from __future__ import annotations

import pytest

from tests.api._fixtures import ACCOUNTS
from tests.api.conftest import bearer, browser_login, open_case, page_csrf
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
HOSTILE = ["nan", "inf", "-inf", "1e309", str(10**30), "-1", "", "x" * 5000, "2022-13-45T25:61"]


@pytest.mark.parametrize(
    ("action", "field", "value"),
    [
        ("extend", "hours", "nan"),
        ("extend", "hours", "inf"),
        ("debrief", "complaints", str(10**30)),
        ("debrief", "incidents", str(10**30)),
    ],
)
def test_reported_values_are_a_form_error_not_a_500(app_env, client, tokens, action, field, value):
    app, clock, _ = app_env
    cid = open_case(client, tokens, clock, hours=9)["id"]
    c = browser_login(app, "ao")
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
    trail = client.get(f"/api/cases/{cid}/audit", headers=bearer(tokens, "oversight")).json()
    assert not any(e["action"] in ("case.extend", "case.debrief") for e in trail)


def test_no_hostile_value_gives_a_5xx_on_any_case_form(app_env, client, tokens):
    app, clock, _ = app_env
    cid = open_case(client, tokens, clock, hours=9)["id"]
    policy = app.state.ctx.cases.policy
    browsers = {}
    checked = 0
    for action in ACTIONS:
        roles = policy.roles_for(ACTION_OF[action])
        user = next(u for u, role, _, _ in ACCOUNTS if Role(role) in roles)
        if user not in browsers:
            c = browser_login(app, user)
            browsers[user] = (c, page_csrf(c.get(f"/cases/{cid}", headers=HTML).text))
        c, csrf = browsers[user]
        for value in HOSTILE:
            data = {f: value for f in FIELDS} | {"csrf_token": csrf}
            r = c.post(f"/cases/{cid}/actions/{action}", data=data, headers=HTML)
            assert r.status_code < 500, (action, value[:20], r.text[:300])
            checked += 1
    assert checked == len(ACTIONS) * len(HOSTILE)
