"""Evaluating deployments: from incidents and the forecast to a DiD estimate and a WDQ.

This is the glue between the pure statistics (:mod:`~vigil.outcomes.did`,
:mod:`~vigil.outcomes.displacement`, :mod:`~vigil.outcomes.controls`) and the incident table.
It is honest about time resolution: police.uk records are known only to their month, so a
deployment of a few hours is evaluated as the whole month(s) it touched (plus the months after)
against the months before. A short deployment's effect is then diluted across the month, and the
report says so. Timestamped data (Chicago) can be evaluated by day.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely

from vigil.data.schema import Precision, coarsest_precision
from vigil.data.taxonomy import SERIOUS_VIOLENCE
from vigil.forecast.surface import RiskSurface
from vigil.outcomes import flags as fl
from vigil.outcomes import placebo as pl
from vigil.outcomes.controls import (
    DEFAULT_EXCLUSION_M,
    DEFAULT_PER_TREATED,
    buffer_areas,
    choose_controls,
)
from vigil.outcomes.did import (
    DidResult,
    OutcomeInputError,
    Verdict,
    change_pct,
    estimate_did,
    interval_text,
)
from vigil.outcomes.displacement import WDQResult, wdq_interval, weighted_displacement_quotient

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


#: Which method decides the printed verdict, and why (printed with every evaluation).
METHOD_NOTE = (
    "Verdict from the placebo-in-space test (primary): the deployed area's change against "
    f"{pl.DONORS} comparable undeployed areas matched on before-period count, trend and forecast "
    "risk (bias-corrected), so over-dispersion, bursts and regression to the mean after "
    "selection on high risk are in the reference distribution rather than assumed away; it held "
    "its 5% level on placebo deployments (benchmarks/README.md, `vigil report calibrate`). "
    "Confirming: quasi-Poisson with area and period effects, standard errors clustered by area."
)


@dataclass
class Evaluation:
    """An evaluation: the primary placebo test (``primary``), the confirming model (``did``),
    displacement (``displacement`` with the classic ``wdq``) and the flags to read it by."""

    did: DidResult
    wdq: WDQResult
    resolution: str
    note: str
    treated: list[str]
    controls: list[str]
    buffer: list[str]
    per_deployment_wdq: dict[str, WDQResult] = field(default_factory=dict)
    panel: pd.DataFrame | None = None
    primary: pl.UnitResult | pl.SeasonResult | None = None
    per_deployment: dict[str, pl.UnitResult] = field(default_factory=dict)
    displacement: pl.RingResult | None = None
    wdq_interval: tuple[float, float] | None = None
    flags: list[str] = field(default_factory=list)
    method: str = METHOD_NOTE

    @property
    def verdict(self) -> Verdict:
        return self.primary.verdict if self.primary is not None else self.did.verdict

    @property
    def rate_ratio(self) -> float | None:
        return self.primary.rate_ratio if self.primary is not None else self.did.rate_ratio

    @property
    def ci(self) -> tuple[float | None, float | None]:
        if self.primary is None:
            return self.did.ci_low, self.did.ci_high
        return self.primary.ci_low, self.primary.ci_high

    def covers(self, rate_ratio: float) -> bool:
        lo, hi = self.ci
        return lo is not None and hi is not None and lo <= rate_ratio <= hi

    @property
    def message(self) -> str:
        """The verdict's sentence (primary method)."""
        p = self.primary
        if p is None:
            return self.did.message
        if p.verdict is Verdict.TOO_FEW:
            why = p.reason if isinstance(p, pl.UnitResult) else "no deployment has enough"
            return why if why.startswith("Too few") else f"Too few incidents to tell: {why}."
        assert p.rate_ratio is not None and p.ci_low is not None and p.ci_high is not None
        return describe_primary(p.verdict, p.rate_ratio, p.ci_low, p.ci_high)

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": str(self.verdict),
            "message": self.message,
            "method": self.method,
            "primary": None if self.primary is None else self.primary.to_dict(),
            "per_deployment": {k: v.to_dict() for k, v in self.per_deployment.items()},
            "displacement": None if self.displacement is None else self.displacement.to_dict(),
            "wdq_interval": self.wdq_interval,
            "flags": self.flags,
            "did": self.did.to_dict(),
            "wdq": self.wdq.to_dict(),
            "resolution": self.resolution,
            "note": self.note,
            "treated": self.treated,
            "controls": self.controls,
            "buffer": self.buffer,
        }


