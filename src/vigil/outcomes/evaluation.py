"""Evaluating deployments: from incidents and the forecast to a DiD estimate and a WDQ.

This is the glue between the pure statistics (:mod:`~vigil.outcomes.did`,
:mod:`~vigil.outcomes.displacement`, :mod:`~vigil.outcomes.controls`) and the incident table.
It is honest about time resolution: police.uk records are known only to their month, so a
deployment of a few hours is evaluated as the whole month(s) it touched (plus the months after)
against the months before. A short deployment's effect is then diluted across the month, and the
report says so. Timestamped data (Chicago) can be evaluated by day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely

from vigil.data.schema import Precision, coarsest_precision
from vigil.data.taxonomy import SERIOUS_VIOLENCE
from vigil.forecast.surface import RiskSurface
from vigil.outcomes.controls import (
    DEFAULT_EXCLUSION_M,
    DEFAULT_PER_TREATED,
    buffer_areas,
    choose_controls,
)
from vigil.outcomes.did import DidResult, OutcomeInputError, estimate_did
from vigil.outcomes.displacement import WDQResult, weighted_displacement_quotient

#: Surrounding buffer for displacement (metres from a deployed area's centre).
DEFAULT_BUFFER_M = 600.0
#: Periods after the window still counted as "after" (a deterrent may outlast the patrol).
DEFAULT_AFTER_PERIODS = 1

RESOLUTION_NOTES = {
    "M": (
        "Evaluated by month: the incident data are known only to their month (police.uk), so a "
        "deployment of hours is compared as the whole month(s) it touched and the month after "
        "against the months before. An effect confined to the deployment hours is diluted "
        "across the month."
    ),
    "D": "Evaluated by day: the incident data carry exact times.",
}


@dataclass(frozen=True)
class DeploymentWindow:
    """One deployment to evaluate: where (forecast area ids) and when (naive local times)."""

    case_id: str
    area_ids: tuple[str, ...]
    start: pd.Timestamp
    end: pd.Timestamp

    def __post_init__(self) -> None:
        if not self.area_ids:
            raise OutcomeInputError(f"deployment {self.case_id} has no area")
        if not pd.Timestamp(self.end) > pd.Timestamp(self.start):
            raise OutcomeInputError(
                f"deployment {self.case_id} ends ({self.end}) before it starts ({self.start})"
            )


@dataclass
class Evaluation:
    did: DidResult
    wdq: WDQResult
    resolution: str
    note: str
    treated: list[str]
    controls: list[str]
    buffer: list[str]
    per_deployment_wdq: dict[str, WDQResult] = field(default_factory=dict)
    panel: pd.DataFrame | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "did": self.did.to_dict(),
            "wdq": self.wdq.to_dict(),
            "resolution": self.resolution,
            "note": self.note,
            "treated": self.treated,
            "controls": self.controls,
            "buffer": self.buffer,
        }


def assign_areas(x: np.ndarray, y: np.ndarray, surface: RiskSurface) -> np.ndarray:
    """Index (into ``surface.area_id``) of the area holding each point, -1 where none."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    if surface.grid is not None:
        if surface.grid.n_cells != len(surface):
            raise OutcomeInputError(
                f"forecast has {len(surface)} areas but its grid {surface.grid.n_cells} cells"
            )
        return surface.grid.locate(x, y)
    if surface.geometry is None:
        raise OutcomeInputError("the forecast has neither a grid nor area polygons")
    tree = shapely.STRtree(surface.geometry)
    ok = np.isfinite(x) & np.isfinite(y)
    out = np.full(x.shape, -1, dtype=np.int64)
    pts = shapely.points(x[ok], y[ok])
    pi, ai = tree.query(pts, predicate="within")
    idx = np.flatnonzero(ok)
    # a point on a shared edge may fall in two polygons: keep the first
    first = pd.Series(ai).groupby(pi).first()
    out[idx[first.index.to_numpy()]] = first.to_numpy()
    return out


def resolution_for(incidents: pd.DataFrame) -> str:
    """'M' (month) unless every incident is timed to the day or better."""
    return "M" if coarsest_precision(incidents) is Precision.MONTH else "D"


