"""Shared machinery of the grid models: the honest past, binning, smoothing and the surface.

Every model here works on the same three steps: keep only the incidents whose whole time period
ends before ``until`` (a police.uk July record is not "before 15 July"), bin them on the grid,
and turn a per-cell field into a RiskSurface of expected counts. Keeping those steps in one place
keeps the models comparable: a difference in score is a difference in the model, not in how the
past was cut.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.signal import fftconvolve

from vigil.data.schema import PRECISION_ORDER, Precision, coarsest_precision
from vigil.data.taxonomy import CATEGORIES, police_generated_share
from vigil.errors import ModelInputError
from vigil.forecast.base import Forecaster, NotFittedError, TimeLike
from vigil.forecast.surface import DRIVER_COLUMNS, RiskSurface
from vigil.geo.grid import Grid

DAY_NS = 86_400 * 10**9
#: Age bands used to split a linear model's risk into drivers (days before ``until``).
NEAR_REPEAT_DAYS = 14.0
RECENT_DAYS = 91.0
#: How many of the top areas get a driver breakdown.
N_DRIVER_AREAS = 2000


def to_days(t: pd.Timestamp | pd.Series | np.ndarray) -> Any:
    """Timestamps as float days since 1970-01-01 (naive local time)."""
    if isinstance(t, pd.Timestamp):
        return t.value / DAY_NS
    values = pd.to_datetime(pd.Series(t)).to_numpy(dtype="datetime64[ns]").astype(np.int64)
    return values / DAY_NS


def as_timestamp(t: TimeLike, what: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(t)
    except (TypeError, ValueError) as exc:
        raise ModelInputError(f"{what} is not a date: {t!r}") from exc
    if ts is pd.NaT:
        raise ModelInputError(f"{what} is missing")
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts


def period_end(time: pd.Series, precision: pd.Series) -> pd.Series:
    """End of the period each incident is known to fall in (exclusive)."""
    prec = precision.astype(str).to_numpy()
    out = time.copy()
    month = prec == Precision.MONTH.value
    day = prec == Precision.DAY.value
    minute = ~(month | day)
    if month.any():
        out[month] = time[month] + pd.offsets.MonthBegin(1)
    if day.any():
        out[day] = time[day] + pd.Timedelta(days=1)
    if minute.any():
        out[minute] = time[minute] + pd.Timedelta(minutes=1)
    return out


@dataclass(frozen=True)
class Past:
    """The incidents a model may learn from, binned on its grid.

    ``t`` is the middle of each incident's known period in days (a month-only record sits
    mid-month), ``end`` the end of that period (an incident is "before" a date only when its
    period has ended by it), ``cell`` its active-cell index (-1 outside the active cells),
    ``start`` the first day any incident covers.
    """

    x: np.ndarray
    y: np.ndarray
    t: np.ndarray
    end: np.ndarray
    cell: np.ndarray
    until: float
    start: float
    precision: Precision
    data_version: dict[str, Any]

    @property
    def n(self) -> int:
        return int(self.t.size)

    @property
    def span_days(self) -> float:
        return max(self.until - self.start, 1.0)

    def select(self, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.x[mask], self.y[mask], self.t[mask]


def prepare_past(
    incidents: pd.DataFrame,
    until: TimeLike,
    grid: Grid,
    model: str,
    requires: str = Precision.MONTH.value,
) -> Past:
    """Check and cut the incident table: only periods that end by ``until`` are kept."""
    if not isinstance(grid, Grid):
        raise ModelInputError(f"{model}: grid must be a vigil.geo.grid.Grid, got {type(grid)}")
    missing = [c for c in ("time", "precision", "x", "y", "category") if c not in incidents]
    if missing:
        raise ModelInputError(
            f"{model}: incident table lacks column(s) {missing}; give the canonical table "
            "with x/y added by vigil.geo.projection.with_xy"
        )
    until_ts = as_timestamp(until, f"{model}: until")
    times = pd.to_datetime(incidents["time"])
    if times.isna().any():
        row = int(np.flatnonzero(times.isna().to_numpy())[0])
        raise ModelInputError(f"{model}: incident row {row} has no time")
    ends = period_end(times, incidents["precision"])
    keep = (ends <= until_ts).to_numpy()
    used = incidents.loc[keep]
    precision = coarsest_precision(used)
    needed = Precision(requires)
    if not used.empty and PRECISION_ORDER[precision] < PRECISION_ORDER[needed]:
        raise ModelInputError(
            f"{model} needs incident times to the {needed.value} but the data are known only to "
            f"the {precision.value} (e.g. police.uk month-only records); use a model that works "
            "on monthly counts (naive, kde, prospective, boosted) instead"
        )
    x = used["x"].to_numpy(dtype=float)
    y = used["y"].to_numpy(dtype=float)
    bad = ~(np.isfinite(x) & np.isfinite(y))
    if bad.any():
        raise ModelInputError(
            f"{model}: {int(bad.sum())} incident(s) lack projected coordinates "
            f"(first at row {int(np.flatnonzero(bad)[0])}); drop or geocode them first"
        )
    t0 = times[keep]
    mid = t0 + (ends[keep] - t0) / 2
    t = to_days(mid) if len(mid) else np.zeros(0)
    start = float(to_days(t0.min())) if len(t0) else to_days(until_ts) - 1.0
    return Past(
        x=x,
        y=y,
        t=np.asarray(t, float),
        end=np.asarray(to_days(ends[keep]), float) if len(mid) else np.zeros(0),
        cell=grid.locate(x, y),
        until=float(to_days(until_ts)),
        start=start,
        precision=precision,
        data_version=describe_data(used, until_ts),
    )


def describe_data(used: pd.DataFrame, until: pd.Timestamp) -> dict[str, Any]:
    """Facts about what the model learnt from, frozen with every surface it predicts."""
    counts = {str(k): int(v) for k, v in used["category"].astype(str).value_counts().items()}
    known = [c for c in counts if c in CATEGORIES]
    times = pd.to_datetime(used["time"])
    return {
        "n_incidents": int(len(used)),
        "categories": counts,
        "police_generated_share": police_generated_share(known, counts) if known else 0.0,
        "precision": coarsest_precision(used).value,
        "first": None if used.empty else times.min().isoformat(),
        "last": None if used.empty else times.max().isoformat(),
        "until": until.isoformat(),
    }


# ---------------------------------------------------------------------------------- smoothing
def quartic_kernel(bandwidth: float, step: float) -> np.ndarray:
    """Quartic (biweight) kernel sampled on a square lattice of spacing ``step``, mass 1."""
    r = int(np.ceil(bandwidth / step))
    off = np.arange(-r, r + 1) * step
    d2 = off[:, None] ** 2 + off[None, :] ** 2
    k = np.where(d2 < bandwidth**2, (1.0 - d2 / bandwidth**2) ** 2, 0.0)
    total = k.sum()
    if total <= 0:  # bandwidth below the lattice step: all mass on the own cell
        k = np.zeros_like(k)
        k[r, r] = 1.0
        total = 1.0
    return k / total


def inverse_distance_kernel(bandwidth: float, step: float) -> np.ndarray:
    """Bowers et al.'s weight 1/(1 + distance in cells) within ``bandwidth``, unnormalised."""
    r = int(np.ceil(bandwidth / step))
    off = np.arange(-r, r + 1)
    d = np.sqrt(off[:, None] ** 2 + off[None, :] ** 2)
    return np.where(d * step <= bandwidth, 1.0 / (1.0 + d), 0.0)


