"""Schemathesis against the web forms (issue 10): every form the pages accept, fuzzed in-process
as a signed-in browser of a role the form is for (session cookie and CSRF token set, so requests
reach the handlers, not the CSRF check), on cases in several states; no generated request may
make the server fail (5xx). On SQLite and PostgreSQL (whose text type refuses NUL characters).

The pages are not in the API's OpenAPI document, so this test writes one for them: every POST
route of the pages is listed in ``FORMS`` (a new form fails the test until it is), each with a
urlencoded body of optional text fields drawn from the names the handlers read."""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import given

from tests.api.test_fuzz import bounded
from tests.security._identity import Env, build, signed_in, with_every_role
from tests.security.test_web_forms import FIELDS
from vigil.cases.policy import Action
from vigil.http.deps import api_routes
from vigil.roles import Role
from vigil.web.pages.case import ACTION_OF
from vigil.web.pages.case_actions import ACTIONS

EXAMPLES = 10
CASE_FIELDS = [
    *FIELDS,
    "tension_rating",
    "tension_evidenced",
    "review_date",
    "communication_before",
    "confirm_no_personal_data",
]
#: (method, path) of every page form -> (the fields it reads, who posts it)
FORMS: dict[tuple[str, str], tuple[list[str], str | None]] = {
    ("POST", "/login"): (["username", "password", "next"], None),
    ("POST", "/logout"): ([], "fresh"),
    ("POST", "/account/password"): (["current", "new", "confirm"], "analyst"),
    ("POST", "/account/reauthenticate"): (["password", "next"], "ao"),
    ("POST", "/account/command-line"): (["name"], "analyst"),
    ("POST", "/account/command-line/{token_id}/revoke"): ([], "analyst"),
    ("POST", "/cases/new"): (
        [
            "trigger",
            "cells",
            "borough",
            "start",
            "end",
            "resources",
            "objectives",
            "success_measures",
            "justification",
            "use_current_forecast",
            "confirm_no_personal_data",
        ],
        "analyst",
    ),
    ("POST", "/cases/{case_id}/actions/{action}"): (CASE_FIELDS, "by action"),
    ("POST", "/admin/users"): (
        ["username", "password", "role", "rank", "borough", "display_name", "reason"],
        "admin",
    ),
    ("POST", "/admin/grants/{grant_id}"): (["decision", "reason"], "admin2"),
    ("POST", "/auth/backchannel-logout"): (["logout_token"], None),
}
#: who posts each case action: a role the permission table admits, the deepest-reaching first
PREFERENCE = ["analyst", "lambeth", "community", "ao", "oversight"]
ROLE_OF_USER = {
    "analyst": Role.ANALYST,
    "lambeth": Role.LOCAL_COMMANDER,
    "community": Role.COMMUNITY_LEAD,
    "ao": Role.AUTHORISING_OFFICER,
    "oversight": Role.OVERSIGHT,
}


def _page_forms(app: Any) -> set[tuple[str, str]]:
    return {
        (m, r.path)
        for r in api_routes(app)
        if not r.include_in_schema and not r.path.startswith("/api")
        for m in r.methods
        if m == "POST"
    }


def _document(case_ids: list[int], grant_ids: list[str]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for (method, path), (fields, _) in FORMS.items():
        params = []
        for name in re.findall(r"\{([^}]+)\}", path):
            schema: dict[str, Any] = {"type": "string"}
            if name == "case_id":
                schema = {"type": "integer", "enum": case_ids}
            elif name == "action":
                schema = {"type": "string", "enum": sorted(ACTIONS)}
            elif name == "grant_id":
                schema = {"type": "string", "enum": grant_ids + ["no-such-grant"]}
            params.append({"name": name, "in": "path", "required": True, "schema": schema})
        op: dict[str, Any] = {"parameters": params, "responses": {"default": {"description": ""}}}
        op["requestBody"] = {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {f: {"type": "string"} for f in fields},
                    }
                }
            },
        }
        paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.0.3",
        "info": {"title": "Vigil web forms", "version": "1"},
        "paths": paths,
    }


@pytest.fixture
def env(db_url, clock, tmp_path) -> Env:
    return with_every_role(build(db_url, clock, tmp_path))


def test_no_web_form_makes_the_server_fail(env: Env, ready_case, open_case, service) -> None:
    assert _page_forms(env.app) == set(FORMS), "describe every page form in FORMS"
    from tests.cases.conftest import AUTHORISER

    draft, waiting, authorised = open_case(), ready_case(), ready_case()
    service.authorise(AUTHORISER, authorised, conditions="foot patrol only")
    grant = TestClient(env.app).post(
        "/api/users",
        json={
            "username": "ac.ops",
            "password": "a quiet lantern over the river",
            "role": "authorising_officer",
            "rank": "assistant_commissioner",
        },
        headers=env.bearer("admin"),
    )
    assert grant.status_code == 201, grant.text
    grant_ids = [grant.json()["grant"]["id"]]
    browsers = {u: signed_in(env.app, u) for u in [*PREFERENCE, "admin", "admin2"]}
    policy = env.app.state.ctx.cases.policy

    def who(method: str, path: str, params: dict[str, Any]) -> str | None:
        poster = FORMS[(method, path)][1]
        if poster == "by action":
            allowed = policy.roles_for(ACTION_OF[params["action"]])
            return next(u for u in PREFERENCE if ROLE_OF_USER[u] in allowed)
        return poster

    schema = schemathesis.openapi.from_dict(_document([draft, waiting, authorised], grant_ids))
    schema.app = env.app
    failures: list[str] = []
    seen: dict[str, set[int]] = {}
    fuzzed = 0
    for result in schema.get_all_operations():
        op = result.ok()
        _fuzz(op, who, browsers, env, failures, seen)()
        fuzzed += 1
    assert fuzzed == len(FORMS)
    assert not failures, "\n".join(failures[:20])
    # the requests reached the handlers: not all turned away at the door (CSRF, session, role)
    for path, statuses in seen.items():
        assert statuses - {401, 403}, (path, statuses)
    assert Action.AUTHORISE in ACTION_OF.values()


def _fuzz(op, who, browsers, env: Env, failures: list[str], seen: dict[str, set[int]]):  # type: ignore[no-untyped-def]  # noqa: E501
    @given(case=op.as_strategy())
    @bounded(EXAMPLES)
    def run(case) -> None:  # type: ignore[no-untyped-def]
        user = who(case.method.upper(), case.path, case.path_parameters or {})
        headers = {"Accept": "text/html"}
        cookies: dict[str, str] = {}
        body = dict(case.body or {}) if isinstance(case.body, dict) else {}
        if user is None:  # the sign-in form: its own CSRF cookie
            c = TestClient(env.app)
            c.get("/login")
            token = c.cookies.get("vigil_login_csrf") or ""
            cookies, body["csrf_token"] = {"vigil_login_csrf": token}, token
        else:
            client, csrf = signed_in(env.app, "analyst") if user == "fresh" else browsers[user]
            cookies = dict(client.cookies)
            body["csrf_token"] = csrf
        case.body = body
        response = case.call(headers=headers, cookies=cookies, allow_redirects=False)
        seen.setdefault(case.path, set()).add(response.status_code)
        if response.status_code >= 500:
            failures.append(
                f"{case.method} {case.formatted_path} as {user}: {response.status_code} "
                f"{body!r:.200} -> {response.text[:300]}"
            )

    return run
