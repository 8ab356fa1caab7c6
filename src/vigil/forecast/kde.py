"""Retrospective hotspot map: quartic kernel density, optionally with exponential time decay.

The standard hotspot map of crime analysis (Chainey, Tompson & Uhlig 2008, "The utility of
hotspot mapping for predicting spatial patterns of crime"): each past incident spreads a quartic
(biweight) kernel of radius ``bandwidth`` over the map, and the smoothed surface, read per cell,
is the forecast. With ``decay_days`` set, older incidents count less, ``exp(-age / decay_days)``,
which makes the map follow recent change while keeping the long-run picture.

``bandwidth="cv"`` chooses the radius from the data instead (likelihood cross-validation): each
candidate's surface, built from the incidents known four weeks before ``until``, scores the
incidents of those last four weeks, and the radius with the highest held-out log-likelihood is
used. A fixed 300 m is far too smooth for 150 m cells in Chicago (issue 13).
"""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np
import pandas as pd

from vigil.forecast._common import (
    Past,
    RateParts,
    history_start,
    prepare_past,
    smooth_on_grid,
    smoothed_bands,
)
from vigil.forecast.base import Constraint, Interval, Options, TimeLike, WindowSpec
from vigil.forecast.surface import RiskSurface
from vigil.geo.grid import Grid

#: radii tried by ``bandwidth="cv"``, in cells of the grid
CV_BANDWIDTH_CELLS: tuple[float, ...] = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0)
#: the held-out period at the end of the history that scores them
CV_HOLDOUT_DAYS = 28.0
#: share of a uniform field mixed into each candidate (a cell the kernel misses is not
#: impossible, only unlikely)
CV_FLOOR = 0.01


class KernelDensity(RateParts):
    """Quartic-kernel hotspot surface scaled to an expected count.

    Parameters
    ----------
    bandwidth:
        Kernel radius in metres (quartic kernel: zero beyond it), or ``"cv"`` to choose it by
        held-out likelihood among :data:`CV_BANDWIDTH_CELLS` cells (``bandwidth_`` after fit).
    decay_days:
        e-folding time of the exponential time decay in days; None weighs all history equally.
    window:
        Oldest history used (``"12M"``, ``"365D"``, days) or None for all of it.

    Each incident's kernel has mass one, so the surface is a rate: the (decay-weighted) number of
    incidents per day falling in each cell, times the forecast window's length.
    """

    name = "kde"
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "bandwidth": [Interval(0, None, "neither"), Options(("cv",))],
        "decay_days": [Interval(0, None, "neither"), None],
        "window": [WindowSpec(), None],
    }

    def __init__(
        self,
        bandwidth: float | str = 300.0,
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
        self.bandwidth_ = (
            self._cv_bandwidth(past, inside, w, grid)
            if self.bandwidth == "cv"
            else float(self.bandwidth)
        )
        self.parts_ = smoothed_bands(past, inside, grid, w, self.bandwidth_)
        return self

    def _cv_bandwidth(self, past: Past, inside: np.ndarray, w: np.ndarray, grid: Grid) -> float:
        """The candidate radius (metres) whose surface from the incidents known
        :data:`CV_HOLDOUT_DAYS` before ``until`` best predicts the incidents since (held-out
        Poisson log-likelihood of where they fell; the middle candidate without enough data)."""
        cut = past.until - CV_HOLDOUT_DAYS
        held = (past.t >= cut) & (past.cell >= 0)
        train = inside & (past.end <= cut + 1e-9)
        candidates = [c * grid.cell for c in CV_BANDWIDTH_CELLS]
        if held.sum() < 10 or train.sum() < 10:
            return candidates[len(candidates) // 2]
        cells, n = np.unique(past.cell[held], return_counts=True)
        uniform = grid.coverage / grid.coverage.sum()
        scores = []
        for h in candidates:
            f = smooth_on_grid(grid, past.x[train], past.y[train], w[train], h)
            share = (1.0 - CV_FLOOR) * f / max(f.sum(), 1e-300) + CV_FLOOR * uniform
            scores.append(float(np.sum(n * np.log(share[cells]))))
        self.cv_scores_ = dict(zip(candidates, scores, strict=True))
        return candidates[int(np.argmax(scores))]

    def predict(self, start: TimeLike, end: TimeLike) -> RiskSurface:
        surface = super().predict(start, end)
        surface.params["bandwidth_m"] = getattr(self, "bandwidth_", self.bandwidth)
        return surface
