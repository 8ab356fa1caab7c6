"""The community impact assessment (CIA) attached to every deployment case.

Critics of armed patrols warn that they inspire fear rather than reassurance and fall hardest on
communities already heavily policed. The CIA makes those concerns part of the decision: it must be
complete before an authorisation and is reviewed at each extension. :meth:`missing` names every
required item that is absent, so the case workflow can refuse with a precise reason and the form
can show what is left to do.

The CIA records bodies and roles, never the names of people: a consultee is "Independent Advisory
Group, chair", not a person. Free text is for areas, times and reasons.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from vigil.roles import Role


class ConsulteeBody(StrEnum):
    """The bodies a CIA must hear from before an authorisation."""

    LOCAL_COMMANDER = "local_commander"
    INDEPENDENT_ADVISORY_GROUP = "independent_advisory_group"
    SAFER_NEIGHBOURHOOD_BOARD = "safer_neighbourhood_board"
    COMMUNITY_LEADERS = "community_leaders"
    STOP_SEARCH_MONITORING_GROUP = "stop_search_monitoring_group"
    OTHER = "other"

    @property
    def label(self) -> str:
        return _BODY_LABELS[self]


_BODY_LABELS = {
    ConsulteeBody.LOCAL_COMMANDER: "Local commander (BCU)",
    ConsulteeBody.INDEPENDENT_ADVISORY_GROUP: "Independent Advisory Group",
    ConsulteeBody.SAFER_NEIGHBOURHOOD_BOARD: "Safer Neighbourhood Board",
    ConsulteeBody.COMMUNITY_LEADERS: "Community leaders",
    ConsulteeBody.STOP_SEARCH_MONITORING_GROUP: "Stop-and-search monitoring group",
    ConsulteeBody.OTHER: "Other body",
}

#: Every one of these must have been consulted (and its position recorded) before authorisation.
REQUIRED_CONSULTEES: tuple[ConsulteeBody, ...] = (
    ConsulteeBody.LOCAL_COMMANDER,
    ConsulteeBody.INDEPENDENT_ADVISORY_GROUP,
    ConsulteeBody.SAFER_NEIGHBOURHOOD_BOARD,
    ConsulteeBody.COMMUNITY_LEADERS,
    ConsulteeBody.STOP_SEARCH_MONITORING_GROUP,
)


class Position(StrEnum):
    SUPPORTS = "supports"
    SUPPORTS_WITH_CONDITIONS = "supports_with_conditions"
    NEUTRAL = "neutral"
    OBJECTS = "objects"
    DECLINED_TO_COMMENT = "declined_to_comment"


class TensionRating(StrEnum):
    """Community tension rating, in the four bands forces use for tension assessments."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    VERY_HIGH = "very_high"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AreaProfile(_Model):
    """Who lives in the area. Filled from the census and IMD files by
    :func:`vigil.impact.indicators.area_profile`; editable so a lead can correct or annotate."""

    area_kind: str = Field(description="lsoa, ward or polygon")
    area_code: str | None = None
    area_name: str | None = None
    population: float | None = Field(default=None, ge=0)
    population_source: str | None = None
    #: residents per age band, e.g. {"0-15": 1234, "16-29": ...}
    age_bands: dict[str, float] = Field(default_factory=dict)
    #: 2011 census ethnic group shares (0..1): White, Mixed, Asian, Black, Other
    ethnicity_2011: dict[str, float] = Field(default_factory=dict)
    #: IMD 2019: population-weighted score and decile (1 = most deprived 10% in England)
    imd_score: float | None = None
    imd_decile: float | None = Field(default=None, ge=1, le=10)
    notes: str = ""


class CommunityTension(_Model):
    """Tension in the community, in the three kinds forces assess, with an overall rating."""

    evidenced: str = Field(default="", description="tension shown by events and reports")
    experienced: str = Field(default="", description="tension felt and reported by residents")
    potential: str = Field(default="", description="what could raise tension, incl. the deployment")
    rating: TensionRating | None = None


class Consultation(_Model):
    """What one consulted body said. ``role`` is the role of whoever spoke for it (e.g. "chair"),
    never a person's name."""

    body: ConsulteeBody
    role: str = Field(min_length=1)
    on: date
    position: Position
    summary: str = Field(min_length=1)


class Risk(_Model):
    """A risk to the community or to confidence, rated likelihood x impact (each 1-5)."""

    id: str = Field(min_length=1)
    description: str = Field(min_length=1)
    likelihood: int = Field(ge=1, le=5)
    impact: int = Field(ge=1, le=5)

    @model_validator(mode="before")
    @classmethod
    def _drop_stored_score(cls, data: Any) -> Any:
        """Accept the serialised ``score`` back, but never trust it: it is always recomputed."""
        if isinstance(data, dict) and "score" in data:
            data = dict(data)
            data.pop("score")
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def score(self) -> int:
        return self.likelihood * self.impact

    @property
    def band(self) -> str:
        """Usual 5x5 matrix bands: low 1-4, medium 5-9, high 10-16, very high 20-25."""
        s = self.score
        return "low" if s <= 4 else "medium" if s <= 9 else "high" if s <= 16 else "very high"


