"""Is *now* unusual *here*? A prospective space-time surge detector.

A chronic hotspot is the norm; what justifies an exceptional deployment is that the last days
in an area are out of line with that area's own expected level. This module answers that with
a scan statistic over cylinders (a circle of cells around each cell, up to ``max_radius``
metres, times the last ``w`` days, ``w`` in ``windows``), each scored against its expectation:

* ``method="poisson"`` (default): the expectation-based Poisson scan (Neill, Moore, Sabhnani &
  Daniel 2005, "Detection of emerging space-time clusters", KDD): the expected count of each
  cell and day is the default forecaster's (vigil.forecast.registry.DEFAULT_MODEL) forecast,
  fitted on what was known before the scanned days; a cylinder scores
  ``C log(C/B) + B - C`` when its count ``C`` exceeds its expectation ``B``. Replicas are drawn
  from the expectation itself (no surge anywhere), so a citywide rise shows as well.
* ``method="permutation"``: Kulldorff's space-time permutation scan (Kulldorff, Heffernan,
  Hartman, Assuncao & Mostashari 2005, PLoS Medicine 2(3) e59): the expectation of a cylinder
  comes from the study period's own margins (share of events in those days x share in those
  cells), and replicas permute the events' days. It needs no forecast and ignores citywide
  change: the reference method.

The most unusual cylinder's score is compared with the maxima of ``n_replicas`` Monte Carlo
replicas: ``p = (1 + #replicas at least as high) / (1 + n_replicas)``. The recurrence interval
is how often a cluster this strong would arise by chance if the scan were run every day:
``1 / p`` days (SaTScan's definition for daily prospective surveillance); with ``p`` at its
floor ``1 / (1 + n_replicas)`` it is a lower bound, and the Gumbel approximation of the null
maxima (``p_gumbel``) says how far beyond. Secondary clusters are the next best cylinders
sharing no cell with a stronger one, each judged against the same null maxima (conservative).

Each cluster carries the figure the case and the impact assessment show: the ratio of the
count to the area's own expected level, the period, the p-value and the recurrence interval.
"""

from __future__ import annotations

import time as _time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numba import parallel_chunksize
from scipy.spatial import cKDTree
from threadpoolctl import threadpool_limits

from vigil.data.schema import PRECISION_ORDER, Precision, coarsest_precision
from vigil.errors import ModelInputError
from vigil.forecast._common import as_timestamp, period_end
from vigil.forecast._scan_kernels import (
    best_per_centre,
    permutation_null_maxima,
    poisson_null_maxima,
)
from vigil.forecast.base import Forecaster, TimeLike
from vigil.geo.grid import Grid

METHODS = ("poisson", "permutation")
EULER_GAMMA = 0.5772156649015329


@dataclass(frozen=True)
class SurgeCluster:
    """One space-time cluster: where, when, how far above its own expected level, how unusual."""

    centre: str
    x: float
    y: float
    radius_m: float
    area_ids: list[str]
    start: pd.Timestamp
    end: pd.Timestamp
    days: int
    observed: int
    expected: float
    ratio: float
    score: float
    p_value: float
    p_gumbel: float
    recurrence_days: float
    n_replicas: int

    def describe(self) -> str:
        bound = "at least " if self.p_value <= 1.0 / (1 + self.n_replicas) + 1e-12 else ""
        return (
            f"{self.observed} incidents in the {self.days} day(s) to {self.end:%Y-%m-%d} within "
            f"{self.radius_m:.0f} m of {self.centre}, {self.ratio:.1f} times the "
            f"{self.expected:.1f} expected; p = {self.p_value:.3g}, recurrence interval "
            f"{bound}{self.recurrence_days:,.0f} days"
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["start"], d["end"] = self.start.isoformat(), self.end.isoformat()
        return d


@dataclass
class SurgeResult:
    """The scan of one analysis time: clusters, strongest first, and how they were found."""

    method: str
    at: pd.Timestamp
    clusters: list[SurgeCluster]
    null_maxima: np.ndarray = field(repr=False)
    params: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    #: seconds of the parts that cost ("expectation_s": the forecaster's fit; "replicas_s"),
    #: kept out of ``params`` so that what is stored does not change from run to run
    timings: dict[str, float] = field(default_factory=dict, repr=False)

    def significant(self, alpha: float = 0.05) -> list[SurgeCluster]:
        return [c for c in self.clusters if c.p_value <= alpha]

    def for_area(self, area_ids: set[str] | list[str]) -> SurgeCluster | None:
        """The strongest cluster that touches any of ``area_ids`` (None: nothing unusual)."""
        wanted = set(area_ids)
        return next((c for c in self.clusters if wanted & set(c.area_ids)), None)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([c.to_dict() for c in self.clusters])

    def figure_for(self, area_ids: set[str] | list[str]) -> dict[str, Any]:
        """The one "exceptional" figure of an area (see :func:`exceptional_figure`)."""
        return exceptional_figure(self.to_dict(), area_ids)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "at": self.at.isoformat(),
            "params": self.params,
            "clusters": [c.to_dict() for c in self.clusters],
            "n_replicas": int(self.null_maxima.size),
        }


