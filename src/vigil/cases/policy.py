"""The deployment policy: a versioned YAML file, validated here, and the only place its rules
live. The workflow reads every limit from a :class:`Policy`; nothing is hard-coded elsewhere.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from vigil.cases.guardrail_policy import GuardrailPolicy
from vigil.errors import VigilError
from vigil.roles import Rank, Role

TRIGGERS = ("proactive", "reactive")


class PolicyFileError(VigilError):
    """The policy file is missing, not YAML, or breaks the schema."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _rank(value: Any) -> Rank:
    return Rank.parse(value)


class AuthorisationRules(_Strict):
    roles: tuple[Role, ...] = (Role.AUTHORISING_OFFICER,)
    min_rank: Rank = Rank.COMMANDER
    maker_checker: bool = True
    start_tolerance_minutes: float = Field(default=10, ge=0)

    _parse_rank = field_validator("min_rank", mode="before")(_rank)


class WindowRules(_Strict):
    initial_max_hours: float = Field(default=15, gt=0)
    extensions_max_hours: tuple[float, ...] = (9, 15)
    total_max_hours: float = Field(default=39, gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> WindowRules:
        if any(h <= 0 for h in self.extensions_max_hours):
            raise ValueError("window.extensions_max_hours: every extension must be > 0 hours")
        if self.initial_max_hours > self.total_max_hours:
            raise ValueError("window.initial_max_hours exceeds window.total_max_hours")
        return self


class UrgentRules(_Strict):
    triggers: tuple[str, ...] = ("reactive",)
    min_rank: Rank = Rank.SUPERINTENDENT
    ratify_within_hours: float = Field(default=2, gt=0)

    _parse_rank = field_validator("min_rank", mode="before")(_rank)

    @field_validator("triggers")
    @classmethod
    def _known(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [t for t in v if t not in TRIGGERS]
        if bad:
            raise ValueError(f"unknown trigger(s) {bad}; expected {list(TRIGGERS)}")
        return v


_RECORDERS: dict[str, tuple[Role, ...]] = {
    "local_commander": (Role.LOCAL_COMMANDER,),
    "community": (Role.COMMUNITY_LEAD,),
}


class ConsultationRules(_Strict):
    required: tuple[str, ...] = ("local_commander", "community")
    recorded_by: dict[str, tuple[Role, ...]] = Field(default_factory=lambda: dict(_RECORDERS))

    @model_validator(mode="after")
    def _every_required_has_recorders(self) -> ConsultationRules:
        missing = [c for c in self.required if c not in self.recorded_by]
        if missing:
            raise ValueError(f"consultations.recorded_by has no roles for {missing}")
        return self


class AssessmentRules(_Strict):
    authors: tuple[Role, ...] = (Role.COMMUNITY_LEAD, Role.ANALYST)
    reviewers: tuple[Role, ...] = (Role.AUTHORISING_OFFICER, Role.LOCAL_COMMANDER)


class DebriefRules(_Strict):
    within_hours: float = Field(default=72, gt=0)
    roles: tuple[Role, ...] = (Role.LOCAL_COMMANDER, Role.AUTHORISING_OFFICER)


class Policy(_Strict):
    version: str = Field(min_length=1)
    requester_roles: tuple[Role, ...] = (Role.ANALYST, Role.LOCAL_COMMANDER)
    authorisation: AuthorisationRules = Field(default_factory=AuthorisationRules)
    window: WindowRules = Field(default_factory=WindowRules)
    urgent: UrgentRules = Field(default_factory=UrgentRules)
    consultations: ConsultationRules = Field(default_factory=ConsultationRules)
    assessment: AssessmentRules = Field(default_factory=AssessmentRules)
    oversight_notification_required: bool = True
    success_measures_required: bool = True
    evidence_required_for: tuple[str, ...] = ("proactive",)
    activation_roles: tuple[Role, ...] = (Role.LOCAL_COMMANDER, Role.AUTHORISING_OFFICER)
    cancel_roles: tuple[Role, ...] = (Role.LOCAL_COMMANDER, Role.AUTHORISING_OFFICER)
    debrief: DebriefRules = Field(default_factory=DebriefRules)
    close_roles: tuple[Role, ...] = (Role.AUTHORISING_OFFICER, Role.OVERSIGHT)
    guardrails: GuardrailPolicy = Field(default_factory=GuardrailPolicy)

    @property
    def request_authorisation_roles(self) -> tuple[Role, ...]:
        """Who may put a consulted case before an authorising officer: the requesters, and the
        community lead who ran the consultation."""
        return (*self.requester_roles, Role.COMMUNITY_LEAD)

    @field_validator("guardrails", mode="before")
    @classmethod
    def _guardrail_rank(cls, v: Any) -> Any:
        if isinstance(v, dict) and isinstance(v.get("override_rank"), str):
            v = {**v, "override_rank": Rank.parse(v["override_rank"])}
        return v


def parse_policy(data: Any, source: str = "policy") -> Policy:
    if not isinstance(data, dict):
        raise PolicyFileError(f"{source}: expected a mapping at the top level")
    if "version" not in data:
        raise PolicyFileError(f"{source}: missing required field 'version'")
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"field '{'.'.join(str(p) for p in err['loc'])}': {err['msg']}" for err in exc.errors()
        )
        raise PolicyFileError(f"{source}: {problems}") from None
    except ValueError as exc:
        raise PolicyFileError(f"{source}: {exc}") from None


def load_policy(path: str | Path | None = None) -> Policy:
    """The policy from ``path``, or the packaged default (section 60 / 2014 scheme values)."""
    if path is None:
        return default_policy()
    path = Path(path)
    if not path.is_file():
        raise PolicyFileError(f"policy file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise PolicyFileError(f"policy file {path}: not valid YAML ({exc})") from None
    return parse_policy(data, source=f"policy file {path}")


@lru_cache(maxsize=1)
def default_policy() -> Policy:
    text = resources.files("vigil.cases").joinpath("default_policy.yaml").read_text()
    return parse_policy(yaml.safe_load(text), source="default_policy.yaml")
