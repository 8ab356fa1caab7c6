"""Forecast windows, rolling origins and what was observed in each window.

The honesty of a backtest rests here: a model is fitted only on incidents whose whole known
period ended by the origin, and scored on incidents whose whole known period lies inside the
window. Police.uk records are known only to their month, so with month-only data both the
origin and the window must fall on month boundaries; a "week" of month-only data would be an
invented precision and is refused.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from vigil.data.schema import PRECISION_ORDER, Precision, coarsest_precision
from vigil.errors import ModelInputError
from vigil.forecast._common import period_end as _period_end
from vigil.geo.grid import Grid

Step = pd.DateOffset | pd.Timedelta

_HORIZON = re.compile(r"^\s*(\d+)\s*([a-zA-Z]+)\s*$")
_UNITS = {
    "h": "hours",
    "hour": "hours",
    "hours": "hours",
    "d": "days",
    "day": "days",
    "days": "days",
    "w": "weeks",
    "week": "weeks",
    "weeks": "weeks",
    "m": "months",
    "month": "months",
    "months": "months",
    "y": "years",
    "year": "years",
    "years": "years",
}


def step_words(text: str) -> str:
    """A window length as a person reads it: '1M' -> '1 month', '7d' -> '7 days' (the text
    itself when it is not one parse_step reads)."""
    match = _HORIZON.match(str(text))
    unit = _UNITS.get(match.group(2).lower()) if match else None
    if match is None or unit is None:
        return str(text)
    n = int(match.group(1))
    return f"{n} {unit if n != 1 else unit[:-1]}"


def parse_step(text: str | Step) -> Step:
    """'7d', '2w', '1M', '24h' or '1y' as a pandas offset (months and years are calendar ones).

    ``m`` means months, as in the CLI's ``--horizon 1M``: minutes are never a forecast window.
    """
    if isinstance(text, pd.DateOffset | pd.Timedelta):
        return text
    match = _HORIZON.match(str(text))
    unit = _UNITS.get(match.group(2).lower()) if match else None
    if match is None or unit is None:
        raise ModelInputError(
            f"window {text!r} is not understood: use a whole number and a unit, e.g. "
            "'7d', '2w', '1M', '24h', '1y'"
        )
    n = int(match.group(1))
    if n <= 0:
        raise ModelInputError(f"window {text!r} must be positive")
    if unit == "months":
        return pd.DateOffset(months=n)
    if unit == "years":
        return pd.DateOffset(years=n)
    hours = {"hours": 1, "days": 24, "weeks": 168}[unit]
    return pd.Timedelta(hours=n * hours)


def step_label(step: Step) -> str:
    """Short text of a step for tables and JSON ('7d', '1M')."""
    if isinstance(step, pd.Timedelta):
        days = step / pd.Timedelta(days=1)
        if days == int(days):
            return f"{int(days)}d"
        return f"{step / pd.Timedelta(hours=1):g}h"
    kw = step.kwds
    if "years" in kw:
        return f"{kw['years']}y"
    if "months" in kw:
        return f"{kw['months']}M"
    return str(step)


def is_month_start(ts: pd.Timestamp) -> bool:
    return bool(ts == ts.normalize() and ts.day == 1)


def rolling_origins(start: Any, end: Any, step: str | Step) -> list[pd.Timestamp]:
    """Origins ``start, start+step, ...`` strictly before ``end``."""
    s, e = pd.Timestamp(start), pd.Timestamp(end)
    if e <= s:
        raise ModelInputError(f"backtest end {e.date()} is not after its start {s.date()}")
    off = parse_step(step)
    out: list[pd.Timestamp] = []
    t = s
    while t < e:
        out.append(t)
        t = t + off
    return out


def period_end(incidents: pd.DataFrame) -> pd.Series:
    """Exclusive end of the period each incident is known to fall in (the models' rule,
    :func:`vigil.forecast._common.period_end`)."""
    return _period_end(pd.to_datetime(incidents["time"]), incidents["precision"])


def check_window_precision(incidents: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> None:
    """Refuse a window that month-only data cannot resolve."""
    precision = coarsest_precision(incidents)
    if PRECISION_ORDER[precision] == PRECISION_ORDER[Precision.MONTH] and not (
        is_month_start(start) and is_month_start(end)
    ):
        raise ModelInputError(
            f"the data are known only to the month (police.uk), so a forecast window must run "
            f"from the first of a month to the first of a month; got {start} to {end}. "
            "Use --horizon 1M and an origin on the 1st"
        )


def past_of(
    incidents: pd.DataFrame, origin: pd.Timestamp, ends: pd.Series | None = None
) -> pd.DataFrame:
    """Incidents whose whole known period ended by ``origin``: all a model may see."""
    ends = period_end(incidents) if ends is None else ends
    return incidents.loc[(ends <= origin).to_numpy()]


def observed_counts(
    incidents: pd.DataFrame,
    grid: Grid,
    start: pd.Timestamp,
    end: pd.Timestamp,
    ends: pd.Series | None = None,
) -> np.ndarray:
    """Incidents per active cell whose known period lies inside ``[start, end)``."""
    check_window_precision(incidents, start, end)
    ends = period_end(incidents) if ends is None else ends
    times = pd.to_datetime(incidents["time"])
    inside = ((times >= start) & (ends <= end)).to_numpy()
    x = incidents["x"].to_numpy(float)[inside]
    y = incidents["y"].to_numpy(float)[inside]
    return grid.counts(x, y)
