"""Retrospective hotspot map: quartic kernel density, optionally with exponential time decay.

The standard hotspot map of crime analysis (Chainey, Tompson & Uhlig 2008, "The utility of
hotspot mapping for predicting spatial patterns of crime"): each past incident spreads a quartic
(biweight) kernel of radius ``bandwidth`` over the map, and the smoothed surface, read per cell,
is the forecast. With ``decay_days`` set, older incidents count less, ``exp(-age / decay_days)``,
which makes the map follow recent change while keeping the long-run picture.
"""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np
import pandas as pd

from vigil.forecast._common import (
    RateParts,
    history_start,
    prepare_past,
    smoothed_bands,
)
from vigil.forecast.base import Constraint, Interval, TimeLike, WindowSpec
from vigil.geo.grid import Grid


class KernelDensity(RateParts):
    """Quartic-kernel hotspot surface scaled to an expected count.

    Parameters
    ----------
    bandwidth:
        Kernel radius in metres (quartic kernel: zero beyond it).
    decay_days:
        e-folding time of the exponential time decay in days; None weighs all history equally.
    window:
        Oldest history used (``"12M"``, ``"365D"``, days) or None for all of it.

    Each incident's kernel has mass one, so the surface is a rate: the (decay-weighted) number of
    incidents per day falling in each cell, times the forecast window's length.
    """

    name = "kde"
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "bandwidth": [Interval(0, None, "neither")],
        "decay_days": [Interval(0, None, "neither"), None],
        "window": [WindowSpec(), None],
    }

    def __init__(
        self,
        bandwidth: float = 300.0,
        decay_days: float | None = None,
        window: str | int | float | None = None,
    ) -> None:
        self.bandwidth = bandwidth
        self.decay_days = decay_days
        self.window = window

    def fit(self, incidents: pd.DataFrame, until: TimeLike, grid: Grid) -> Self:
        self._validate_params()
        past = prepare_past(incidents, until, grid, self.name)
        lo = history_start(past, self.window, "kde window")
        inside = past.t >= lo
        span = max(past.until - lo, 1.0)
        age = past.until - past.t
        if self.decay_days is None:
            w = np.ones(past.n)
            self.rate_days_ = span
        else:
            w = np.exp(-age / self.decay_days)
            # integral of the decay weight over the history: the "effective days" observed
            self.rate_days_ = self.decay_days * (1.0 - np.exp(-span / self.decay_days))
        self.past_ = past
        self.grid_ = grid
        self.parts_ = smoothed_bands(past, inside, grid, w, self.bandwidth)
        return self