def smooth_on_grid(
    grid: Grid,
    x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None,
    bandwidth: float,
    kernel: str = "quartic",
    max_sub: int = 6,
) -> np.ndarray:
    """Kernel-smoothed weighted counts per active cell, by FFT convolution on a fine lattice.

    Points are binned on a lattice finer than the cell (so the kernel sees them to within a few
    metres, not to the cell), convolved once, and summed back to cells: one FFT instead of a loop
    over events x cells. Points up to one bandwidth outside the grid box still contribute.
    """
    if kernel == "quartic":
        sub = int(min(max_sub, max(1, np.ceil(grid.cell / max(bandwidth / 4.0, 1e-9)))))
        step = grid.cell / sub
        kern = quartic_kernel(bandwidth, step)
    elif kernel == "inverse_distance":
        sub = 1
        step = grid.cell
        kern = inverse_distance_kernel(bandwidth, step)
    else:
        raise ModelInputError(f"unknown kernel {kernel!r}; use 'quartic' or 'inverse_distance'")
    pad = int(np.ceil(bandwidth / grid.cell))
    nx, ny = grid.nx + 2 * pad, grid.ny + 2 * pad
    x0, y0 = grid.x0 - pad * grid.cell, grid.y0 - pad * grid.cell
    cx = np.floor((np.asarray(x, float) - x0) / step).astype(np.int64)
    cy = np.floor((np.asarray(y, float) - y0) / step).astype(np.int64)
    ok = (cx >= 0) & (cx < nx * sub) & (cy >= 0) & (cy < ny * sub)
    w = None if weights is None else np.asarray(weights, float)[ok]
    lattice = np.bincount(
        cy[ok] * (nx * sub) + cx[ok], weights=w, minlength=nx * sub * ny * sub
    ).reshape(ny * sub, nx * sub)
    if lattice.any():
        field = fftconvolve(lattice, kern, mode="same")
        # FFT round-off leaves ~1e-16 crumbs where the kernel is exactly zero: drop them, so
        # "no incident within the bandwidth" means a risk of exactly zero
        field[np.abs(field) < 1e-12 * np.abs(field).max()] = 0.0
    else:
        field = np.zeros_like(lattice, dtype=float)
    cells = field.reshape(ny, sub, nx, sub).sum(axis=(1, 3))[
        pad : pad + grid.ny, pad : pad + grid.nx
    ]
    out = cells.ravel()[grid.active]
    return np.clip(out, 0.0, None)


