"""Prospective hotspot map (Bowers, Johnson & Pease 2004).

Bowers, K. J., Johnson, S. D. & Pease, K. (2004) "Prospective hot-spotting: the future of crime
mapping?", British Journal of Criminology 44(5), 641-658. Risk spreads from each recent incident
to nearby cells and decays with time, because victimisation is followed by raised risk nearby for
a few weeks (the near-repeat pattern). Each incident within ``bandwidth`` metres and the last
``window_days`` days adds ``1 / (1 + d) * 1 / (1 + w)`` to a cell, where ``d`` is the distance in
cells between the incident's cell and the cell and ``w`` its age in weeks (both as in the paper).
The score is then scaled to an expected count: the rate of incidents over the same window.
"""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np
import pandas as pd

from vigil.forecast._common import (
    Past,
    check_window,
    grid_surface,
    prepare_past,
    smoothed_bands,
)
from vigil.forecast.base import Constraint, Forecaster, Interval, TimeLike
from vigil.forecast.surface import RiskSurface
from vigil.geo.grid import Grid


class ProspectiveHotspot(Forecaster):
    """Bowers-Johnson-Pease prospective hotspot surface.

    Parameters
    ----------
    bandwidth:
        Spatial reach in metres (the paper: 400 m).
    window_days:
        Temporal reach in days (the paper: two months, here 56 days). With month-only data,
        use at least 60 so that the last whole month is inside it.
    week_days:
        The time unit of the ``1/(1+w)`` weight in days (7: weeks, as in the paper).
    """

    name = "prospective"
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "bandwidth": [Interval(0, None, "neither")],
        "window_days": [Interval(0, None, "neither")],
        "week_days": [Interval(0, None, "neither")],
    }

    def __init__(
        self, bandwidth: float = 400.0, window_days: float = 56.0, week_days: float = 7.0
    ) -> None:
        self.bandwidth = bandwidth
        self.window_days = window_days
        self.week_days = week_days

    def fit(self, incidents: pd.DataFrame, until: TimeLike, grid: Grid) -> Self:
        self._validate_params()
        past = prepare_past(incidents, until, grid, self.name)
        age = past.until - past.t
        inside = age <= self.window_days
        w = 1.0 / (1.0 + np.floor(age / self.week_days))
        self.past_: Past = past
        self.grid_ = grid
        self.rate_days_ = min(self.window_days, past.span_days)
        self.n_window_ = int((inside & (past.cell >= 0)).sum())
        self.parts_ = smoothed_bands(past, inside, grid, w, self.bandwidth, "inverse_distance")
        return self

    def predict(self, start: TimeLike, end: TimeLike) -> RiskSurface:
        past = getattr(self, "past_", None)
        s, e, days = check_window(self.name, None if past is None else past.until, start, end)
        score = np.sum(list(self.parts_.values()), axis=0)
        total = score.sum()
        expected = self.n_window_ / self.rate_days_ * days
        scale = expected / total if total > 0 else 0.0
        parts = {k: v * scale for k, v in self.parts_.items()}
        return grid_surface(
            self.grid_,
            score * scale,
            s,
            e,
            self.name,
            self.get_params(),
            parts,
            self.past_.data_version,
        )
