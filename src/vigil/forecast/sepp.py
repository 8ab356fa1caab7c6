"""Grid self-exciting point process (Mohler et al. 2015).

Mohler, G. O., Short, M. B., Malinowski, S., Johnson, M., Tita, G. E., Bertozzi, A. L. &
Brantingham, P. J. (2015) "Randomized controlled field trials of predictive policing", Journal of
the American Statistical Association 110(512), 1399-1411.

Each cell ``c`` has a constant background rate ``mu_c`` and every incident in it raises the rate
of the same cell by ``theta * omega * exp(-omega * dt)`` for a while: the short window of raised
risk after a serious assault (retaliation, repeat and near-repeat victimisation). Parameters are
fitted by expectation-maximisation (Mohler et al., appendix): the E-step weighs each incident as
background or triggered, the M-step re-estimates ``mu``, ``theta`` and ``omega``. With an
exponential kernel the E-step is one compiled pass over the incidents sorted by cell and time.

The model needs real timestamps: triggering lasts days, so month-only data would be invented
precision and is refused.
"""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np
import pandas as pd

from vigil.data.schema import Precision
from vigil.errors import ModelInputError
from vigil.forecast._common import (
    Past,
    as_timestamp,
    check_window,
    grid_surface,
    history_start,
    prepare_past,
    smooth_on_grid,
    to_days,
)
from vigil.forecast._sepp_kernels import em_pass
from vigil.forecast.base import Constraint, Forecaster, Interval, TimeLike, WindowSpec
from vigil.forecast.surface import RiskSurface
from vigil.geo.grid import Grid

#: Branching ratios at or above this make the process explosive; the fit is held below it.
MAX_THETA = 0.95


