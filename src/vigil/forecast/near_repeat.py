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

import math
import time as _time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numba import njit, parallel_chunksize, prange

from vigil.errors import ModelInputError
from vigil.forecast._common import to_days

#: replicas per pass over the pairs: each pass holds an (events x lanes) table of times
LANES = 128


@njit(cache=True)
def _band(v: float, edges: np.ndarray) -> int:
    """Index ``k`` of the half-open band ``[edges[k], edges[k + 1])`` holding ``v`` (the last
    band is open-ended; ``v >= edges[0]``)."""
    k = 0
    while k < edges.size - 1 and v >= edges[k + 1]:
        k += 1
    return k


@njit(cache=True)
def _cell_pairs(
    u: int,
    x: np.ndarray,
    y: np.ndarray,
    keys: np.ndarray,
    starts: np.ndarray,
    row: int,
    times: np.ndarray,
    d_edges: np.ndarray,
    t_edges: np.ndarray,
    acc: np.ndarray,
    pairs: np.ndarray,
) -> None:
    """Add to ``acc`` (lanes, distance bands, time bands short of "beyond") and ``pairs``
    (distance bands) every pair whose first event is in cell ``u``: the cell's own later
    events and those of the cells right, below-left, below and below-right of it (cells are
    ``d_edges[-1]`` wide, so every pair within that distance is one of these, counted once)."""
    n_cells = keys.size
    far = d_edges[-1]
    far2 = far * far * (1.0 + 1e-9)
    t_max = t_edges[-1]
    lanes = times.shape[1]
    key = keys[u]
    for q in range(5):
        if q == 0:
            v = u
        else:
            want = key + (1, row - 1, row, row + 1)[q - 1]
            v = np.searchsorted(keys, want)
            if v >= n_cells or keys[v] != want:
                continue
        for i in range(starts[u], starts[u + 1]):
            ti = times[i]
            j0 = i + 1 if q == 0 else starts[v]
            for j in range(j0, starts[v + 1]):
                dx = x[i] - x[j]
                dy = y[i] - y[j]
                if dx * dx + dy * dy > far2:  # surely too far (hypot is the slow part)
                    continue
                d = math.hypot(dx, dy)
                if d >= far:
                    continue
                b = _band(d, d_edges)
                pairs[b] += 1
                tj = times[j]
                # most pairs are "beyond" in every lane: count the others first (vectorised),
                # then bin just those, stopping at the last
                hits = 0
                for r in range(lanes):
                    hits += 1 if abs(ti[r] - tj[r]) < t_max else 0
                r = 0
                while hits > 0:
                    dt = abs(ti[r] - tj[r])
                    if dt < t_max:
                        acc[r, b, _band(dt, t_edges)] += 1
                        hits -= 1
                    r += 1


