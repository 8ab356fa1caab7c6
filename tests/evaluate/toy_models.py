"""Test-only forecasters: small, honest, and importable by worker processes.

They follow the Forecaster contract so the backtest machinery can be tested without the real
models (vigil.forecast), and one of them refuses to run if it is ever shown the future.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import pandas as pd

from vigil.errors import ModelInputError
from vigil.forecast.base import Forecaster
from vigil.forecast.surface import RiskSurface
from vigil.geo.grid import Grid


class RecentCounts(Forecaster):
    """Counts per cell in the last ``days`` before ``until``, as a daily rate x window length.

    Raises if given any incident at or after ``until``: the backtest must never leak.
    """

    name = "recent"

    def __init__(self, days: float = 28.0) -> None:
        self.days = days

    def fit(self, incidents: pd.DataFrame, until: Any, grid: Grid) -> Self:
        until = pd.Timestamp(until)
        times = pd.to_datetime(incidents["time"])
        if (times >= until).any():
            raise AssertionError(f"{self.name} was shown incidents at or after {until}")
        recent = (times >= until - pd.Timedelta(days=self.days)).to_numpy()
        self.counts_ = grid.counts(
            incidents["x"].to_numpy()[recent], incidents["y"].to_numpy()[recent]
        )
        self.grid_, self.until_ = grid, until
        return self

    def predict(self, start: Any, end: Any) -> RiskSurface:
        start, end = pd.Timestamp(start), pd.Timestamp(end)
        days = (end - start) / pd.Timedelta(days=1)
        x, y = self.grid_.centres()
        return RiskSurface(
            area_id=self.grid_.area_ids(),
            x=x,
            y=y,
            risk=self.counts_ * days / self.days,
            crs=self.grid_.crs,
            start=start,
            end=end,
            model=self.name,
            params=self.get_params(),
            grid=self.grid_,
        )


class LongRunCounts(RecentCounts):
    """All history: a second, smoother baseline."""

    name = "longrun"

    def __init__(self, days: float = 3650.0) -> None:
        self.days = days


class Uniform(RecentCounts):
    """Same risk per square metre everywhere: hit rate = area share, the floor of any model."""

    name = "uniform"

    def fit(self, incidents: pd.DataFrame, until: Any, grid: Grid) -> Self:
        super().fit(incidents, until, grid)
        area = grid.clipped_area
        self.counts_ = (
            area
            / area.sum()
            * len(incidents)
            * self.days
            / max(
                (pd.Timestamp(until) - pd.to_datetime(incidents["time"]).min())
                / pd.Timedelta(days=1),
                1.0,
            )
        )
        return self


class ExactTimesOnly(RecentCounts):
    """Claims to need minute-precision times, like a self-exciting point process."""

    name = "exact"
    requires_precision = "minute"

    def fit(self, incidents: pd.DataFrame, until: Any, grid: Grid) -> Self:
        if (incidents["precision"].astype(str) == "month").any():
            raise ModelInputError("exact needs times to the minute")
        return super().fit(incidents, until, grid)


__all__ = ["ExactTimesOnly", "LongRunCounts", "RecentCounts", "Uniform", "np"]
