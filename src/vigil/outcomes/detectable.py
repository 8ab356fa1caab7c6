"""What the evaluation will be able to detect, from the area's own history and the control pool.

Stated when a case is opened, before it is authorised, and frozen with the pre-registered plan
(:mod:`vigil.outcomes.plan`), so the result can be read against it afterwards. The Poisson
formula of :mod:`vigil.outcomes.power` assumed counts scatter no more than Poisson: it stated
about 32 % for London's top cell while a 40 % cut was called a reduction in only 22 % of
placebo deployments (benchmarks/README.md). The verdict comes from the placebo-in-space test
(:mod:`vigil.outcomes.placebo`), whose power is set by how far comparable undeployed areas
scatter, so that is what is measured here:

* the deployment's window shape (the periods it touches and the one after, against the six
  months before, as :func:`vigil.outcomes.record.evaluate_cases` will use them) is laid over the
  most recent complete periods of history before the forecast was made;
* the deployed areas are matched to undeployed donors as the evaluation will match them
  (before-period count and trend, away from the deployed areas' surroundings, and in place of
  the forecast's risk, which was fitted on these very periods, the counts of the last before
  periods: London 2022, 234 placebo deployments July-November, median stated 70 % against 70 %
  from the evaluation's own donors at deployment time; 75 % without it);
* :func:`vigil.outcomes.placebo.detectable_reduction` reads the smallest reduction detected with
  80 % power at the 5 % level from those donors' spread.

Nothing here reads an outcome: the deployment has not happened, and the history it uses ended
before the forecast. When the history holds too few incidents for the test the statement says
the evaluation will most likely be "too few to tell", which is worth knowing before deploying.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from vigil.forecast.surface import RiskSurface
from vigil.outcomes import placebo as pl
from vigil.outcomes.controls import DEFAULT_EXCLUSION_M
from vigil.outcomes.did import OutcomeInputError
from vigil.outcomes.evaluation import (
    DEFAULT_AFTER_PERIODS,
    DEFAULT_BUFFER_M,
    count_matrix,
    resolution_for,
)

#: Months before a deployment the evaluation compares against (as ``record.evaluate_cases``).
BEFORE_MONTHS = 6
#: Fewest before periods for a statement at all (a trend needs two).
MIN_BEFORE_PERIODS = 2
#: Placements of the window shape over history the power is averaged over: one rests on the
#: second-smallest of 79 donor values (benchmarks/README.md, "Minimum detectable reduction
#: stated before deploying").
WINDOWS = 6


@dataclass(frozen=True)
class Detectable:
    """The minimum detectable reduction of one planned deployment, and what it rests on."""

    #: smallest reduction (%) detected with 80 % power at 5 %; None: none can be stated
    mdr_pct: float | None
    #: incidents in the deployed areas over the history's before periods
    before: int
    #: undeployed areas the deployed areas were matched to
    donors: int
    #: the history used: "before 2022-01 to 2022-06, after 2022-07 to 2022-08"
    history: str
    #: why no figure could be stated ("" when one was)
    reason: str
    sentence: str
    #: the placebo test's matching on the most recent window of history, for pooling into the
    #: season the deployment would join (:func:`season_detectable`); None without one
    placement: pl.Prepared | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("placement")
        return out


def detectable_from_history(
    incidents: pd.DataFrame,
    surface: RiskSurface,
    area_ids: list[str] | tuple[str, ...],
    start: pd.Timestamp,
    end: pd.Timestamp,
    *,
    resolution: str | None = None,
    after_periods: int = DEFAULT_AFTER_PERIODS,
    buffer_m: float = DEFAULT_BUFFER_M,
    exclusion_m: float = DEFAULT_EXCLUSION_M,
) -> Detectable:
    """The placebo test's minimum detectable reduction for deploying in ``area_ids`` of
    ``surface`` from ``start`` to ``end`` (naive local times), from ``incidents`` (canonical
    table of the outcome categories with ``x``/``y`` in the surface's CRS) before the forecast.
    """
    ids = np.asarray(surface.area_id).astype(str)
    index = {a: i for i, a in enumerate(ids)}
    unknown = [a for a in area_ids if str(a) not in index]
    if not area_ids or unknown:
        raise OutcomeInputError(f"planned area(s) {unknown[:5]} are not areas of the forecast")
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if not end > start:
        raise OutcomeInputError(f"planned window ends ({end}) before it starts ({start})")
    known = (
        incidents[incidents["time"] < surface.start.tz_localize(None)]
        if len(incidents)
        else incidents
    )
    if known.empty:
        return _none("no incident history before the forecast to measure it on", "", 0, 0)
    res = resolution or resolution_for(known)
    # the evaluation's window shape: periods touched plus after, against the months before
    p0 = pd.Period(start, freq=res)
    p1 = pd.Period(end - pd.Timedelta(seconds=1), freq=res) + after_periods
    n_after = len(pd.period_range(p0, p1, freq=res))
    study_start = (start.to_period("M") - BEFORE_MONTHS).to_timestamp()
    n_before = len(pd.period_range(study_start, start - pd.Timedelta(seconds=1), freq=res))
    # laid over the last complete periods before the forecast (and before the window), and
    # over up to WINDOWS - 1 earlier placements of the same shape, one after-window apart
    stop = min(pd.Period(surface.start.tz_localize(None), freq=res), p0)
    first_known = pd.Period(known["time"].min(), freq=res)
    n_total = min((stop - first_known).n, n_before + WINDOWS * n_after)
    spans = history_windows(n_total, n_before, n_after)
    if not spans:
        return _none(
            f"the incident history before the forecast starts at {first_known}: too short for "
            f"{n_after} after and {MIN_BEFORE_PERIODS} before periods",
            "", 0, 0,
        )  # fmt: skip
    periods = pd.period_range(stop - n_total, stop - 1, freq=res)
    counts = count_matrix(known, surface, periods)
    cube = pl.CountCube(counts, np.asarray(surface.x, float), np.asarray(surface.y, float))
    rows = tuple(index[str(a)] for a in area_ids)
    excluded = cube.near(list(rows), max(exclusion_m, buffer_m))
    preps = [prepare_placement(cube, rows, excluded, span) for span in spans]
    b0, a0, a1 = spans[0]
    history = f"before {periods[b0]} to {periods[a0 - 1]}, after {periods[a0]} to {periods[a1 - 1]}"
    if len(spans) > 1:
        history += f", and the {len(spans) - 1} same-shaped window(s) before it"
    prep = preps[0]
    if prep.refusal:
        return _none(f"too few to tell: {prep.refusal}", history, prep.before, len(prep.donors))
    mdr = pl.detectable_reduction(*preps)
    if mdr is None:
        return replace(
            _none(
                "no reduction short of 100% could be told from how comparable areas scatter",
                history, prep.before, len(prep.donors),
            ),
            placement=prep,
        )  # fmt: skip
    sentence = (
        f"The evaluation can detect a reduction of {100 * mdr:.0f}% or more (80% power, 5% "
        f"level): the placebo test run on the same window over the history ({history}; "
        f"{prep.before} incidents in the deployed area before) against {len(prep.donors)} "
        "comparable undeployed areas. A smaller real effect will most likely be reported as "
        "no detectable effect."
    )
    return Detectable(100 * mdr, prep.before, len(prep.donors), history, "", sentence, prep)


def season_detectable(members: Sequence[Detectable], season: str) -> tuple[float | None, str]:
    """The minimum detectable reduction (%) of the season a deployment would join, pooled as
    the evaluation pools it (:func:`vigil.outcomes.placebo.season_detectable_reduction`), and
    the sentence that states it. ``members``: each deployment of the season, this one
    included, as :func:`detectable_from_history` measured it; ``season``: what the season is
    ("the force's deployments starting in 2022 Q3 so far and this one")."""
    preps = [m.placement for m in members if m.placement is not None]
    told = f"For the season it would join ({season}: {len(members)} deployment(s)"
    if len(preps) < len(members):
        told += f", {len(preps)} with enough history"
    mdr = pl.season_detectable_reduction(preps) if preps else None
    if mdr is None:
        return None, f"{told}) no minimum detectable reduction can be stated."
    return 100 * mdr, (
        f"{told}), pooled as the evaluation pools a season: a reduction of {100 * mdr:.0f}% or "
        "more in every deployment (80% power, 5% level)."
    )


def history_windows(
    n_total: int, n_before: int, n_after: int, windows: int | None = None
) -> list[tuple[int, int, int]]:
    """Where the window shape (``n_before`` before and ``n_after`` after periods) lies in the
    last ``n_total`` periods of history: ``(before start, after start, after end)`` offsets,
    the most recent first, then up to ``windows - 1`` earlier ones, each one after-window
    further back. The most recent may have fewer before periods (never fewer than
    ``MIN_BEFORE_PERIODS``); earlier ones only come with all of them. Empty: too short."""
    windows = WINDOWS if windows is None else windows
    nb = min(n_before, n_total - n_after)
    if nb < MIN_BEFORE_PERIODS:
        return []
    out = []
    for i in range(windows):
        end = n_total - i * n_after
        if i and end - n_after - nb < 0:
            break
        out.append((end - n_after - nb, end - n_after, end))
    return out


def prepare_placement(
    cube: pl.CountCube, rows: tuple[int, ...], excluded: np.ndarray, span: tuple[int, int, int]
) -> pl.Prepared:
    """The placebo test's matching for one placement of the window over the history."""
    b0, a0, a1 = span
    w = pl.Window("plan", rows, (b0, a0), (a0, a1))
    # The evaluation also matches on the forecast's risk, but this forecast was fitted on these
    # very periods (a naive forecast is the history's after-period count): it would predict the
    # donors' after/before ratios exactly and leave no spread to measure. What a forecast made
    # at the start of the history's after window would have pointed at is stood in for by the
    # counts of the last before periods, as many as the window has.
    recent = cube.sums(max(b0, a0 - (a1 - a0)), a0).astype(float)
    return pl.prepare(cube, w, excluded, risk=recent)


def _none(reason: str, history: str, before: int, donors: int) -> Detectable:
    sentence = (
        f"No minimum detectable reduction can be stated: {reason}. The evaluation will most "
        "likely not be able to show an effect."
    )
    return Detectable(None, before, donors, history, reason, sentence)


def against_plan(mdr_pct: float | None, rate_ratio: float, low: float, high: float) -> str:
    """The result read against the frozen plan: "the plan could detect a reduction of 45% or
    more; the estimate is -12% [-40%, +20%]"."""
    est = (
        f"the estimate is {100 * (rate_ratio - 1):+.0f}% "
        f"[{100 * (low - 1):+.0f}%, {100 * (high - 1):+.0f}%]"
    )
    if mdr_pct is None:
        return f"the plan stated no detectable reduction; {est}"
    text = f"the plan could detect a reduction of {mdr_pct:.0f}% or more; {est}"
    if low <= 1 <= high and rate_ratio > 1 - mdr_pct / 100:
        text += ": an effect smaller than the plan could detect would most likely look like this"
    return text