@njit(cache=True, parallel=True)
def _knox_tables(
    x: np.ndarray,
    y: np.ndarray,
    keys: np.ndarray,
    starts: np.ndarray,
    row: int,
    chunks: np.ndarray,
    times: np.ndarray,
    d_edges: np.ndarray,
    t_edges: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Knox tables of every lane of ``times`` (events x lanes, lane r: the events' times in
    replica r): chunks of cells (``chunks[c]`` to ``chunks[c + 1]``, of about equal work) run
    in parallel, each into its own table, summed at the end (the result does not depend on
    the number of threads). Returns (tables (lanes, distance bands, time bands) with the
    "beyond" column filled, pairs per distance band)."""
    n_chunks = chunks.size - 1
    lanes = times.shape[1]
    n_d = d_edges.size - 1
    n_t = t_edges.size  # the last column: "beyond", filled from the pairs per band
    acc = np.zeros((n_chunks, lanes, n_d, n_t), np.int64)
    pairs = np.zeros((n_chunks, n_d), np.int64)
    for c in prange(n_chunks):
        for u in range(chunks[c], chunks[c + 1]):
            _cell_pairs(u, x, y, keys, starts, row, times, d_edges, t_edges, acc[c], pairs[c])
    tables = acc.sum(axis=0)
    per_band = pairs.sum(axis=0)
    for r in range(lanes):
        for b in range(n_d):
            near = 0
            for k in range(n_t - 1):
                near += tables[r, b, k]
            tables[r, b, n_t - 1] = per_band[b] - near
    return tables, per_band


@njit(cache=True, parallel=True)
def _lanes(t: np.ndarray, perms: np.ndarray) -> np.ndarray:
    """(events x lanes) times, lane ``r`` holding ``t[perms[r]]``: rows filled in parallel,
    in blocks of events so that the reads of each permutation stay in cache."""
    lanes, n = perms.shape
    out = np.empty((n, lanes))
    block = 4096
    for c in prange((n + block - 1) // block):
        lo = c * block
        hi = min(lo + block, n)
        for r in range(lanes):
            for i in range(lo, hi):
                out[i, r] = t[perms[r, i]]
    return out


def _cells(
    x: np.ndarray, y: np.ndarray, size: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, np.ndarray]:
    """Events in square cells of ``size`` metres, row by row: the order of the events (stable),
    each occupied cell's key (row x ``row`` + column) and first event, ``row`` (the key step
    from one row to the next, with an empty column so that no neighbour wraps), and chunks of
    cells of about equal pair work for the threads."""
    cx = np.floor(x / size)
    cy = np.floor(y / size)
    cx -= cx.min() if x.size else 0.0
    cy -= cy.min() if y.size else 0.0
    row = int(cx.max()) + 2 if x.size else 2
    if x.size and (cy.max() + 1) * row >= 2**62:
        raise ModelInputError(
            f"knox: the incidents spread over too many {size:g} m cells (coordinates in metres?)"
        )
    key = cy.astype(np.int64) * row + cx.astype(np.int64)
    order = np.argsort(key, kind="stable")
    keys, starts, n_in = np.unique(key[order], return_index=True, return_counts=True)
    starts = np.r_[starts, x.size].astype(np.int64)
    # work of a cell: its events times those of itself and its four forward neighbours
    near = n_in / 2.0
    for step in (1, row - 1, row, row + 1):
        pos = np.searchsorted(keys, keys + step)
        hit = pos < keys.size
        hit[hit] = keys[pos[hit]] == keys[hit] + step
        near[hit] += n_in[pos[hit]]
    work = np.cumsum(n_in * near)
    n_chunks = int(min(keys.size, 256))
    cuts = np.searchsorted(work, work[-1] * np.arange(1, n_chunks) / n_chunks) if keys.size else []
    chunks = np.unique(np.r_[0, cuts, keys.size]).astype(np.int64)
    return order, keys.astype(np.int64), starts, row, chunks


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
    # events grouped by square cells of the largest distance, row by row: every close pair is
    # then in the same or a neighbouring cell, and the pair's two events sit close in the
    # arrays, so the times of a pair stay in cache (the table does not depend on the order)
    order, keys, starts, row, chunks = _cells(x, y, float(d_edges[-1]))
    x, y, t = x[order], y[order], t[order]
    rng = np.random.default_rng(int(seed))
    # lane 0: the observed times; lanes 1..: the replicas' shuffles (drawn batch by batch, in
    # order). A close pair's distance band is the same in every replica (only times move), so
    # each pass finds the pairs once and bins their time differences in all its lanes at once
    tables = []
    for lo in range(0, int(n_replicas) + 1, LANES):
        hi = min(lo + LANES, int(n_replicas) + 1)
        perms = np.empty((hi - lo, t.size), np.int32)
        for r in range(lo, hi):
            perms[r - lo] = np.arange(t.size) if r == 0 else rng.permutation(t.size)
        times = _lanes(t, perms)
        # chunks handed out one at a time: on shared cores a thread that is held up takes fewer
        with parallel_chunksize(1):
            part, per_band = _knox_tables(x, y, keys, starts, row, chunks, times, d_edges, t_edges)
        tables.append(part)
    allt = np.concatenate(tables)
    observed, reps = allt[0], allt[1:]
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
        params={"seed": int(seed), "n_pairs": int(per_band.sum())},
    )