def describe_primary(verdict: Verdict, rr: float, lo: float, hi: float) -> str:
    interval = interval_text(lo, hi)
    pct = 100 * (rr - 1)
    if verdict is Verdict.REDUCTION:
        return (
            f"Serious violence in the deployed areas was {-pct:.0f}% lower than comparable "
            f"undeployed areas' change predicts ({interval})."
        )
    if verdict is Verdict.INCREASE:
        return (
            f"Serious violence in the deployed areas was {pct:.0f}% higher than comparable "
            f"undeployed areas' change predicts ({interval})."
        )
    return f"The estimate is {change_pct(rr)} but the {interval} includes no change."


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


def count_matrix(
    incidents: pd.DataFrame,
    surface: RiskSurface,
    periods: pd.PeriodIndex,
    categories: frozenset[str] = SERIOUS_VIOLENCE,
) -> np.ndarray:
    """(areas, periods) incident counts of ``categories`` in each area of ``surface``.

    Police-generated offences (possession of weapons, drugs: recorded when police find them,
    so they rise where police patrol) are refused as an outcome: a patrol would "increase"
    them by finding them, or one search burst would decide a season (issue 17)."""
    check_outcome_categories(categories)
    res = periods.freqstr[0]
    sel = incidents[
        incidents["category"].isin(categories)
        & (incidents["time"] >= periods[0].start_time)
        & (incidents["time"] <= periods[-1].end_time)
    ]
    aidx = assign_areas(sel["x"].to_numpy(), sel["y"].to_numpy(), surface)
    ordinals = np.asarray(sel["time"].dt.to_period(res).array.asi8, dtype=np.int64)
    tidx = ordinals - periods[0].ordinal
    ok = (aidx >= 0) & (tidx >= 0) & (tidx < len(periods))
    counts = np.zeros((len(surface), len(periods)), dtype=np.int64)
    np.add.at(counts, (aidx[ok], tidx[ok]), 1)
    return counts


def check_outcome_categories(categories: frozenset[str] | set[str]) -> None:
    """Refuse police-generated categories (:mod:`vigil.data.taxonomy` origins, the same split
    :mod:`vigil.outcomes.definitions` names) as an evaluation outcome."""
    from vigil.data.taxonomy import CATEGORIES, Origin

    generated = sorted(
        c for c in categories if c in CATEGORIES and CATEGORIES[c].origin is Origin.POLICE_GENERATED
    )
    if generated:
        raise OutcomeInputError(
            f"outcome categories {generated} are police-generated (found by police activity, so "
            "they rise where police patrol): an evaluation counts victim-reported offences only"
        )


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
    check_outcome_categories(categories)
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
    grid_counts = count_matrix(incidents, surface, periods, categories)

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
    did = estimate_did(panel, cluster=True)

    # ---- primary: placebo-in-space against matched undeployed areas (and their surroundings)
    cube = pl.CountCube(grid_counts, np.asarray(surface.x, float), np.asarray(surface.y, float))
    excluded = cube.near([index[a] for a in treated], max(exclusion_m, buffer_m))
    ring = cube.ring_matrix(buffer_m)
    risk = np.asarray(surface.risk, float)
    force = grid_counts.sum(axis=0)
    preps, rings, flags = [], [], []
    for d in deployments:
        span = _span(d, res, after_periods, pindex)
        if span[0] == 0:
            raise OutcomeInputError(
                f"deployment {d.case_id} starts in the first period of the study: no before"
            )
        w = pl.Window(d.case_id, tuple(index[a] for a in d.area_ids), (0, span[0]),
                      (span[0], span[-1] + 1))  # fmt: skip
        preps.append(pl.prepare(cube, w, excluded, risk=risk))
        rings.append(pl.prepare_ring(cube, w, excluded, ring, buffer_m=buffer_m, risk=risk))
        flags += fl.shock_flags(periods, w.before, w.after, force)
    per_deployment = {p.label: pl.single_result(p) for p in preps}
    for label, u in per_deployment.items():
        flags += fl.pre_trend_flag(label, u.pre_trend_p)
    primary: pl.UnitResult | pl.SeasonResult = (
        per_deployment[deployments[0].case_id] if len(deployments) == 1 else pl.season_result(preps)
    )
    if isinstance(primary, pl.SeasonResult):
        if primary.refused:
            flags.append(
                f"left out of the season as too few to tell (decided before the outcome): "
                f"{', '.join(primary.refused)}"
            )
        if primary.decisive:
            flags.append(
                f"the season's verdict depends on a single deployment: without "
                f"{', '.join(primary.decisive)} it changes (leave-one-out)"
            )
    displacement = pl.ring_result(rings)

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
    interval = None
    if primary.rate_ratio is not None and displacement.ci_low is not None:
        interval = wdq_interval(
            wdq, primary.rate_ratio, displacement.ci_low, displacement.ci_high or math.inf
        )
    return Evaluation(
        primary=primary,
        per_deployment=per_deployment,
        displacement=displacement,
        wdq_interval=interval,
        flags=fl.unique(flags),
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