def cell_sums(grid: Grid, values: np.ndarray, cell: np.ndarray) -> np.ndarray:
    ok = cell >= 0
    return np.bincount(cell[ok], weights=values[ok], minlength=grid.n_cells).astype(float)


def smoothed_bands(
    past: Past,
    inside: np.ndarray,
    grid: Grid,
    weights: np.ndarray,
    bandwidth: float,
    kernel: str = "quartic",
) -> dict[str, np.ndarray]:
    """``smooth_on_grid`` of the weighted incidents in ``inside``, one field per age band."""
    parts = {}
    for band, mask in age_bands(past).items():
        m = mask & inside
        parts[band] = (
            smooth_on_grid(grid, past.x[m], past.y[m], weights[m], bandwidth, kernel=kernel)
            if m.any()
            else np.zeros(grid.n_cells)
        )
    return parts


# ---------------------------------------------------------------------------------- output
def age_bands(past: Past) -> dict[str, np.ndarray]:
    """Masks splitting the past incidents into the three driver sources by age.

    Near-repeat excitation is a matter of days, so it is only claimed for data with exact dates;
    with month-only data the last weeks are part of "recent".
    """
    age = past.until - past.t
    exact = PRECISION_ORDER[past.precision] >= PRECISION_ORDER[Precision.DAY]
    near = (age <= NEAR_REPEAT_DAYS) if exact else np.zeros(age.shape, bool)
    recent = (age <= RECENT_DAYS) & ~near
    return {"near_repeat": near, "recent": recent, "long_run": ~(near | recent)}


def drivers_frame(
    area_id: np.ndarray, risk: np.ndarray, parts: dict[str, np.ndarray], k: int = N_DRIVER_AREAS
) -> pd.DataFrame:
    """Driver table for the top ``k`` areas: each part rescaled so the parts sum to the risk."""
    order = np.argsort(-risk, kind="stable")[:k]
    stack = np.vstack([np.clip(parts.get(c, np.zeros_like(risk)), 0, None) for c in DRIVER_COLUMNS])
    total = stack.sum(axis=0)
    scale = np.divide(risk, total, out=np.zeros_like(risk), where=total > 0)
    frame = pd.DataFrame({"area_id": area_id[order]})
    for i, c in enumerate(DRIVER_COLUMNS):
        frame[c] = stack[i, order] * scale[order]
    return frame


