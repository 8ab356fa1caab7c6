"""Near-repeat analysis: after a serious assault, how far and for how long is risk raised?

The Knox test as in Ratcliffe's Near Repeat Calculator (Ratcliffe 2009; Knox 1964; Johnson et
al. 2007, "Space-time patterns of risk: a cross national assessment of residential burglary
victimization", J. Quant. Criminol. 23): every pair of incidents is counted in a table of
distance bands x time bands; the expected table comes from Monte Carlo replicas in which the
incidents' times are shuffled among them (locations kept), which breaks any space-time link but
keeps where and when incidents happen. Cells where the observed count exceeds the replicas'
(Knox ratio > 1, p = (1 + #replicas at least as high) / (1 + replicas)) show raised risk near
an incident, for that long after it.

Bands: distances are half-open ``[lo, hi)`` metres between the incidents' projected points
(``[0, first)`` holds "same place"); time differences are whole days ``[lo, hi)`` between the
incidents' times (absolute, so a pair counts once); pairs at or beyond the last time edge fall in
the final "beyond" column, pairs at or beyond the last distance edge are not counted (they do
not enter any row, so each row's total is fixed by space alone and equal in every replica).

:meth:`KnoxResult.proposal` turns the table into a reactive deployment: the radius and the
duration of the contiguous block of significantly raised bands starting at (same place, first
days).
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numba import njit, prange
from scipy.spatial import cKDTree

from vigil.errors import ModelInputError
from vigil.forecast._common import to_days


@njit(cache=True)
def _pair_table(
    a: np.ndarray, b: np.ndarray, dband: np.ndarray, t: np.ndarray, edges: np.ndarray, n_d: int
) -> np.ndarray:
    n_t = edges.size  # bands [e0,e1), ..., [e_{k-1}, e_k), beyond
    out = np.zeros((n_d, n_t), np.int64)
    for p in range(a.size):
        dt = abs(t[a[p]] - t[b[p]])
        k = 0
        while k < n_t - 1 and dt >= edges[k + 1]:
            k += 1
        out[dband[p], k] += 1
    return out


@njit(cache=True, parallel=True)
def _replica_tables(
    a: np.ndarray,
    b: np.ndarray,
    dband: np.ndarray,
    t: np.ndarray,
    edges: np.ndarray,
    n_d: int,
    perms: np.ndarray,
) -> np.ndarray:
    """One table per replica, replica r with the times permuted by ``perms[r]``; replicas run
    in parallel (the permutations are drawn beforehand, so the result does not depend on the
    number of threads)."""
    n_rep = perms.shape[0]
    out = np.zeros((n_rep, n_d, edges.size), np.int64)
    for r in prange(n_rep):
        out[r] = _pair_table(a, b, dband, t[perms[r]], edges, n_d)
    return out


@dataclass
class KnoxResult:
    """Observed and expected pair counts per distance band x time band, with significance."""

    distance_edges: np.ndarray
    time_edges: np.ndarray
    observed: np.ndarray
    expected: np.ndarray
    p_value: np.ndarray
    n_events: int
    n_replicas: int
    seconds: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> np.ndarray:
        return np.divide(
            self.observed,
            self.expected,
            out=np.full(self.observed.shape, np.nan),
            where=self.expected > 0,
        )

    def distance_labels(self) -> list[str]:
        e = self.distance_edges
        return [f"{e[i]:g}-{e[i + 1]:g} m" for i in range(e.size - 1)]

    def time_labels(self) -> list[str]:
        e = self.time_edges
        return [f"{e[i]:g}-{e[i + 1]:g} days" for i in range(e.size - 1)] + [f">= {e[-1]:g} days"]

    def to_frame(self) -> pd.DataFrame:
        """One row per (distance band, time band): observed, expected, Knox ratio, p-value."""
        d, t = self.distance_labels(), self.time_labels()
        rows = [
            {
                "distance": d[i],
                "time": t[j],
                "observed": int(self.observed[i, j]),
                "expected": float(self.expected[i, j]),
                "ratio": float(self.ratio[i, j]),
                "p_value": float(self.p_value[i, j]),
            }
            for i in range(len(d))
            for j in range(len(t))
        ]
        return pd.DataFrame(rows)

    def proposal(self, alpha: float = 0.05, min_ratio: float = 1.1) -> dict[str, Any]:
        """Radius and duration of a reactive deployment: the bands, contiguous from the first
        distance band and the first time band, whose risk is raised (ratio >= ``min_ratio``)
        and significant (p <= ``alpha``). None of each when the first cell is not raised."""
        raised = (self.p_value <= alpha) & (self.ratio >= min_ratio)
        raised[:, -1] = False  # "beyond" is no duration
        if not raised[0, 0]:
            return {"radius_m": None, "days": None, "raised": False, "alpha": alpha}
        i = 0
        while i + 1 < raised.shape[0] and raised[i + 1, 0]:
            i += 1
        j = 0
        while j + 1 < raised.shape[1] and raised[0, j + 1]:
            j += 1
        return {
            "radius_m": float(self.distance_edges[i + 1]),
            "days": float(self.time_edges[j + 1]),
            "raised": True,
            "ratio_first_cell": float(self.ratio[0, 0]),
            "alpha": alpha,
        }


def knox(
    incidents: pd.DataFrame,
    distance_edges: tuple[float, ...] = (0, 100, 200, 300, 400, 500),
    time_edges: tuple[float, ...] = (0, 7, 14, 21, 28),
    n_replicas: int = 99,
    seed: int = 0,
) -> KnoxResult:
    """The Knox table of ``incidents`` (canonical table with x/y; times to the day or finer)."""
    t0 = _time.perf_counter()
    d_edges = np.asarray(distance_edges, float)
    t_edges = np.asarray(time_edges, float)
    for name, e in (("distance_edges", d_edges), ("time_edges", t_edges)):
        if e.size < 2 or e[0] != 0 or np.any(np.diff(e) <= 0):
            raise ModelInputError(f"knox {name} must rise from 0, got {tuple(e)}")
    if int(n_replicas) < 1:
        raise ModelInputError(f"knox n_replicas must be at least 1, got {n_replicas}")
    prec = incidents["precision"].astype(str)
    if (prec == "month").any():
        raise ModelInputError(
            "the near-repeat analysis needs incident times to the day, but some are known only "
            "to the month (police.uk): days after an incident cannot be counted"
        )
    x = incidents["x"].to_numpy(float)
    y = incidents["y"].to_numpy(float)
    if not (np.isfinite(x) & np.isfinite(y)).all():
        raise ModelInputError("knox: every incident needs projected x/y coordinates")
    t = np.asarray(to_days(pd.to_datetime(incidents["time"])), float)
    # events in blocks of the largest distance, row by row: a pair's two events then sit close
    # in the arrays, so the replicas' gathers of their times stay in cache (the table does not
    # depend on the order)
    block = float(d_edges[-1])
    order = np.lexsort((np.floor(x / block), np.floor(y / block)))
    x, y, t = x[order], y[order], t[order]
    tree = cKDTree(np.c_[x, y])
    pairs = tree.query_pairs(np.nextafter(d_edges[-1], 0), output_type="ndarray")
    # narrow types: the replicas stream every pair's (a, b, band) once each, so memory
    # bandwidth, not arithmetic, sets their speed
    a = pairs[:, 0].astype(np.int32)
    b = pairs[:, 1].astype(np.int32)
    dist = np.hypot(x[a] - x[b], y[a] - y[b])
    dband = np.searchsorted(d_edges, dist, side="right") - 1
    keep = (dband >= 0) & (dband < d_edges.size - 1)
    a, b, dband = a[keep], b[keep], dband[keep].astype(np.int16)
    n_d = d_edges.size - 1
    observed = _pair_table(a, b, dband, t, t_edges, n_d)
    rng = np.random.default_rng(int(seed))
    perms = np.stack([rng.permutation(t.size) for _ in range(int(n_replicas))]).astype(np.int32)
    reps = _replica_tables(a, b, dband, t, t_edges, n_d, perms)
    p = (1 + (reps >= observed[None]).sum(axis=0)) / (1 + int(n_replicas))
    return KnoxResult(
        distance_edges=d_edges,
        time_edges=t_edges,
        observed=observed,
        expected=reps.mean(axis=0),
        p_value=p,
        n_events=int(len(incidents)),
        n_replicas=int(n_replicas),
        seconds=_time.perf_counter() - t0,
        params={"seed": int(seed), "n_pairs": int(a.size)},
    )
