"""Warnings printed beside an evaluation: force-wide shocks and failed pre-trend checks.

A comparison with undeployed areas removes what moves every area alike, but a shock that moves
busy town centres differently from the rest (the March 2020 lockdown emptied them) is not
removed: issue 17 found seasons starting in March-April 2020 called a "reduction" 13 times in
33. Such windows are flagged, from a list of known force-wide shocks and from the data (the
whole force's count changing by more than ``FORCE_WIDE_CHANGE`` between before and after).

A deployed area whose before-period trend is unlike its matched comparison areas' (rank test,
``p < 0.05``) has no credible comparison: the matching failed, and the result says so.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

#: Known force-wide shocks: (first day, last day, what). England's lockdowns and the
#: Chicago stay-at-home order; add a force's own (a riot, a major event) here.
KNOWN_SHOCKS: tuple[tuple[str, str, str], ...] = (
    ("2020-03-23", "2020-06-14", "first COVID-19 lockdown (England)"),
    ("2020-11-05", "2020-12-01", "second COVID-19 lockdown (England)"),
    ("2021-01-06", "2021-03-07", "third COVID-19 lockdown (England)"),
    ("2020-03-21", "2020-05-29", "COVID-19 stay-at-home order (Illinois)"),
)
#: A force-wide change in the daily rate between before and after beyond this factor (either
#: way) is flagged as a shock found in the data.
FORCE_WIDE_CHANGE = 1.3
#: Pre-trend check level.
PRE_TREND_P = 0.05


def shock_flags(
    periods: pd.PeriodIndex,
    before: tuple[int, int],
    after: tuple[int, int],
    force_totals: np.ndarray | None = None,
) -> list[str]:
    """Flags for a deployment evaluated on ``periods[before]`` against ``periods[after]``."""
    out = []
    lo = periods[before[0]].start_time
    hi = periods[after[1] - 1].end_time
    for first, last, what in KNOWN_SHOCKS:
        if pd.Timestamp(first) <= hi and pd.Timestamp(last) + pd.Timedelta(days=1) > lo:
            out.append(
                f"the evaluated periods ({lo:%Y-%m-%d} to {hi:%Y-%m-%d}) overlap the {what} "
                f"({first} to {last}): a force-wide shock that comparison areas may not share"
            )
    if force_totals is not None:
        b = float(np.sum(force_totals[before[0] : before[1]])) / (before[1] - before[0])
        a = float(np.sum(force_totals[after[0] : after[1]])) / (after[1] - after[0])
        if b > 0 and a > 0 and max(a / b, b / a) > FORCE_WIDE_CHANGE:
            out.append(
                f"the whole force's count changed by {100 * (a / b - 1):+.0f}% per period "
                "between before and after: a force-wide shock the comparison may not remove"
            )
    return out


def pre_trend_flag(label: str, p_value: float | None) -> list[str]:
    """A flag when the deployed area's before-period trend is unlike its comparison areas'."""
    if p_value is None or p_value >= PRE_TREND_P:
        return []
    return [
        f"pre-trend check failed for {label}: its before-period trend is unlike its "
        f"matched comparison areas' (p = {p_value:.3f}), so they may not show what it would "
        "have done"
    ]


def unique(flags: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(flags))
