"""Every JSON route of the API declares its answer as a typed model (its OpenAPI schema says
each field), and the command line prints a case in exactly the shape the API answers."""

from __future__ import annotations

import json
from typing import get_args, get_origin

import pytest
from fastapi.datastructures import DefaultPlaceholder
from fastapi.routing import APIRoute
from pydantic import BaseModel
from typer.testing import CliRunner

from tests.api.conftest import bearer, open_case
from vigil.settings import get_settings


def _loose_routes(app) -> list[str]:  # type: ignore[no-untyped-def]
    """The /api routes that answer JSON without a model (a dict, Any, or nothing declared)."""
    loose = []
    for route in app.routes:
        if not isinstance(route, APIRoute) or not route.path.startswith("/api"):
            continue
        if not isinstance(route.response_class, DefaultPlaceholder) or route.status_code == 204:
            continue  # HTML, PDF, GeoJSON, CSV or no content: not a JSON body
        model = route.response_model
        inner = get_args(model)[0] if get_origin(model) is list else model
        if not (isinstance(inner, type) and issubclass(inner, BaseModel)):
            loose.append(f"{sorted(route.methods)[0]} {route.path}: {model}")
    return loose


def test_every_json_route_declares_a_model(app_env) -> None:  # type: ignore[no-untyped-def]
    app, _, _ = app_env
    assert _loose_routes(app) == []
    schema = app.openapi()["components"]["schemas"]
    assert {"CaseDetail", "CaseSummary", "AuditEntryOut", "VerifyOut"} <= set(schema)
    assert "consultations" in schema["CaseDetail"]["properties"]


def test_the_check_catches_a_dict_route(app_env) -> None:  # type: ignore[no-untyped-def]
    from typing import Any

    from fastapi import FastAPI

    bad = FastAPI()

    @bad.get("/api/loose", response_model=dict[str, Any])
    def loose() -> dict[str, Any]:
        return {}

    assert _loose_routes(bad) == ["GET /api/loose: dict[str, typing.Any]"]


def test_cli_and_api_show_a_case_alike(  # type: ignore[no-untyped-def]
    app_env, client, tokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vigil.cli import app as cli
    from vigil.db.identity import IdentityStore

    application, clock, _ = app_env
    case = open_case(client, tokens, clock)
    api = client.get(f"/api/cases/{case['id']}", headers=bearer(tokens, "oversight")).json()
    # the command line runs on the wall clock: a token issued now (the app's are from 2022)
    store = IdentityStore(application.state.ctx.session_factory)
    oversight = store.get_by_username("oversight")
    assert oversight is not None
    token = store.issue_token(oversight, "cli")
    monkeypatch.setenv("VIGIL_DATABASE_URL", application.state.ctx.settings.database_url)
    get_settings.cache_clear()
    try:
        shown = CliRunner().invoke(
            cli, ["case", "show", str(case["id"])], env={"VIGIL_TOKEN": token}
        )
    finally:
        get_settings.cache_clear()
    assert shown.exit_code == 0, shown.output
    cli_json = json.loads(shown.output)
    # the same fields and values; only the moment of reading differs (the API's clock is fixed)
    assert set(cli_json) == set(api)
    assert {k: v for k, v in cli_json.items() if k != "as_of"} == {
        k: v for k, v in api.items() if k != "as_of"
    }
