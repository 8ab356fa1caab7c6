"""The "exception, not the norm" guardrails as policy values (the ``guardrails:`` section of the
policy YAML). The checks that apply them live in ``vigil.impact.guardrails``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class GuardrailPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: cap on deployed hours in one area (and its neighbours) over a rolling window
    max_area_hours: float = Field(default=39.0, gt=0)
    area_window_days: int = Field(default=28, gt=0)
    #: areas within this distance (metres) of the case area count as "the same area"
    neighbour_distance_m: float = Field(default=500.0, ge=0)
    #: cap on deployments active at once across the force
    max_concurrent: int = Field(default=2, gt=0)
    #: no new deployment in the same area until this long after the last one ended
    cooling_off_days: int = Field(default=14, ge=0)
    #: evidence threshold: the area's forecast must be in the city's top share ...
    min_city_percentile: float = Field(default=99.0, ge=0, le=100)
    #: ... and this many times its own usual (long-run) level, not merely always high
    min_ratio_to_own_history: float = Field(default=1.5, ge=0)
    #: a case with no frozen forecast breaches the evidence rule (exceptionality cannot be
    #: shown); false leaves it to the case policy's ``evidence_required_for`` alone
    forecast_required: bool = True