def evaluate_deployments(
    incidents: pd.DataFrame,
    surface: RiskSurface,
    deployments: Sequence[DeploymentWindow],
    *,
    study_start: pd.Timestamp,
    study_end: pd.Timestamp,
    categories: frozenset[str] = SERIOUS_VIOLENCE,
    resolution: str | None = None,
    after_periods: int = DEFAULT_AFTER_PERIODS,
    per_treated: int = DEFAULT_PER_TREATED,
    exclusion_m: float = DEFAULT_EXCLUSION_M,
    buffer_m: float = DEFAULT_BUFFER_M,
    keep_panel: bool = False,
) -> Evaluation:
    """Difference-in-differences and WDQ for one deployment or a season of them.

    ``incidents`` is the canonical table with projected ``x``/``y`` in ``surface.crs``.
    ``surface`` is the forecast the deployments were chosen from: controls are picked from it.
    Incidents in ``[study_start, study_end)`` of ``categories`` are counted per area and period.
    """
    if not deployments:
        raise OutcomeInputError("no deployment to evaluate")
    for col in ("x", "y", "time", "category"):
        if col not in incidents.columns:
            raise OutcomeInputError(f"incident table has no '{col}' column (project it first)")
    res = resolution or resolution_for(incidents)
    if res not in RESOLUTION_NOTES:
        raise OutcomeInputError(f"resolution must be 'M' or 'D', got {res!r}")
    if res == "D" and resolution_for(incidents) == "M":
        raise OutcomeInputError("daily evaluation needs timed incidents; these are month-only")
    study_start, study_end = pd.Timestamp(study_start), pd.Timestamp(study_end)
    periods = pd.period_range(study_start, study_end - pd.Timedelta(seconds=1), freq=res)
    pindex = {p: i for i, p in enumerate(periods)}

    ids = np.asarray(surface.area_id).astype(str)
    index = {a: i for i, a in enumerate(ids)}
    treated = list(dict.fromkeys(a for d in deployments for a in d.area_ids))
    unknown = [a for a in treated if a not in index]
    if unknown:
        raise OutcomeInputError(f"deployed area(s) {unknown[:5]} are not areas of the forecast")
    buffer = buffer_areas(surface, treated, buffer_m)
    controls = choose_controls(
        surface,
        treated,
        excluded=buffer,
        per_treated=per_treated,
        exclusion_m=max(exclusion_m, buffer_m),
    )

    # ---- counts per (area, period) for the areas that matter
    sel = incidents[
        incidents["category"].isin(categories)
        & (incidents["time"] >= study_start)
        & (incidents["time"] < study_end)
    ]
    aidx = assign_areas(sel["x"].to_numpy(), sel["y"].to_numpy(), surface)
    ordinals = np.asarray(sel["time"].dt.to_period(res).array.asi8, dtype=np.int64)
    tidx = ordinals - periods[0].ordinal
    ok = (aidx >= 0) & (tidx >= 0) & (tidx < len(periods))
    grid_counts = np.zeros((len(ids), len(periods)), dtype=np.int64)
    np.add.at(grid_counts, (aidx[ok], tidx[ok]), 1)

    # ---- post periods of each treated area (its own deployment(s))
    post: dict[str, set[int]] = {a: set() for a in treated}
    first_post: dict[str, int] = {}
    for d in deployments:
        span = _span(d, res, after_periods, pindex)
        if not span:
            raise OutcomeInputError(
                f"deployment {d.case_id} ({d.start} to {d.end}) is outside the study period "
                f"{study_start.date()} to {study_end.date()}"
            )
        for a in d.area_ids:
            post[a].update(span)
            first_post[a] = min(first_post.get(a, span[0]), span[0])

    rows = []
    for a in treated:
        i = index[a]
        for t in range(len(periods)):
            is_post = t in post[a]
            if t > first_post[a] and not is_post:
                continue  # after the evaluated window: neither before nor during/after
            rows.append((a, t, int(grid_counts[i, t]), True, is_post))
    for a in controls:
        i = index[a]
        rows.extend((a, t, int(grid_counts[i, t]), False, False) for t in range(len(periods)))
    panel = pd.DataFrame(rows, columns=["area_id", "period", "count", "treated", "post"])
    did = estimate_did(panel)

    # ---- displacement, per deployment and pooled
    per_wdq: dict[str, WDQResult] = {}
    tot = np.zeros(6, dtype=np.int64)
    cidx = np.array([index[c] for c in controls])
    for d in deployments:
        d_treated = list(d.area_ids)
        d_buffer = buffer_areas(surface, d_treated, buffer_m)
        ri = np.array([index[a] for a in d_treated])
        bi = np.array([index[a] for a in d_buffer], dtype=np.int64)
        span = _span(d, res, after_periods, pindex)
        before = np.arange(0, span[0])
        after = np.array(span)
        vec = np.array(
            [
                grid_counts[np.ix_(ri, before)].sum(),
                grid_counts[np.ix_(ri, after)].sum(),
                grid_counts[np.ix_(bi, before)].sum() if len(bi) else 0,
                grid_counts[np.ix_(bi, after)].sum() if len(bi) else 0,
                grid_counts[np.ix_(cidx, before)].sum(),
                grid_counts[np.ix_(cidx, after)].sum(),
            ],
            dtype=np.int64,
        )
        tot += vec
        per_wdq[d.case_id] = weighted_displacement_quotient(*(int(v) for v in vec))
    wdq = (
        per_wdq[deployments[0].case_id]
        if len(deployments) == 1
        else weighted_displacement_quotient(*(int(v) for v in tot))
    )
    return Evaluation(
        did=did,
        wdq=wdq,
        resolution=res,
        note=RESOLUTION_NOTES[res],
        treated=treated,
        controls=controls,
        buffer=buffer,
        per_deployment_wdq=per_wdq,
        panel=panel if keep_panel else None,
    )


def _span(
    d: DeploymentWindow, res: str, after_periods: int, pindex: dict[pd.Period, int]
) -> list[int]:
    p0 = pd.Period(pd.Timestamp(d.start), freq=res)
    p1 = pd.Period(pd.Timestamp(d.end) - pd.Timedelta(seconds=1), freq=res) + after_periods
    return [pindex[p] for p in pd.period_range(p0, p1, freq=res) if p in pindex]
