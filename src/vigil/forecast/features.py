"""Space-time features per grid cell at a forecast origin, from the past only.

One row per active cell, one column per feature, all computed from incidents whose known period
ended by the origin. They describe the three sources of risk the drivers report:

* long run: rates over the last half year to two years at the cell, in rings around it, and
  kernel densities at several bandwidths (places that have always been violent);
* recent: rates over the last one to three horizons and an exponentially decayed density
  (places heating up or cooling down);
* near repeat (exact times only): exponentially decayed counts over the last days at the cell
  and around it, the grid SEPP's triggering term with fixed decays.

Every feature is a rate per day over the history actually available (London 2022 has at most
eleven months behind an origin), with ``history_days`` telling the model how much that was.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import uniform_filter

from vigil.forecast._common import Past, cell_sums, smooth_on_grid
from vigil.geo.grid import Grid

#: Count windows in days for month-only data and for exactly timed data.
MONTH_WINDOWS = (31.0, 92.0, 183.0, 366.0)
EXACT_WINDOWS = (7.0, 28.0, 91.0, 182.0, 365.0, 730.0)
#: Decay times (days) of the near-repeat features (exact times only).
NEAR_DECAYS = (1.0, 3.0, 7.0)
#: Bandwidths of the long-run kernel densities, in cells.
KDE_CELLS = (1.0, 2.0, 4.0, 8.0)

#: Which driver each feature belongs to (by name prefix).
GROUP_OF_PREFIX = {
    "rate_": "recent",  # re-assigned to long_run below for windows >= 180 days
    "ring": "long_run",
    "kde_": "long_run",
    "decay_kde": "recent",
    "near_": "near_repeat",
    "coverage": "long_run",
    "top_point_rate": "long_run",
    "n_points": "long_run",
    "history_days": "long_run",
}
LONG_WINDOW_DAYS = 180.0


@dataclass(frozen=True)
class FeatureSet:
    names: tuple[str, ...]
    groups: tuple[str, ...]


def feature_set(exact: bool) -> FeatureSet:
    windows = EXACT_WINDOWS if exact else MONTH_WINDOWS
    names: list[str] = [f"rate_{int(w)}d" for w in windows] + ["rate_all"]
    long_w = [w for w in windows if w >= LONG_WINDOW_DAYS]
    for w in long_w:
        names += [f"ring1_{int(w)}d", f"ring2_{int(w)}d"]
    names += ["ring1_all", "ring2_all"]
    names += [f"kde_{k:g}c" for k in KDE_CELLS]
    names += ["decay_kde_60d"]
    if exact:
        names += [f"near_{d:g}d" for d in NEAR_DECAYS] + ["near_kde_7d"]
    names += ["top_point_rate", "n_points", "coverage", "history_days"]
    groups = []
    for n in names:
        if n == "rate_all":
            groups.append("long_run")
        elif n.startswith("rate_"):
            days = float(n[5:-1])
            groups.append("long_run" if days >= LONG_WINDOW_DAYS else "recent")
        else:
            groups.append(next(g for p, g in GROUP_OF_PREFIX.items() if n.startswith(p)))
    return FeatureSet(tuple(names), tuple(groups))


def _ring_sums(grid: Grid, per_cell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sums over the 8 neighbours and over the next ring of 16, by box filters on the full box."""
    full = np.zeros(grid.nx * grid.ny)
    full[grid.active] = per_cell
    box = full.reshape(grid.ny, grid.nx)
    s3 = uniform_filter(box, size=3, mode="constant") * 9
    s5 = uniform_filter(box, size=5, mode="constant") * 25
    r1 = (s3 - box).ravel()[grid.active]
    r2 = (s5 - s3).ravel()[grid.active]
    return np.clip(r1, 0, None), np.clip(r2, 0, None)


def _point_concentration(
    grid: Grid, x: np.ndarray, y: np.ndarray, cell: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per cell: incidents at its busiest single location, and its number of distinct locations.

    Police data place incidents at a finite set of points (police.uk snap points, Chicago block
    addresses). Risk that sits on one address (a station, a club, one estate block) is more
    persistent than the same count spread over a cell, so the split is worth a feature.
    """
    ok = cell >= 0
    if not ok.any():
        return np.zeros(grid.n_cells), np.zeros(grid.n_cells)
    key = np.column_stack(
        [cell[ok], np.round(x[ok]).astype(np.int64), np.round(y[ok]).astype(np.int64)]
    )
    uniq, counts = np.unique(key, axis=0, return_counts=True)
    top = np.zeros(grid.n_cells)
    np.maximum.at(top, uniq[:, 0], counts.astype(float))
    n_points = np.bincount(uniq[:, 0], minlength=grid.n_cells).astype(float)
    return top, n_points


def space_time_features(past: Past, origin: float, grid: Grid, exact: bool) -> np.ndarray:
    """Feature matrix (n_cells x len(feature_set(exact).names)) at ``origin`` (days)."""
    known = past.end <= origin + 1e-9
    x, y, t, cell = past.x[known], past.y[known], past.t[known], past.cell[known]
    age = origin - t
    history = max(origin - past.start, 1.0)
    cols: list[np.ndarray] = []
    windows = EXACT_WINDOWS if exact else MONTH_WINDOWS
    for w in windows:
        m = age <= w
        cols.append(cell_sums(grid, m.astype(float), cell) / min(w, history))
    all_rate = cell_sums(grid, np.ones(age.size), cell) / history
    cols.append(all_rate)
    for w in windows:
        if w >= LONG_WINDOW_DAYS:
            m = age <= w
            per = cell_sums(grid, m.astype(float), cell) / min(w, history)
            cols.extend(_ring_sums(grid, per))
    cols.extend(_ring_sums(grid, all_rate))
    for k in KDE_CELLS:
        cols.append(smooth_on_grid(grid, x, y, None, k * grid.cell, max_sub=2) / history)
    tau = 60.0
    w60 = np.exp(-age / tau)
    eff = tau * (1 - np.exp(-history / tau))
    cols.append(smooth_on_grid(grid, x, y, w60, 2.0 * grid.cell, max_sub=2) / eff)
    if exact:
        recent = age <= 10 * max(NEAR_DECAYS)
        for d in NEAR_DECAYS:
            cols.append(cell_sums(grid, np.where(recent, np.exp(-age / d), 0.0), cell))
        r = age <= 70.0
        cols.append(
            smooth_on_grid(grid, x[r], y[r], np.exp(-age[r] / 7.0), 2.0 * grid.cell, max_sub=2)
        )
    top_rate, n_points = _point_concentration(grid, x, y, cell)
    cols.append(top_rate / history)
    cols.append(n_points)
    cols.append(grid.coverage.astype(float))
    cols.append(np.full(grid.n_cells, history))
    return np.column_stack(cols)
