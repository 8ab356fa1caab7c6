"""The remaining case routes call the service with the right arguments: withdraw, refuse,
urgent authorisation of a reactive case and its ratification, extension, cancellation, close.
Cases rest on the real July 2022 London forecast (see _fixtures); the top areas are in
Westminster, the test commander's borough."""

from __future__ import annotations

from datetime import timedelta

from tests.api._flow import cia_json
from tests.api.conftest import bearer


def _post(client, tokens, user, path, body=None, status=200):
    r = client.post(path, json=body or {}, headers=bearer(tokens, user))
    assert r.status_code == status, f"{user} {path}: {r.status_code} {r.text}"
    return r.json()


def _open(client, tokens, clock, trigger="proactive", hours=8, area=0):
    top = client.get("/api/forecasts/current/top?k=2", headers=bearer(tokens, "analyst")).json()
    now = clock.now()
    return _post(
        client,
        tokens,
        "analyst",
        "/api/cases",
        {
            "trigger": trigger,
            "cells": [top[area]["area_id"]],
            "start": (now + timedelta(minutes=5)).isoformat(),
            "end": (now + timedelta(hours=hours)).isoformat(),
            "resources": "Officers on foot",
            "objectives": "Prevent serious violence",
            "success_measures": ["No knife injuries"],
        },
        status=201,
    )["id"]


def _consulted(client, tokens, cid):
    _post(client, tokens, "analyst", f"/api/cases/{cid}/submit")
    _post(
        client,
        tokens,
        "commander",
        f"/api/cases/{cid}/consultations",
        {"consultee": "local_commander", "position": "concur", "reasons": "Agreed."},
    )
    _post(
        client,
        tokens,
        "lead",
        f"/api/cases/{cid}/consultations",
        {"consultee": "community", "position": "object", "reasons": "Fear of escalation."},
    )


def test_withdraw_and_refuse(app_env, client, tokens):
    _, clock, _ = app_env
    cid = _open(client, tokens, clock)
    assert (
        _post(
            client,
            tokens,
            "analyst",
            f"/api/cases/{cid}/withdraw",
            {"reasons": "Intelligence superseded."},
        )["status"]
        == "withdrawn"
    )
    cid = _open(client, tokens, clock)
    _consulted(client, tokens, cid)
    refused = _post(
        client,
        tokens,
        "ao",
        f"/api/cases/{cid}/refuse",
        {"reasons": "Not proportionate given the community's objection."},
    )
    assert refused["status"] == "refused"
    assert [c["position"] for c in refused["consultations"]] == ["concur", "object"]


def test_urgent_ratify_extend_cancel_close(app_env, client, tokens):
    _, clock, _ = app_env
    cid = _open(client, tokens, clock, trigger="reactive", hours=6, area=1)
    _consulted(client, tokens, cid)
    urgent = _post(
        client,
        tokens,
        "ao2",
        f"/api/cases/{cid}/authorise",
        {
            "conditions": "Urgent: stabbing an hour ago.",
            "urgent": True,
            "override_reason": "Reactive to a serious assault.",
        },
    )
    assert urgent["status"] == "authorised" and urgent["urgent"] and urgent["ratify_by"]
    # ratification needs the reviewed CIA and another officer than the urgent one
    base = _post(client, tokens, "lead", f"/api/cases/{cid}/impact-assessment/draft")
    content = client.get(
        f"/api/cases/{cid}/impact-assessment", headers=bearer(tokens, "lead")
    ).json()["content"]
    done = _post(
        client,
        tokens,
        "lead",
        f"/api/cases/{cid}/impact-assessment",
        cia_json(content, "ao", clock.now().date().isoformat()),
    )
    assert base["id"] == cid and done["assessments"][-1]["missing"] == []
    _post(
        client,
        tokens,
        "commander",
        f"/api/cases/{cid}/impact-assessment/review",
        {"notes": "Sufficient."},
    )
    r = client.post(
        f"/api/cases/{cid}/ratify", json={"reasons": "mine"}, headers=bearer(tokens, "ao2")
    )
    assert r.status_code in (403, 409) and "ratify" in r.json()["detail"]
    ratified = _post(
        client, tokens, "ao", f"/api/cases/{cid}/ratify", {"reasons": "Ratified: proportionate."}
    )
    assert ratified["ratified_at"]
    _post(client, tokens, "ao", f"/api/cases/{cid}/notify-oversight", {"message": "Urgent case."})
    clock.advance(timedelta(minutes=10))
    _post(client, tokens, "commander", f"/api/cases/{cid}/activate")
    # an extension needs the CIA reviewed again since the last decision
    _post(
        client,
        tokens,
        "commander",
        f"/api/cases/{cid}/impact-assessment/review",
        {"notes": "Still sufficient for an extension."},
    )
    extended = _post(
        client,
        tokens,
        "ao",
        f"/api/cases/{cid}/extend",
        {"hours": 3, "reasons": "Suspects still at large.", "override_reason": "Continuing risk."},
    )
    assert extended["extensions"][0]["hours"] == 3
    cancelled = _post(
        client,
        tokens,
        "commander",
        f"/api/cases/{cid}/cancel",
        {"reasons": "Arrests made; standing down."},
    )
    assert cancelled["status"] == "cancelled" and cancelled["debrief_due"]
    _post(
        client,
        tokens,
        "commander",
        f"/api/cases/{cid}/debrief",
        {"what_happened": "Stood down early.", "incidents": 0, "complaints": 0},
    )
    closed = _post(client, tokens, "oversight", f"/api/cases/{cid}/close", {"notes": "Reviewed."})
    assert closed["status"] == "closed"
    html = client.get(f"/api/reports/cases/{cid}", headers=bearer(tokens, "oversight"))
    assert html.status_code == 200 and f"{cid}" in html.text
