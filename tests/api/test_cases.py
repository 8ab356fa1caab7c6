"""A case's whole life through the JSON API as scripts would drive it (bearer tokens), over a
real forecast of London serious violence (see _fixtures)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api._flow import cia_json
from tests.api.conftest import bearer, post_as


@pytest.fixture(scope="module")
def hotspot(client, tokens):
    top = client.get("/api/forecasts/current/top?k=1", headers=bearer(tokens, "analyst")).json()
    return top[0]


def test_full_case_life_through_the_api(app_env, client, tokens, hotspot):
    app, clock, _ = app_env
    now = clock.now()
    start, end = now + timedelta(hours=1), now + timedelta(hours=13)
    case = post_as(
        client,
        tokens,
        "analyst",
        "/api/cases",
        {
            "cells": [hotspot["area_id"]],
            "start": start.isoformat(),
            "end": end.isoformat(),
            "resources": "Two armed response vehicles, officers on foot 18:00-02:00",
            "objectives": "Prevent serious violence around the late-night economy",
            "success_measures": ["No knife injuries in the area during the window"],
        },
        status=201,
    )
    cid = case["id"]
    assert case["status"] == "draft" and case["borough"] == "Westminster"
    assert case["evidence_model"] == "naive" and len(case["evidence_digest"]) == 64

    post_as(client, tokens, "analyst", f"/api/cases/{cid}/submit")
    post_as(
        client,
        tokens,
        "commander",
        f"/api/cases/{cid}/consultations",
        {"consultee": "local_commander", "position": "concur", "reasons": "Supported locally."},
    )
    post_as(
        client,
        tokens,
        "lead",
        f"/api/cases/{cid}/consultations",
        {"consultee": "community", "position": "concur", "reasons": "IAG supports it."},
    )

    drafted = post_as(client, tokens, "lead", f"/api/cases/{cid}/impact-assessment/draft")
    assert drafted["assessments"][-1]["status"] == "incomplete"
    base = client.get(f"/api/cases/{cid}/impact-assessment", headers=bearer(tokens, "lead")).json()[
        "content"
    ]
    assert base["area_profile"]["population"] > 0
    # the draft carries the case's own evidence forecast, as the CLI's `--case` does
    standing = base["indicators"]["forecast"]
    assert standing is not None and standing["model"] == "naive"
    # what the evaluation can detect, frozen with the plan when the case was opened, travels in
    # the CIA itself, so a CIA saved as JSON and rendered elsewhere shows it (issue 17)
    from vigil.app.evaluation_plan import plan_of

    with app_env[0].state.ctx.session_factory() as s:
        plan = plan_of(s, cid)
    assert plan is not None and plan.mdr_note and base["detectable"] == plan.mdr_note
    ao = client.get("/api/me", headers=bearer(tokens, "ao")).json()
    done = post_as(
        client,
        tokens,
        "lead",
        f"/api/cases/{cid}/impact-assessment",
        cia_json(base, ao["id"], now.date().isoformat()),
    )
    assert done["assessments"][-1]["missing"] == [], done["assessments"][-1]["missing"]
    post_as(
        client,
        tokens,
        "ao",
        f"/api/cases/{cid}/impact-assessment/review",
        {"notes": "Proportionate; mitigations adequate."},
    )
    post_as(client, tokens, "lead", f"/api/cases/{cid}/request-authorisation")

    # the analyst who asked cannot authorise: refused at the route by the policy's roles
    r = client.post(
        f"/api/cases/{cid}/authorise", json={"conditions": "x"}, headers=bearer(tokens, "analyst")
    )
    assert r.status_code == 403 and "authorising_officer" in r.json()["detail"]

    authorised = post_as(
        client,
        tokens,
        "ao",
        f"/api/cases/{cid}/authorise",
        {
            "conditions": "Foot patrols only in the marked area; body-worn video on.",
            "override_reason": "Exceptional: two stabbings this fortnight.",
        },
    )
    assert authorised["status"] == "authorised"
    post_as(
        client,
        tokens,
        "ao",
        f"/api/cases/{cid}/notify-oversight",
        {"message": "Authorised, Westminster, 12 h."},
    )
    feed = client.get("/api/cases/notifications", headers=bearer(tokens, "oversight")).json()
    assert any(n["case_id"] == cid and n["kind"] == "authorisation_notice" for n in feed)
    assert any(n["case_id"] == cid and n["kind"] == "authorisation:initial" for n in feed)

    clock.advance(timedelta(hours=2))
    assert post_as(client, tokens, "commander", f"/api/cases/{cid}/activate")["status"] == "active"
    clock.advance(timedelta(hours=12))
    read = client.get(f"/api/cases/{cid}", headers=bearer(tokens, "oversight")).json()
    assert read["status"] == "expired" and read["lapsed"] == "authorised window ended"

    debriefed = post_as(
        client,
        tokens,
        "commander",
        f"/api/cases/{cid}/debrief",
        {
            "what_happened": "Patrols ran as planned; no serious violence recorded.",
            "incidents": 0,
            "complaints": 1,
            "community_feedback": "Mixed; some felt reassured.",
        },
    )
    assert debriefed["status"] == "debriefed"

    trail = client.get(f"/api/cases/{cid}/audit", headers=bearer(tokens, "oversight")).json()
    actions = [e["action"] for e in trail]
    assert "case.read" in actions  # reads are audited
    for step in ("open", "submit", "consult", "authorise", "activate", "expire", "debrief"):
        assert any(step in a for a in actions), (step, actions)
    verify = client.get("/api/audit/verify", headers=bearer(tokens, "oversight")).json()
    assert verify["ok"], verify["problems"]


def test_refusals_are_clear_json(client, tokens):
    r = client.get("/api/cases/999999", headers=bearer(tokens, "analyst"))
    assert r.status_code == 404 and "case 999999 does not exist" in r.json()["detail"]
    r = client.post(
        "/api/cases",
        json={
            "cells": ["nowhere"],
            "start": "2022-07-01T10:00:00Z",
            "end": "2022-07-01T12:00:00Z",
            "resources": "x",
            "objectives": "y",
            "success_measures": ["z"],
        },
        headers=bearer(tokens, "analyst"),
    )
    assert r.status_code == 400 and "nowhere" in r.json()["detail"]
