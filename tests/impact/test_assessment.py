"""The CIA model: what makes it complete, and what it refuses."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from vigil.impact.assessment import (
    REQUIRED_CONSULTEES,
    AreaProfile,
    CommunicationPlan,
    CommunityImpactAssessment,
    CommunityTension,
    Consultation,
    ConsulteeBody,
    Mitigation,
    Position,
    Reviewer,
    Risk,
    TensionRating,
)
from vigil.roles import Role


def complete_cia() -> CommunityImpactAssessment:
    return CommunityImpactAssessment(
        case_id="c1",
        area_profile=AreaProfile(
            area_kind="lsoa",
            area_code="E01000001",
            population=1465,
            age_bands={"0-15": 129, "16-29": 352},
            ethnicity_2011={"White": 0.78, "Black": 0.02},
            imd_decile=9,
        ),
        tension=CommunityTension(
            evidenced="two stabbings near the station in a week",
            experienced="residents report fear of retaliation",
            potential="visible armed officers at the school gate",
            rating=TensionRating.HIGH,
        ),
        consultations=[
            Consultation(
                body=b, role="chair", on=date(2022, 6, 30), position=Position.NEUTRAL, summary="x"
            )
            for b in REQUIRED_CONSULTEES
        ],
        risks=[Risk(id="R1", description="loss of confidence", likelihood=3, impact=4)],
        mitigations=[Mitigation(description="SNT briefings", addresses=["R1"])],
        communication=CommunicationPlan(before="leaflets and social media", after="public debrief"),
        reviewer=Reviewer(user_id="u-engagement", role=Role.COMMUNITY_LEAD),
        review_date=date(2022, 7, 1),
        indicators={"area": "E01000001"},
    )


def test_complete_cia_has_nothing_missing() -> None:
    cia = complete_cia()
    assert cia.missing() == []
    assert cia.complete
    assert cia.risks[0].score == 12 and cia.risks[0].band == "high"


def test_missing_names_each_absent_item() -> None:
    assert CommunityImpactAssessment().missing() == [
        "area profile",
        "community tension: evidenced",
        "community tension: experienced",
        "community tension: potential",
        "community tension: rating",
        "consultation: Local commander (BCU)",
        "consultation: Independent Advisory Group",
        "consultation: Safer Neighbourhood Board",
        "consultation: Community leaders",
        "consultation: Stop-and-search monitoring group",
        "risks",
        "mitigations",
        "communication plan: before",
        "communication plan: after",
        "reviewer",
        "review date",
        "automatic indicators",
    ]


def test_missing_consultee_and_unmitigated_high_risk() -> None:
    cia = complete_cia()
    cia.consultations = [
        c for c in cia.consultations if c.body is not ConsulteeBody.STOP_SEARCH_MONITORING_GROUP
    ]
    cia.risks.append(Risk(id="R2", description="escalation", likelihood=5, impact=4))
    assert cia.missing() == [
        "consultation: Stop-and-search monitoring group",
        "mitigation for risk R2 (score 20)",
    ]


def test_rejects_bad_ratings_and_unknown_risk_refs() -> None:
    with pytest.raises(ValidationError, match="less than or equal to 5"):
        Risk(id="R1", description="x", likelihood=6, impact=1)
    with pytest.raises(ValidationError, match="unknown risk id"):
        CommunityImpactAssessment(
            risks=[Risk(id="R1", description="x", likelihood=1, impact=1)],
            mitigations=[Mitigation(description="y", addresses=["R9"])],
        )
    with pytest.raises(ValidationError, match="repeated: R1"):
        CommunityImpactAssessment(
            risks=[Risk(id="R1", description="x", likelihood=1, impact=1)] * 2
        )


def test_round_trips_through_json() -> None:
    cia = complete_cia()
    again = CommunityImpactAssessment.model_validate_json(cia.model_dump_json())
    assert again == cia


def test_free_text_feeds_the_personal_data_check() -> None:
    from vigil.cases.text import suspected_names

    cia = complete_cia()
    cia.consultations[1].summary = "Mr Jones said the estate is tense"
    text = cia.free_text()
    assert text["consultations[1].summary"].startswith("Mr Jones")
    hits = {k: suspected_names(v) for k, v in text.items() if suspected_names(v)}
    assert hits == {"consultations[1].summary": ["Mr Jones"]}