#: Risks scoring at or above this need a mitigation that addresses them.
MITIGATION_REQUIRED_SCORE = 10


class Mitigation(_Model):
    description: str = Field(min_length=1)
    #: ids of the risks this mitigation addresses
    addresses: list[str] = Field(default_factory=list)
    owner_role: str = ""


class CommunicationPlan(_Model):
    before: str = Field(default="", description="who is told what, how, before the deployment")
    after: str = Field(default="", description="debrief to the community after it ends")


class Reviewer(_Model):
    user_id: str = Field(min_length=1)
    role: Role


class CommunityImpactAssessment(_Model):
    """One CIA for one case (a new version is saved at each review)."""

    case_id: str | None = None
    area_profile: AreaProfile | None = None
    tension: CommunityTension = Field(default_factory=CommunityTension)
    consultations: list[Consultation] = Field(default_factory=list)
    risks: list[Risk] = Field(default_factory=list)
    mitigations: list[Mitigation] = Field(default_factory=list)
    communication: CommunicationPlan = Field(default_factory=CommunicationPlan)
    reviewer: Reviewer | None = None
    review_date: date | None = None
    #: the automatic indicators (``vigil.impact.indicators.AreaIndicators.model_dump()``)
    indicators: dict[str, Any] | None = None
    #: what the evaluation will be able to detect, as frozen with the case's evaluation plan
    #: when it was opened (issue 17); set by the draft, so a CIA saved as JSON carries it
    detectable: str | None = None

    @model_validator(mode="after")
    def _risk_ids(self) -> CommunityImpactAssessment:
        ids = [r.id for r in self.risks]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"risk ids must be unique; repeated: {', '.join(dupes)}")
        for n, m in enumerate(self.mitigations, start=1):
            unknown = [r for r in m.addresses if r not in ids]
            if unknown:
                raise ValueError(
                    f"mitigation {n} addresses unknown risk id(s): {', '.join(unknown)}"
                )
        return self

    # ------------------------------------------------------------------ completeness
    def missing(
        self, required_consultees: tuple[ConsulteeBody, ...] = REQUIRED_CONSULTEES
    ) -> list[str]:
        """Each required item that is absent, in form order; an empty list means complete."""
        out: list[str] = []
        p = self.area_profile
        if p is None:
            out.append("area profile")
        else:
            if p.population is None:
                out.append("area profile: population")
            if not p.age_bands:
                out.append("area profile: age bands")
            if not p.ethnicity_2011:
                out.append("area profile: 2011 census ethnicity")
            if p.imd_decile is None:
                out.append("area profile: deprivation (IMD decile)")
        t = self.tension
        for kind in ("evidenced", "experienced", "potential"):
            if not getattr(t, kind):
                out.append(f"community tension: {kind}")
        if t.rating is None:
            out.append("community tension: rating")
        heard = {c.body for c in self.consultations}
        for body in required_consultees:
            if body not in heard:
                out.append(f"consultation: {body.label}")
        if not self.risks:
            out.append("risks")
        if not self.mitigations:
            out.append("mitigations")
        addressed = {r for m in self.mitigations for r in m.addresses}
        for r in self.risks:
            if r.score >= MITIGATION_REQUIRED_SCORE and r.id not in addressed:
                out.append(f"mitigation for risk {r.id} (score {r.score})")
        if not self.communication.before:
            out.append("communication plan: before")
        if not self.communication.after:
            out.append("communication plan: after")
        if self.reviewer is None:
            out.append("reviewer")
        if self.review_date is None:
            out.append("review date")
        if not self.indicators:
            out.append("automatic indicators")
        return out

    def free_text(self) -> dict[str, str]:
        """Every free-text field by its path, for the personal-data check on areas, times and
        reasons (``vigil.cases.text.check_free_text``): a CIA must name bodies, not people."""
        out: dict[str, str] = {}
        if self.area_profile is not None and self.area_profile.notes:
            out["area_profile.notes"] = self.area_profile.notes
        for kind in ("evidenced", "experienced", "potential"):
            out[f"tension.{kind}"] = getattr(self.tension, kind)
        for i, c in enumerate(self.consultations):
            out[f"consultations[{i}].role"] = c.role
            out[f"consultations[{i}].summary"] = c.summary
        for r in self.risks:
            out[f"risks[{r.id}].description"] = r.description
        for i, m in enumerate(self.mitigations):
            out[f"mitigations[{i}].description"] = m.description
            out[f"mitigations[{i}].owner_role"] = m.owner_role
        out["communication.before"] = self.communication.before
        out["communication.after"] = self.communication.after
        return {k: v for k, v in out.items() if v}

    @property
    def complete(self) -> bool:
        return not self.missing()

    def objections(self) -> list[Consultation]:
        """Consultations that objected: shown to the authorising officer and to oversight."""
        return [c for c in self.consultations if c.position is Position.OBJECTS]

    @property
    def highest_risk(self) -> Risk | None:
        return max(self.risks, key=lambda r: r.score, default=None)
