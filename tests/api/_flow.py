"""The text a complete community impact assessment needs, shared by the API and browser tests.
Bodies and roles only, never names (the CIA model forbids nothing else, but Vigil's rule is)."""

from __future__ import annotations

TENSION = {
    "tension_evidenced": "Two reported knife incidents near the station in the last fortnight.",
    "tension_experienced": "Traders report residents avoiding the high street after dark.",
    "tension_potential": "Visible armed patrols may raise fear among young people.",
    "tension_rating": "medium",
}
BODIES = [
    "local_commander",
    "independent_advisory_group",
    "safer_neighbourhood_board",
    "community_leaders",
    "stop_search_monitoring_group",
]
RISKS = [
    ("R1", "Loss of confidence among young Black residents", 3, 4),
    ("R2", "Disruption to the night-time economy", 2, 2),
]
MITIGATIONS = [("Brief the stop-search monitoring group daily", "R1", "community lead")]
COMMUNICATION = {
    "communication_before": "Safer Neighbourhood Board and ward panels told the day before.",
    "communication_after": "Debrief to the IAG within a week of the end.",
}


def cia_json(base: dict, reviewer_id: str, on: str) -> dict:
    """``base`` (the drafted CIA with indicators and area profile) completed."""
    cia = dict(base)
    cia["tension"] = {
        "evidenced": TENSION["tension_evidenced"],
        "experienced": TENSION["tension_experienced"],
        "potential": TENSION["tension_potential"],
        "rating": TENSION["tension_rating"],
    }
    cia["consultations"] = [
        {
            "body": b,
            "role": "chair",
            "on": on,
            "position": "supports_with_conditions",
            "summary": "Supports a short, visible deployment with daily community briefings.",
        }
        for b in BODIES
    ]
    cia["risks"] = [
        {"id": i, "description": d, "likelihood": lk, "impact": im} for i, d, lk, im in RISKS
    ]
    cia["mitigations"] = [
        {"description": d, "addresses": [a], "owner_role": o} for d, a, o in MITIGATIONS
    ]
    cia["communication"] = {
        "before": COMMUNICATION["communication_before"],
        "after": COMMUNICATION["communication_after"],
    }
    cia["reviewer"] = {"user_id": reviewer_id, "role": "authorising_officer"}
    cia["review_date"] = on
    return cia