def neighbours(grid: Grid, max_radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Each active cell's cells within ``max_radius`` metres (centre to centre), nearest first
    (the cell itself first); ``-1`` pads. Returns (indices (n, K), distances (n, K))."""
    r = int(np.floor(max_radius / grid.cell))
    off = np.arange(-r, r + 1)
    k = int(np.sum(np.hypot(off[:, None], off[None, :]) * grid.cell <= max_radius + 1e-9))
    x, y = grid.centres()
    pts = np.c_[x, y]
    dist, idx = cKDTree(pts).query(pts, k=max(k, 1), distance_upper_bound=max_radius + 1e-6)
    dist = np.asarray(dist).reshape(len(pts), -1)
    idx = np.asarray(idx).reshape(len(pts), -1)
    missing = idx >= len(pts)
    idx = np.where(missing, -1, idx).astype(np.int64)
    # the query's ties are in no fixed order: make the order (distance, cell index)
    order = np.lexsort((np.where(missing, np.iinfo(np.int64).max, idx), dist), axis=1)
    idx = np.take_along_axis(idx, order, axis=1)
    dist = np.take_along_axis(np.where(missing, np.inf, dist), order, axis=1)
    return idx, dist


def _day_index(incidents: pd.DataFrame, at: pd.Timestamp, what: str) -> np.ndarray:
    """Whole days before ``at`` each incident happened in (0: the last 24 hours)."""
    if incidents.empty:
        return np.zeros(0, np.int64)
    prec = coarsest_precision(incidents)
    if PRECISION_ORDER[prec] < PRECISION_ORDER[Precision.DAY]:
        raise ModelInputError(
            f"{what} needs incident times to the day, but the data are known only to the "
            f"{prec.value} (e.g. police.uk month-only records): a surge over days cannot be seen"
        )
    t = pd.to_datetime(incidents["time"])
    age = (at - t).to_numpy(dtype="timedelta64[ns]").astype(np.int64) / 86_400e9
    return np.floor(age).astype(np.int64)


def _gumbel_p(score: float, null: np.ndarray) -> float:
    sd = float(np.std(null))
    if sd <= 0:
        return float(score <= null.mean())
    beta = sd * np.sqrt(6.0) / np.pi
    mu = float(np.mean(null)) - EULER_GAMMA * beta
    return float(-np.expm1(-np.exp(-(score - mu) / beta)))


def exceptional_figure(scan: dict[str, Any], area_ids: set[str] | list[str]) -> dict[str, Any]:
    """The figure a case, its impact assessment and the guardrail's evidence test all show.

    ``scan`` is a :meth:`SurgeResult.to_dict` (as stored with a forecast); the figure is its
    strongest cluster touching any of ``area_ids``: the ratio of the count to the area's own
    expected level, the period, the p-value and the recurrence interval. With no such cluster
    among the scan's strongest, nothing unusual was found there: ``found`` is False, the ratio
    is 1 (the area is at its own level as far as the scan can tell) and the p-value 1.
    """
    wanted = {str(a) for a in area_ids}
    best = next((c for c in scan.get("clusters", []) if wanted & set(c["area_ids"])), None)
    base = {
        "measure": "surge scan: count in the area's recent days against its own expected level",
        "method": scan.get("method"),
        "at": scan.get("at"),
        "n_replicas": int(scan.get("n_replicas", 0)),
    }
    if best is None:
        return base | {
            "found": False,
            "ratio": 1.0,
            "p_value": 1.0,
            "recurrence_days": 1.0,
            "describe": "no unusual cluster of incidents touches the area in the days scanned",
        }
    stored: dict[str, Any] = {
        k: (pd.Timestamp(v) if k in ("start", "end") else v)
        for k, v in best.items()
        if k in SurgeCluster.__dataclass_fields__
    }
    cluster = SurgeCluster(**stored)
    return base | {
        "found": True,
        "ratio": float(cluster.ratio),
        "observed": int(cluster.observed),
        "expected": float(cluster.expected),
        "start": cluster.start.isoformat(),
        "end": cluster.end.isoformat(),
        "days": int(cluster.days),
        "radius_m": float(cluster.radius_m),
        "centre": cluster.centre,
        "p_value": float(cluster.p_value),
        "recurrence_days": float(cluster.recurrence_days),
        "describe": cluster.describe(),
    }


def surge_scan(
    incidents: pd.DataFrame,
    grid: Grid,
    at: TimeLike,
    *,
    method: str = "poisson",
    windows: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7),
    max_radius: float = 1000.0,
    history_days: float = 365.0,
    n_replicas: int = 999,
    max_clusters: int = 5,
    baseline: Forecaster | None = None,
    seed: int = 0,
) -> SurgeResult:
    """Scan the last ``max(windows)`` days before ``at`` for space-time clusters.

    ``incidents``: the canonical table with x/y (times to the day or finer); ``grid``: the cells
    (the study area); ``history_days``: history the expectation is learnt from (the baseline
    model is fitted on it; the permutation scan's study period is this plus the windows).
    ``baseline``: the forecaster giving the expected counts of the Poisson scan (default: a
    fresh DEFAULT_MODEL). Only incidents ended by ``at`` are used.
    """
    t0 = _time.perf_counter()
    if method not in METHODS:
        raise ModelInputError(f"surge method must be one of {', '.join(METHODS)}, got {method!r}")
    wins = np.asarray(sorted({int(w) for w in windows}), np.int64)
    if wins.size == 0 or wins[0] < 1:
        raise ModelInputError(f"surge windows must be whole days >= 1, got {windows}")
    if not max_radius >= 0 or int(n_replicas) < 1:
        raise ModelInputError("surge max_radius must be >= 0 metres and n_replicas >= 1")
    at_ts = as_timestamp(at, "surge: analysis time")
    span = int(wins[-1])
    scan_start = at_ts - pd.Timedelta(days=span)
    hist_start = scan_start - pd.Timedelta(days=float(history_days))
    times = pd.to_datetime(incidents["time"])
    ended = (period_end(times, incidents["precision"]) <= at_ts).to_numpy()
    used = incidents.loc[ended & (times >= hist_start).to_numpy()]
    day = _day_index(used, at_ts, "the surge scan")
    cell = grid.locate(used["x"].to_numpy(float), used["y"].to_numpy(float))
    inside = cell >= 0
    day, cell = day[inside], cell[inside]
    n = grid.n_cells
    recent = day < span
    day_counts = np.zeros((span, n))
    np.add.at(day_counts, (day[recent], cell[recent]), 1.0)
    counts = np.cumsum(day_counts, axis=0)[wins - 1]  # (W, n): events of the last w days
    nn, dist = neighbours(grid, max_radius)
    gather = np.where(nn >= 0, nn, 0)
    # one seed per replica: replicas run in parallel, each from its own stream
    seeds = np.random.SeedSequence(int(seed)).generate_state(int(n_replicas)).astype(np.int64)
    timings: dict[str, float] = {}

    if method == "poisson":
        from vigil.forecast.registry import DEFAULT_MODEL, make_model

        model = make_model(DEFAULT_MODEL) if baseline is None else baseline
        past = used.iloc[np.flatnonzero(inside)[~recent]] if len(used) else used
        if len(past) == 0:
            raise ModelInputError(
                f"surge scan: no incidents in the {history_days:g} days before "
                f"{scan_start:%Y-%m-%d} to learn the expected level from"
            )
        t_fit = _time.perf_counter()
        # the forecaster's fit is many small matrix-vector products: BLAS threads only wait on
        # each other (London, 2 shared cores: 4.5 s on one thread against 32 s on two; same
        # weights)
        with threadpool_limits(limits=1, user_api="blas"):
            surface = model.fit(past, scan_start, grid).predict(scan_start, at_ts)
        timings["expectation_s"] = _time.perf_counter() - t_fit
        daily = np.clip(np.asarray(surface.risk, float), 0.0, None) / span
        base = np.where(nn >= 0, daily[gather], 0.0).cumsum(axis=1)
        factor = wins.astype(float)
        totals = np.zeros(wins.size)
        t_null = _time.perf_counter()
        with parallel_chunksize(1):  # chunks of replicas handed out one at a time
            null = poisson_null_maxima(
                np.tile(np.cumsum(daily), (span, 1)),
                np.full(span, daily.sum()),
                nn,
                base,
                factor,
                wins,
                seeds,
            )
        timings["replicas_s"] = _time.perf_counter() - t_null
        expected_note = f"{model.name} forecast fitted to {scan_start:%Y-%m-%d}"
    else:
        total = float(cell.size)
        if total == 0:
            raise ModelInputError("surge scan: no incidents in the study period")
        spatial = np.bincount(cell, minlength=n).astype(float)
        n_w = counts.sum(axis=1)
        base = np.where(nn >= 0, spatial[gather], 0.0).cumsum(axis=1)
        factor = n_w / total
        totals = np.full(wins.size, total)
        # events ordered most recent day first, so the first n_w[w] are the window's
        order = np.argsort(day, kind="stable")
        t_null = _time.perf_counter()
        with parallel_chunksize(1):  # chunks of replicas handed out one at a time
            null = permutation_null_maxima(
                cell[order].astype(np.int64),
                n_w.astype(np.int64),
                n,
                nn,
                base,
                factor,
                total,
                seeds,
            )
        timings["replicas_s"] = _time.perf_counter() - t_null
        expected_note = "space-time permutation (study period margins)"

    best, best_k, best_w = best_per_centre(
        counts, nn, base, factor, totals, method == "permutation"
    )
    ids = grid.area_ids()
    x, y = grid.centres()
    taken = np.zeros(n, bool)
    clusters: list[SurgeCluster] = []
    floor = 1.0 / (1 + int(n_replicas))
    for i in np.argsort(-best, kind="stable"):
        if best[i] <= 0 or len(clusters) >= max_clusters:
            break
        k, w = int(best_k[i]), int(best_w[i])
        members = nn[i, : k + 1]
        if taken[members].any():
            continue
        taken[members] = True
        score = float(best[i])
        p = float((1 + np.sum(null >= score)) / (1 + null.size))
        obs = int(round(counts[w, members].sum()))
        exp = float(factor[w] * base[i, k])
        days = int(wins[w])
        clusters.append(
            SurgeCluster(
                centre=str(ids[i]),
                x=float(x[i]),
                y=float(y[i]),
                radius_m=float(dist[i, k]),
                area_ids=[str(a) for a in ids[members]],
                start=at_ts - pd.Timedelta(days=days),
                end=at_ts,
                days=days,
                observed=obs,
                expected=exp,
                ratio=float(obs / exp) if exp > 0 else float("inf"),
                score=score,
                p_value=max(p, floor),
                p_gumbel=_gumbel_p(score, null),
                recurrence_days=1.0 / max(p, floor),
                n_replicas=int(n_replicas),
            )
        )
    return SurgeResult(
        method=method,
        at=at_ts,
        clusters=clusters,
        null_maxima=np.asarray(null),
        params={
            "windows_days": wins.tolist(),
            "max_radius_m": float(max_radius),
            "history_days": float(history_days),
            "n_replicas": int(n_replicas),
            "seed": int(seed),
            "expected_from": expected_note,
            "n_cells": int(n),
            "n_incidents": int(cell.size),
        },
        seconds=_time.perf_counter() - t0,
        timings=timings,
    )
