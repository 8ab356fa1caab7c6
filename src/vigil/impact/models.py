"""The shapes of the CIA's automatic indicators: what the API returns, the CLI prints and the
assessment stores (``AreaIndicators.model_dump()``). Each block says its level and method
because the sources differ (see :mod:`vigil.impact.computations`)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from vigil.impact.assessment import AreaProfile


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StopSearchGroup(_Block):
    group: str
    searches: int
    residents: float
    rate_per_1000: float | None
    ratio_to_white: float | None


class StopSearchIndicators(_Block):
    level: str  # "area" or "force-wide (Metropolitan Police)"
    months: list[str]
    source: str
    method: str
    total: int
    not_stated: int
    groups: list[StopSearchGroup]


class ViolenceTrend(_Block):
    source: str
    monthly: dict[str, int]
    recent_months: list[str]
    recent_monthly_mean: float
    earlier_monthly_mean: float
    change_ratio: float | None  # recent / earlier monthly mean
    london_change_ratio: float | None


class CityComparison(_Block):
    """Is the area exceptional, or just always high? Ranks among London's LSOAs by density."""

    method: str
    recent_per_km2: float
    recent_percentile: float
    long_run_per_km2: float
    long_run_percentile: float
    #: area's share of London now / its share over the long run (1 = its usual level)
    relative_to_own_history: float | None
    verdict: str


class DeploymentHistory(_Block):
    neighbour_distance_m: float
    as_of: datetime
    hours_28d: float
    hours_90d: float
    hours_365d: float
    cases: list[str]


class ForecastStanding(_Block):
    """Where the area stands on the forecast a case was decided on (the guardrails' numbers)."""

    model: str
    start: str
    end: str
    risk_per_km2: float
    city_percentile: float
    long_run_per_km2: float | None
    ratio_to_own_history: float | None
    police_generated_share: float | None
    verdict: str


class AreaIndicators(_Block):
    area_kind: str
    area_code: str | None
    area_name: str | None
    area_km2: float
    lsoas: dict[str, float] = Field(description="LSOA-2011 code -> share of its residents counted")
    profile: AreaProfile
    stop_search_area: StopSearchIndicators
    stop_search_force: StopSearchIndicators
    violence_trend: ViolenceTrend
    city: CityComparison
    deployments: DeploymentHistory | None = None
    forecast: ForecastStanding | None = None
    notes: list[str] = Field(default_factory=list)
