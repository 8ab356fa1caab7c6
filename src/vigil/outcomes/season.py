"""Run a planned season of deployments through the real case workflow.

Each planned deployment becomes a case that is opened by an analyst on the forecast, submitted,
consulted on, assessed (CIA), authorised by a chief officer, notified to oversight, activated when
its window opens, left to expire by the clock, and debriefed: exactly the path a real deployment
takes, so the evaluation reads what the workflow wrote (``activated_at``, ``ended_at``, cells,
frozen evidence) rather than a shortcut. Used by the outcome tests and the demo data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from vigil.cases.statements import Consultation, Debrief
from vigil.clock import FixedClock
from vigil.forecast.surface import RiskSurface
from vigil.outcomes.simulate import PlannedDeployment
from vigil.roles import Actor, Rank, Role

LOCAL_TZ = "Europe/London"


@dataclass(frozen=True)
class SeasonActors:
    """Role accounts (not people) that take each step; the requester never authorises."""

    analyst: Actor = Actor("sim-analyst", Role.ANALYST, Rank.NONE, "Intelligence analyst")
    commander: Actor = Actor(
        "sim-bcu-commander", Role.LOCAL_COMMANDER, Rank.CHIEF_SUPERINTENDENT, "BCU commander"
    )
    community: Actor = Actor(
        "sim-engagement", Role.COMMUNITY_LEAD, Rank.NONE, "Community engagement lead"
    )
    authoriser: Actor = Actor(
        "sim-authoriser",
        Role.AUTHORISING_OFFICER,
        Rank.ASSISTANT_COMMISSIONER,
        "Authorising officer (chief officer)",
    )
    extra: dict[str, Actor] = field(default_factory=dict)

    def commander_for(self, borough: str | None) -> Actor:
        """The commander account of ``borough``: local commanders act only in their own."""
        slug = (borough or "none").lower().replace(" ", "-")
        return replace(self.commander, user_id=f"{self.commander.user_id}-{slug}", borough=borough)


def _utc(local: pd.Timestamp, tz: str) -> datetime:
    return pd.Timestamp(local).tz_localize(tz).tz_convert("UTC").to_pydatetime()


def season_cia(area_id: str, on: date) -> dict[str, Any]:
    """A complete community impact assessment for a simulated case (roles, never names)."""
    from vigil.impact.assessment import REQUIRED_CONSULTEES

    return {
        "case_id": area_id,
        "area_profile": {
            "area_kind": "polygon",
            "area_code": area_id,
            "population": 1500,
            "population_source": "simulated season: illustrative",
            "age_bands": {"0-15": 250, "16-29": 450, "30+": 800},
            "ethnicity_2011": {"White": 0.5, "Black": 0.2, "Asian": 0.2, "Other": 0.1},
            "imd_decile": 3,
        },
        "tension": {
            "evidenced": "serious violence above the area's usual level in the forecast",
            "experienced": "residents' groups report concern at recent incidents",
            "potential": "visible armed officers near the high street in the evening",
            "rating": "medium",
        },
        "consultations": [
            {
                "body": str(b),
                "role": "chair",
                "on": on.isoformat(),
                "position": "neutral",
                "summary": "consulted on the area and window",
            }
            for b in REQUIRED_CONSULTEES
        ],
        "risks": [{"id": "R1", "description": "loss of confidence", "likelihood": 3, "impact": 4}],
        "mitigations": [
            {"description": "briefings by the neighbourhood team", "addresses": ["R1"]}
        ],
        "communication": {"before": "notice to community groups", "after": "public debrief"},
        "reviewer": {"user_id": "sim-engagement", "role": "community_lead"},
        "review_date": on.isoformat(),
        "indicators": {"area": area_id, "source": "simulated season"},
    }


def authorise_planned(
    service: Any,
    p: PlannedDeployment,
    surface: RiskSurface,
    actors: SeasonActors | None = None,
    tz: str = LOCAL_TZ,
) -> int:
    """Open, consult on, assess, authorise and notify oversight of one planned deployment, at the
    clock's time; the case id. The case is left authorised, not yet activated."""
    a = actors or SeasonActors()
    start, end = _utc(p.start, tz), _utc(p.end, tz)
    view = service.open_case(
        a.analyst,
        trigger="proactive",
        window=(start, end),
        resources="two armed response vehicles' crews on foot patrol",
        objectives="reduce serious violence in the area during the evening peak",
        success_measures=[
            "serious violence in the area against comparable control areas",
            "no displacement into the surrounding streets",
        ],
        cells=[p.area_id],
        evidence=surface,
        justification=f"simulated season deployment {p.label}",
    )
    cid = int(view.id)
    commander = a.commander_for(view.record.borough)
    service.submit(a.analyst, cid)
    service.record_consultation(
        commander,
        cid,
        Consultation("local_commander", "concur", "the area matches local intelligence"),
    )
    service.record_consultation(
        a.community,
        cid,
        Consultation("community", "abstain", "community groups neutral on a short window"),
    )
    service.attach_impact_assessment(a.community, cid, season_cia(p.area_id, start.date()))
    service.review_impact_assessment(commander, cid, "assessment complete and proportionate")
    service.request_authorisation(a.analyst, cid)
    service.authorise(
        a.authoriser,
        cid,
        conditions="evening window only; body-worn video on throughout",
        override_reason="simulated season: exceptional deployment accepted for evaluation",
    )
    service.notify_oversight(a.authoriser, cid, f"authorised {p.label} for {p.start:%d %b %Y}")
    return cid


def case_borough(service: Any, case_id: int) -> str | None:
    """The case's lead borough (a plain lookup, not a read of case content)."""
    from vigil.db.cases import Case

    with service.session_factory() as s:
        return s.get(Case, case_id).borough  # type: ignore[no-any-return]


def run_season(
    service: Any,
    clock: FixedClock,
    plan: Sequence[PlannedDeployment],
    surface: RiskSurface,
    *,
    actors: SeasonActors | None = None,
    tz: str = LOCAL_TZ,
    lead_hours: float = 6.0,
    debrief_after_hours: float = 24.0,
) -> list[int]:
    """Take every planned deployment through the workflow; the case ids, in plan order.

    ``service`` is a :class:`vigil.cases.service.CaseService` on ``clock``. The clock is moved
    to ``lead_hours`` before each window for the decision, to its start for activation, and past
    its end so it expires by itself, then on for the debrief.
    """
    a = actors or SeasonActors()
    ids: list[int] = []
    for p in plan:
        start, end = _utc(p.start, tz), _utc(p.end, tz)
        clock.set(start - timedelta(hours=lead_hours))
        cid = authorise_planned(service, p, surface, a, tz)
        commander = a.commander_for(case_borough(service, cid))
        clock.set(start)
        service.activate(commander, cid)
        clock.set(end + timedelta(minutes=1))
        service.sweep_expired()
        clock.set(end + timedelta(hours=debrief_after_hours))
        service.record_debrief(
            commander,
            cid,
            Debrief(
                what_happened="patrol completed without use of force",
                incidents=0,
                complaints=0,
                community_feedback="no complaints received",
            ),
        )
        ids.append(cid)
    return ids