class GridSEPP(Forecaster):
    """Per-cell background plus exponential self-excitation, fitted by EM.

    Parameters
    ----------
    window:
        History used for fitting (``"365D"``, ``"2Y"``...), None for all.
    max_iter, tol:
        EM stops after ``max_iter`` passes or when the log-likelihood per event moves less
        than ``tol``.
    theta0, omega0:
        Starting branching ratio and decay rate (per day; ``1/omega`` is the mean delay).
    background_bandwidth:
        Optional quartic smoothing (metres) of the background: cells with few past incidents
        borrow strength from neighbours instead of getting a rate of exactly zero. None keeps
        Mohler et al.'s pure per-cell background.
    min_delay_days:
        Lower bound on the mean triggering delay ``1/omega``. Records of one event with several
        victims share a place and minute; unbounded, EM explains them as triggering with a
        delay of minutes, which says nothing about the days after. Forecast windows are a day
        or more, so the bound is a day by default.
    """

    name = "sepp"
    requires_precision = Precision.DAY.value
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "window": [WindowSpec(), None],
        "max_iter": [Interval(1, None, integer=True)],
        "tol": [Interval(0, None)],
        "theta0": [Interval(0, MAX_THETA, "right")],
        "omega0": [Interval(0, None, "neither")],
        "background_bandwidth": [Interval(0, None, "neither"), None],
        "min_delay_days": [Interval(0, None, "neither")],
    }

    def __init__(
        self,
        window: str | int | float | None = None,
        max_iter: int = 100,
        tol: float = 1e-6,
        theta0: float = 0.2,
        omega0: float = 0.5,
        background_bandwidth: float | None = None,
        min_delay_days: float = 1.0,
    ) -> None:
        self.window = window
        self.max_iter = max_iter
        self.tol = tol
        self.theta0 = theta0
        self.omega0 = omega0
        self.background_bandwidth = background_bandwidth
        self.min_delay_days = min_delay_days

    # ------------------------------------------------------------------ fit
    def fit(self, incidents: pd.DataFrame, until: TimeLike, grid: Grid) -> Self:
        self._validate_params()
        past = prepare_past(incidents, until, grid, self.name, requires=self.requires_precision)
        lo = history_start(past, self.window, "sepp window")
        keep = (past.cell >= 0) & (past.t >= lo)
        if keep.sum() < 10:
            until_ts = pd.Timestamp(past.data_version["until"])
            raise ModelInputError(
                f"sepp: only {int(keep.sum())} incidents fall in the grid before {until_ts}; "
                "at least 10 are needed to separate background from triggering"
            )
        cell, t = past.cell[keep], past.t[keep] - lo
        order = np.lexsort((t, cell))
        cell, t = cell[order].astype(np.int64), t[order]
        span = max(past.until - lo, 1.0)
        n_cells = grid.n_cells
        counts = np.bincount(cell, minlength=n_cells).astype(float)
        mu = counts * 0.5 / span
        theta, omega = float(self.theta0), float(self.omega0)
        prev = -np.inf
        ll = prev
        self.n_iter_ = 0
        for it in range(int(self.max_iter)):
            bg, trig, lag, events_ll = em_pass(cell, t, mu, theta, omega)
            mu = bg / span
            exposure = np.sum(1.0 - np.exp(-omega * (span - t)))
            theta = min(trig / max(exposure, 1e-12), MAX_THETA)
            omega = trig / lag if lag > 0 else omega
            omega = min(omega, 1.0 / max(float(self.min_delay_days), 1e-6))
            ll = (events_ll - mu.sum() * span - theta * exposure) / t.size
            self.n_iter_ = it + 1
            if abs(ll - prev) < self.tol:
                break
            prev = ll
        if self.background_bandwidth:
            # move each cell's background probability mass over its neighbourhood
            x, y = grid.centres()
            mu = smooth_on_grid(grid, x, y, bg, float(self.background_bandwidth)) / span
        self.past_: Past = past
        self.grid_ = grid
        self.mu_ = mu
        self.theta_ = float(theta)
        self.omega_ = float(omega)
        self.loglik_ = float(ll)
        self.cell_ = cell
        self.t_abs_ = t + lo
        return self

    # ------------------------------------------------------------------ predict
    def _excitation(self, s: float, e: float) -> np.ndarray:
        """Expected triggered count in each cell over [s, e) from the incidents fitted on."""
        ds, de = s - self.t_abs_, e - self.t_abs_
        mass = self.theta_ * (np.exp(-self.omega_ * ds) - np.exp(-self.omega_ * de))
        return np.bincount(self.cell_, weights=mass, minlength=self.grid_.n_cells)

    def predict(self, start: TimeLike, end: TimeLike) -> RiskSurface:
        past = getattr(self, "past_", None)
        s, e, days = check_window(self.name, None if past is None else past.until, start, end)
        # offspring of offspring inside the window: the branching factor 1 / (1 - theta)
        cascade = 1.0 / (1.0 - self.theta_)
        long_run = self.mu_ * days * cascade
        near = self._excitation(to_days(s), to_days(e)) * cascade
        params = self.get_params() | {
            "fitted_theta": self.theta_,
            "fitted_omega_per_day": self.omega_,
            "mean_trigger_delay_days": 1.0 / self.omega_,
            "em_iterations": self.n_iter_,
        }
        parts = {"long_run": long_run, "near_repeat": near}
        return grid_surface(
            self.grid_, long_run + near, s, e, self.name, params, parts, self.past_.data_version
        )

    # ------------------------------------------------------------------ reactive case
    def excitation_after(
        self, x: float, y: float, at: TimeLike, days: float = 28.0, step_days: float = 1.0
    ) -> pd.DataFrame:
        """Raised risk in the cell of (x, y) after a serious incident there at ``at``.

        One row per ``step_days`` up to ``days``: the extra expected incidents the event
        triggers in that step, the cell's background expectation in the same step, and their
        ratio. This is the model's answer to "how long is the window of raised risk after a
        serious assault here?" (see ``raised_risk_days``).
        """
        mu = self._cell_background(x, y)
        as_timestamp(at, "sepp: time of the incident")
        edges = np.arange(0.0, days + step_days / 2, step_days)
        lo, hi = edges[:-1], edges[1:]
        extra = self.theta_ * (np.exp(-self.omega_ * lo) - np.exp(-self.omega_ * hi))
        base = mu * (hi - lo)
        ratio = np.divide(extra, base, out=np.full(extra.shape, np.inf), where=base > 0)
        return pd.DataFrame(
            {"from_day": lo, "to_day": hi, "extra": extra, "background": base, "ratio": ratio}
        )

    def raised_risk_days(self, x: float, y: float, ratio: float = 0.1) -> float:
        """Days until the excitation of one incident at (x, y) falls below ``ratio`` x background.

        Solves ``theta * omega * exp(-omega * d) = ratio * mu_c``; 0 when it never exceeds it.
        """
        mu = self._cell_background(x, y)
        if mu <= 0:
            return float("inf")
        d = np.log(self.theta_ * self.omega_ / (ratio * mu)) / self.omega_
        return float(max(d, 0.0))

    def _cell_background(self, x: float, y: float) -> float:
        if getattr(self, "past_", None) is None:
            raise ModelInputError("sepp: call fit() before asking for excitation")
        idx = int(self.grid_.locate(np.array([x], float), np.array([y], float))[0])
        if idx < 0:
            raise ModelInputError(f"sepp: point ({x:.0f}, {y:.0f}) is outside the grid's areas")
        return float(self.mu_[idx])
