"""What the evaluation will be able to detect, stated before the decision.

A deployment whose effect could never be told from noise should be known as such before it is
authorised, not discovered afterwards. :func:`minimum_detectable_reduction` gives the smallest
reduction the difference-in-differences evaluation (:mod:`vigil.outcomes.did`) would detect
with 80 % power at the 5 % level (two-sided), from counts expected *before* the outcome is
seen: the deployed area's own history and the control pool's.

For the log rate ratio of a quasi-Poisson DiD with expected counts ``tb, ta`` (deployed area
before / during-and-after) and ``cb, ca`` (controls), the standard error under a reduction to
``r`` is about ``sqrt(phi * (1/tb + 1/(r ta) + 1/cb + 1/ca))``; the reduction is detectable
when ``|log r| >= (z_{0.975} + z_{0.8}) * se(r)``. The smallest such ``1 - r`` is found by
bisection. ``phi`` is the over-dispersion of the area's counts (1 = Poisson).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

Z_ALPHA = 1.959963984540054  # two-sided 5 %
Z_POWER = 0.8416212335729143  # 80 % power


@dataclass(frozen=True)
class PowerStatement:
    """The minimum detectable reduction for one planned deployment (or a season)."""

    #: smallest detectable reduction in % (None: no reduction short of 100 % is detectable)
    mdr_pct: float | None
    expected_before: float
    expected_after: float
    control_before: float
    control_after: float
    dispersion: float
    sentence: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def minimum_detectable_reduction(
    expected_before: float,
    expected_after: float,
    control_before: float,
    control_after: float,
    *,
    dispersion: float = 1.0,
) -> PowerStatement:
    """Smallest reduction detectable with 80 % power at the 5 % level (two-sided)."""
    tb, ta, cb, ca = (
        max(0.0, float(v)) for v in (expected_before, expected_after, control_before, control_after)
    )
    phi = max(1.0, float(dispersion))
    z = Z_ALPHA + Z_POWER

    def detectable(r: float) -> bool:
        if min(tb, cb, ca) <= 0 or ta * r <= 0:
            return False
        se = math.sqrt(phi * (1 / tb + 1 / (r * ta) + 1 / cb + 1 / ca))
        return -math.log(r) >= z * se

    # Detectable reductions form an interval of r (tiny r: the after-count vanishes and with it
    # the precision); the minimum detectable reduction is at its upper end, the largest
    # detectable r below 1. Scan down from 1, then bisect.
    grid = [1.0 - k / 200 for k in range(1, 200)]
    first = next((r for r in grid if detectable(r)), None)
    if first is None:
        mdr = None
    else:
        lo, hi = first, first + 1 / 200  # detectable at lo, not at hi
        for _ in range(50):
            mid = (lo + hi) / 2
            if detectable(mid):
                lo = mid
            else:
                hi = mid
        mdr = 100.0 * (1.0 - lo)
    if mdr is None:
        sentence = (
            f"With about {ta:.0f} incidents expected in the deployed area during and after the "
            "window, no reduction could be told from chance: the evaluation will not be able "
            "to show an effect."
        )
    else:
        sentence = (
            f"The evaluation can detect a reduction of {mdr:.0f}% or more (80% power, 5% "
            f"level), from about {ta:.0f} incidents expected in the deployed area during and "
            f"after the window ({tb:.0f} before) and {ca:.0f} in the controls. A smaller real "
            "effect will most likely be reported as no detectable effect."
        )
    return PowerStatement(mdr, tb, ta, cb, ca, phi, sentence)


def power_from_forecast(
    surface: Any,
    area_ids: Sequence[str],
    start: pd.Timestamp,
    end: pd.Timestamp,
    *,
    resolution: str | None = None,
    before_periods: int = 6,
    after_periods: int = 1,
) -> PowerStatement:
    """The minimum detectable reduction for a planned deployment, from the frozen forecast.

    The forecast's risk is the expected count per area over its own window; it is turned into
    a daily rate and laid over the periods the evaluation will use: ``before_periods`` before
    the window and the window's periods plus ``after_periods`` (months for month-only data,
    days otherwise), for the deployed areas and for the controls the evaluation would choose
    (:func:`vigil.outcomes.controls.choose_controls`). Poisson (dispersion 1): real counts
    scatter more, so the true minimum detectable reduction is at least this large.
    """
    from vigil.outcomes.controls import buffer_areas, choose_controls
    from vigil.outcomes.evaluation import DEFAULT_BUFFER_M

    ids = np.asarray(surface.area_id).astype(str)
    risk = np.asarray(surface.risk, float)
    days = max((pd.Timestamp(surface.end) - pd.Timestamp(surface.start)).total_seconds(), 1.0)
    days /= 86400.0
    res = resolution or ("M" if days >= 28 else "D")
    period_days = 30.44 if res == "M" else 1.0
    p0 = pd.Period(pd.Timestamp(start), freq=res)
    p1 = pd.Period(pd.Timestamp(end) - pd.Timedelta(seconds=1), freq=res) + after_periods
    n_after = len(pd.period_range(p0, p1, freq=res))
    treated = [str(a) for a in area_ids]
    controls = choose_controls(
        surface, treated, excluded=buffer_areas(surface, treated, DEFAULT_BUFFER_M)
    )
    rate_t = float(risk[np.isin(ids, treated)].sum()) / days * period_days
    rate_c = float(risk[np.isin(ids, controls)].sum()) / days * period_days
    return minimum_detectable_reduction(
        rate_t * before_periods, rate_t * n_after, rate_c * before_periods, rate_c * n_after
    )
