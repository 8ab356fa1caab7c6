"""Naive baseline: last period's counts, per area.

The model every analyst already uses ("where did it happen lately?") and the floor any cleverer
model must clear: the count of incidents in each cell over a past window, turned into a daily
rate and multiplied by the length of the forecast window.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import pandas as pd

from vigil.forecast._common import (
    Past,
    age_bands,
    cell_sums,
    check_window,
    grid_surface,
    parse_window,
    prepare_past,
    to_days,
)
from vigil.forecast.base import Forecaster
from vigil.forecast.surface import RiskSurface
from vigil.geo.grid import Grid


class NaiveCounts(Forecaster):
    """Counts in a past window per cell, as an expected count for the forecast window.

    Parameters
    ----------
    window:
        How far back to count: ``"3M"`` (whole months: right for month-only police.uk data),
        ``"28D"``, ``"12W"``, a number of days, or None for all the history given.
    """

    name = "naive"

    def __init__(self, window: str | int | float | None = None) -> None:
        self.window = window

    def fit(self, incidents: pd.DataFrame, until: Any, grid: Grid) -> Self:
        past = prepare_past(incidents, until, grid, self.name)
        offset = parse_window(self.window, "naive window")
        until_ts = pd.Timestamp(past.data_version["until"])
        lo = past.start if offset is None else max(past.start, to_days(until_ts - offset))
        inside = past.t >= lo
        self.past_: Past = past
        self.grid_ = grid
        self.rate_days_ = max(past.until - lo, 1.0)
        bands = age_bands(past)
        self.parts_ = {
            k: cell_sums(grid, (m & inside).astype(float), past.cell) for k, m in bands.items()
        }
        return self

    def predict(self, start: Any, end: Any) -> RiskSurface:
        past = getattr(self, "past_", None)
        s, e, days = check_window(self.name, None if past is None else past.until, start, end)
        scale = days / self.rate_days_
        parts = {k: v * scale for k, v in self.parts_.items()}
        risk = np.sum(list(parts.values()), axis=0)
        return grid_surface(
            self.grid_, risk, s, e, self.name, self.get_params(), parts, self.past_.data_version
        )