def grid_surface(
    grid: Grid,
    risk: np.ndarray,
    start: pd.Timestamp,
    end: pd.Timestamp,
    model: str,
    params: dict[str, Any],
    parts: dict[str, np.ndarray],
    data_version: dict[str, Any],
    n_drivers: int = N_DRIVER_AREAS,
) -> RiskSurface:
    area_id = grid.area_ids()
    x, y = grid.centres()
    risk = np.clip(np.asarray(risk, float), 0.0, None)
    return RiskSurface(
        area_id=area_id,
        x=x,
        y=y,
        risk=risk,
        crs=grid.crs,
        start=start,
        end=end,
        model=model,
        params=params,
        drivers=drivers_frame(area_id, risk, parts, n_drivers),
        grid=grid,
        data_version=dict(data_version),
    )


class RateParts(Forecaster):
    """A model whose ``fit`` leaves, per age band, a field of incidents per cell (``parts_``)
    observed over ``rate_days_`` days; ``predict`` turns them into a daily rate times the
    window's length."""

    past_: Past
    grid_: Grid
    rate_days_: float
    parts_: dict[str, np.ndarray]

    def predict(self, start: TimeLike, end: TimeLike) -> RiskSurface:
        past = getattr(self, "past_", None)
        s, e, days = check_window(self.name, None if past is None else past.until, start, end)
        scale = days / self.rate_days_
        parts = {k: v * scale for k, v in self.parts_.items()}
        risk = np.sum(list(parts.values()), axis=0)
        return grid_surface(
            self.grid_, risk, s, e, self.name, self.get_params(), parts, self.past_.data_version
        )


def check_window(
    model: str, until: float | None, start: TimeLike, end: TimeLike
) -> tuple[pd.Timestamp, pd.Timestamp, float]:
    """Validate a prediction window; returns (start, end, length in days)."""
    if until is None:
        raise NotFittedError(f"{model}: call fit() before predict()")
    s = as_timestamp(start, f"{model}: start")
    e = as_timestamp(end, f"{model}: end")
    if e <= s:
        raise ModelInputError(f"{model}: window end {e} is not after its start {s}")
    if to_days(s) < until - 1e-9:
        raise ModelInputError(
            f"{model}: window starts {s}, before the end of the data it was fitted on; "
            "a forecast must not overlap its training period"
        )
    return s, e, float(to_days(e) - to_days(s))


def history_start(past: Past, window: str | int | float | None, what: str) -> float:
    """First day (in days) of the history a model learns from: ``window`` back from ``until``,
    never before the first incident; all of it when ``window`` is None."""
    offset = parse_window(window, what)
    if offset is None:
        return past.start
    until = pd.Timestamp(past.data_version["until"])
    return max(past.start, to_days(until - offset))


def parse_window(
    window: str | int | float | None, what: str
) -> pd.DateOffset | pd.Timedelta | None:
    """'90D', '3M', '52W' or a number of days; None means all history."""
    if window is None:
        return None
    if isinstance(window, (int, float)):
        if window <= 0:
            raise ModelInputError(f"{what} must be positive, got {window}")
        return pd.Timedelta(days=float(window))
    text = str(window).strip().upper()
    try:
        n = float(text[:-1])
    except ValueError:
        raise ModelInputError(
            f"{what} {window!r} is not a window: use e.g. '90D', '12W', '3M' or a number of days"
        ) from None
    if n <= 0:
        raise ModelInputError(f"{what} must be positive, got {window!r}")
    unit = text[-1]
    if unit == "D":
        return pd.Timedelta(days=n)
    if unit == "W":
        return pd.Timedelta(weeks=n)
    if unit == "M" and n == int(n):
        return pd.DateOffset(months=int(n))
    if unit == "Y" and n == int(n):
        return pd.DateOffset(years=int(n))
    raise ModelInputError(f"{what} {window!r}: unit must be D, W, M or Y (whole months/years)")
