"""Naive baseline: last period's counts, per area.

The model every analyst already uses ("where did it happen lately?") and the floor any cleverer
model must clear: the count of incidents in each cell over a past window, turned into a daily
rate and multiplied by the length of the forecast window.
"""

from __future__ import annotations

from typing import ClassVar, Self

import pandas as pd

from vigil.forecast._common import (
    RateParts,
    age_bands,
    cell_sums,
    history_start,
    prepare_past,
)
from vigil.forecast.base import Constraint, TimeLike, WindowSpec
from vigil.geo.grid import Grid


class NaiveCounts(RateParts):
    """Counts in a past window per cell, as an expected count for the forecast window.

    Parameters
    ----------
    window:
        How far back to count: ``"3M"`` (whole months: right for month-only police.uk data),
        ``"28D"``, ``"12W"``, a number of days, or None for all the history given.
    """

    name = "naive"
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {"window": [WindowSpec(), None]}

    def __init__(self, window: str | int | float | None = None) -> None:
        self.window = window

    def fit(self, incidents: pd.DataFrame, until: TimeLike, grid: Grid) -> Self:
        self._validate_params()
        past = prepare_past(incidents, until, grid, self.name)
        lo = history_start(past, self.window, "naive window")
        inside = past.t >= lo
        self.past_ = past
        self.grid_ = grid
        self.rate_days_ = max(past.until - lo, 1.0)
        bands = age_bands(past)
        self.parts_ = {
            k: cell_sums(grid, (m & inside).astype(float), past.cell) for k, m in bands.items()
        }
        return self
