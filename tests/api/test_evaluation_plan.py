"""The evaluation plan through the API (issue 17): read it, and change it as the permission
table's ``evaluate`` row allows. A change after the deployment window has started needs a
justification (tests/outcomes/test_plan.py: the window of an authorised case)."""

from __future__ import annotations

from datetime import timedelta

from tests.api.conftest import bearer, post_as


def test_the_plan_is_read_and_changed_through_the_api(app_env, client, tokens):
    app, clock, _ = app_env
    top = client.get("/api/forecasts/current/top?k=1", headers=bearer(tokens, "analyst")).json()
    now = clock.now()
    case = post_as(
        client, tokens, "analyst", "/api/cases",
        {
            "cells": [top[0]["area_id"]],
            "start": (now + timedelta(hours=1)).isoformat(),
            "end": (now + timedelta(hours=9)).isoformat(),
            "resources": "Two armed response vehicles",
            "objectives": "Prevent serious violence",
            "success_measures": ["No knife injuries in the area during the window"],
        },
        status=201,
    )  # fmt: skip
    path = f"/api/cases/{case['id']}/evaluation-plan"
    v1 = client.get(path, headers=bearer(tokens, "oversight")).json()
    assert v1["version"] == 1 and v1["mdr_note"]
    # the community lead reads cases but does not evaluate them
    post_as(client, tokens, "lead", path, {"analysis": "quasi-Poisson only"}, status=403)
    v2 = post_as(client, tokens, "analyst", path, {"analysis": "quasi-Poisson only"})
    assert v2["version"] == 2 and v2["analysis"] == "quasi-Poisson only"
    assert v2["mdr_note"] == v1["mdr_note"] and not v2["changed_after_start"]
