"""A simulated season of deployments over real incidents, with a known effect injected.

The evaluation can only be trusted if it finds an effect that is there and none that is not.
This module plans a season of deployments from a real forecast (top-risk areas, spread apart,
one a month), removes a known fraction of the serious-violence incidents inside the deployed
areas during and after each window (deterministically, from a seed), and leaves everything else
untouched. The true rate ratio is then ``1 - fraction`` by construction, and a fraction of zero
is the placebo. :mod:`vigil.outcomes.season` runs the same season through the case workflow.

Month-only data (police.uk) cannot place a removed incident inside the deployment *hours*; the
injection works on the same periods the evaluation can see (the deployment month and the months
after), which is exactly the claim the month-level evaluation can test.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from vigil.data.taxonomy import SERIOUS_VIOLENCE
from vigil.forecast.surface import RiskSurface
from vigil.outcomes.did import OutcomeInputError
from vigil.outcomes.evaluation import DEFAULT_AFTER_PERIODS, DeploymentWindow, assign_areas


@dataclass(frozen=True)
class PlannedDeployment:
    """Where and when the simulated season deploys (one forecast area each)."""

    label: str
    area_id: str
    x: float
    y: float
    start: pd.Timestamp
    end: pd.Timestamp


def plan_season(
    surface: RiskSurface,
    months: Sequence[str],
    *,
    min_separation_m: float = 2500.0,
    skip_top: int = 0,
    start_day: int = 10,
    start_hour: int = 18,
    hours: int = 8,
) -> list[PlannedDeployment]:
    """One deployment per month in the highest-risk areas, at least ``min_separation_m`` apart.

    Separation keeps one deployment's buffer from being another's control. Windows are evening
    patrols of ``hours`` hours starting on ``start_day`` of each month (naive local time).
    """
    if not months:
        raise OutcomeInputError("a season needs at least one month")
    ids = np.asarray(surface.area_id).astype(str)
    x = np.asarray(surface.x, float)
    y = np.asarray(surface.y, float)
    chosen: list[int] = []
    for i in surface.ranking()[skip_top:]:
        if all(np.hypot(x[i] - x[j], y[i] - y[j]) > min_separation_m for j in chosen):
            chosen.append(int(i))
        if len(chosen) == len(months):
            break
    if len(chosen) < len(months):
        raise OutcomeInputError(
            f"only {len(chosen)} areas are {min_separation_m:.0f} m apart; "
            f"the season asks for {len(months)}"
        )
    plan = []
    for k, (month, i) in enumerate(zip(months, chosen, strict=True)):
        start = pd.Timestamp(f"{month}-{start_day:02d} {start_hour:02d}:00")
        plan.append(
            PlannedDeployment(
                f"season-{k + 1:02d}",
                str(ids[i]),
                float(x[i]),
                float(y[i]),
                start,
                start + pd.Timedelta(hours=hours),
            )
        )
    return plan


@dataclass(frozen=True)
class Injection:
    incidents: pd.DataFrame
    removed: int
    eligible: int
    fraction: float

    @property
    def realised_fraction(self) -> float:
        return self.removed / self.eligible if self.eligible else 0.0


def inject_effect(
    incidents: pd.DataFrame,
    surface: RiskSurface,
    deployments: Sequence[DeploymentWindow],
    fraction: float,
    *,
    seed: int = 0,
    after_periods: int = DEFAULT_AFTER_PERIODS,
    categories: frozenset[str] = SERIOUS_VIOLENCE,
    resolution: str = "M",
    displace_m: float | None = None,
) -> Injection:
    """Remove ``fraction`` of ``categories`` incidents in each deployed area during and after
    its window (the window's periods plus ``after_periods``); the same seed removes the same
    incidents. ``fraction=0`` returns the incidents unchanged (the placebo).

    With ``displace_m`` the incidents are not removed but moved that many metres east, into the
    surrounding buffer: displacement, for testing the weighted displacement quotient."""
    if not 0.0 <= fraction < 1.0:
        raise OutcomeInputError(f"injected fraction must be in [0, 1), got {fraction}")
    rng = np.random.default_rng(seed)
    u = rng.random(len(incidents))
    ids = np.asarray(surface.area_id).astype(str)
    aidx = assign_areas(incidents["x"].to_numpy(), incidents["y"].to_numpy(), surface)
    area = np.where(aidx >= 0, ids[np.maximum(aidx, 0)], "")
    period = pd.PeriodIndex(incidents["time"], freq=resolution)
    target = incidents["category"].isin(categories).to_numpy()
    eligible = np.zeros(len(incidents), dtype=bool)
    for d in deployments:
        p0 = pd.Period(pd.Timestamp(d.start), freq=resolution)
        p1 = pd.Period(pd.Timestamp(d.end) - pd.Timedelta(seconds=1), freq=resolution)
        span = pd.period_range(p0, p1 + after_periods, freq=resolution)
        eligible |= np.isin(area, list(d.area_ids)) & np.asarray(period.isin(span))
    eligible &= target
    drop = eligible & (u < fraction)
    if displace_m is not None:
        moved = incidents.copy()
        moved.loc[drop, "x"] = moved.loc[drop, "x"] + displace_m
        return Injection(moved, int(drop.sum()), int(eligible.sum()), fraction)
    return Injection(
        incidents.loc[~drop].reset_index(drop=True), int(drop.sum()), int(eligible.sum()), fraction
    )
