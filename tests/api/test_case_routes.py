"""The remaining case routes call the service with the right arguments: withdraw, refuse,
urgent authorisation of a reactive case and its ratification, extension, cancellation, close.
Cases rest on the real July 2022 London forecast (see _fixtures); the top areas are in
Westminster, the test commander's borough."""

from __future__ import annotations

from datetime import timedelta

from tests.api._flow import cia_json
from tests.api.conftest import bearer, open_case, post_as

#: the cases here start five minutes from now
SOON = timedelta(minutes=5)


def _consulted(client, tokens, cid):
    post_as(client, tokens, "analyst", f"/api/cases/{cid}/submit")
    post_as(
        client,
        tokens,
        "commander",
        f"/api/cases/{cid}/consultations",
        {"consultee": "local_commander", "position": "concur", "reasons": "Agreed."},
    )
    post_as(
        client,
        tokens,
        "lead",
        f"/api/cases/{cid}/consultations",
        {"consultee": "community", "position": "object", "reasons": "Fear of escalation."},
    )


def test_withdraw_and_refuse(app_env, client, tokens):
    _, clock, _ = app_env
    cid = open_case(client, tokens, clock, start_in=SOON, trigger="proactive")["id"]
    assert (
        post_as(
            client,
            tokens,
            "analyst",
            f"/api/cases/{cid}/withdraw",
            {"reasons": "Intelligence superseded."},
        )["status"]
        == "withdrawn"
    )
    cid = open_case(client, tokens, clock, start_in=SOON, trigger="proactive")["id"]
    _consulted(client, tokens, cid)
    refused = post_as(
        client,
        tokens,
        "ao",
        f"/api/cases/{cid}/refuse",
        {"reasons": "Not proportionate given the community's objection."},
    )
    assert refused["status"] == "refused"
    assert [c["position"] for c in refused["consultations"]] == ["concur", "object"]


def urgent_case(client, tokens, clock) -> dict:
    """A reactive case on the second top area, consulted and urgently authorised by ao2."""
    cid = open_case(client, tokens, clock, start_in=SOON, hours=6, area=1, trigger="reactive")["id"]
    _consulted(client, tokens, cid)
    return post_as(
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


def test_urgent_ratify_extend_cancel_close(app_env, client, tokens):
    _, clock, _ = app_env
    urgent = urgent_case(client, tokens, clock)
    cid = urgent["id"]
    assert urgent["status"] == "authorised" and urgent["urgent"] and urgent["ratify_by"]
    # ratification needs the reviewed CIA and another officer than the urgent one
    base = post_as(client, tokens, "lead", f"/api/cases/{cid}/impact-assessment/draft")
    content = client.get(
        f"/api/cases/{cid}/impact-assessment", headers=bearer(tokens, "lead")
    ).json()["content"]
    done = post_as(
        client,
        tokens,
        "lead",
        f"/api/cases/{cid}/impact-assessment",
        cia_json(content, "ao", clock.now().date().isoformat()),
    )
    assert base["id"] == cid and done["assessments"][-1]["missing"] == []
    post_as(
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
    ratified = post_as(
        client, tokens, "ao", f"/api/cases/{cid}/ratify", {"reasons": "Ratified: proportionate."}
    )
    assert ratified["ratified_at"]
    post_as(client, tokens, "ao", f"/api/cases/{cid}/notify-oversight", {"message": "Urgent case."})
    clock.advance(timedelta(minutes=10))
    post_as(client, tokens, "commander", f"/api/cases/{cid}/activate")
    # an extension needs the CIA reviewed again since the last decision
    post_as(
        client,
        tokens,
        "commander",
        f"/api/cases/{cid}/impact-assessment/review",
        {"notes": "Still sufficient for an extension."},
    )
    extended = post_as(
        client,
        tokens,
        "ao",
        f"/api/cases/{cid}/extend",
        {"hours": 3, "reasons": "Suspects still at large.", "override_reason": "Continuing risk."},
    )
    assert extended["extensions"][0]["hours"] == 3
    cancelled = post_as(
        client,
        tokens,
        "commander",
        f"/api/cases/{cid}/cancel",
        {"reasons": "Arrests made; standing down."},
    )
    assert cancelled["status"] == "cancelled" and cancelled["debrief_due"]
    post_as(
        client,
        tokens,
        "commander",
        f"/api/cases/{cid}/debrief",
        {"what_happened": "Stood down early.", "incidents": 0, "complaints": 0},
    )
    closed = post_as(client, tokens, "oversight", f"/api/cases/{cid}/close", {"notes": "Reviewed."})
    assert closed["status"] == "closed"
    html = client.get(f"/api/reports/cases/{cid}", headers=bearer(tokens, "oversight"))
    assert html.status_code == 200 and f"{cid}" in html.text
