"""Compiled inner loops of the space-time scan statistics (vigil.forecast.surge).

A cylinder is a circle (a centre cell and its ``k`` nearest cells, ``nn[i, :k+1]``) times the
last ``w`` days. Its score only changes where a neighbour with a count is added (between two
such neighbours the count is flat and the expectation grows, so the score falls), so each
centre's neighbours are walked once per window, the logarithm taken only where a count is
added and exceeds its expectation.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _score(c: float, b: float, total: float, kulldorff: bool) -> float:
    if c <= b or b <= 0.0:
        return 0.0
    if not kulldorff:
        # expectation-based Poisson (Neill 2005): log LR of rate q = c/b against q = 1
        return c * np.log(c / b) + b - c
    # Kulldorff's space-time permutation scan: Poisson GLR given the grand total
    rest = total - c
    s = c * np.log(c / b)
    if rest > 0.0:
        s += rest * np.log(rest / (total - b))
    return s


@njit(cache=True)
def best_per_centre(
    counts: np.ndarray,
    nn: np.ndarray,
    bcum: np.ndarray,
    totals: np.ndarray,
    kulldorff: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every centre cell: the best score over radii and windows, and its (k, w).

    ``counts``: (W, n) counts per cell in the window of the last w+1 days; ``nn``: (n, K)
    neighbours by distance (-1 pads); ``bcum``: (W, n, K) expectation of each cylinder;
    ``totals``: (W,) the grand total of each window (Kulldorff only).
    """
    n_w, n = counts.shape
    k_max = nn.shape[1]
    best = np.zeros(n)
    best_k = np.zeros(n, np.int64)
    best_w = np.zeros(n, np.int64)
    for w in range(n_w):
        cw = counts[w]
        for i in range(n):
            c = 0.0
            for k in range(k_max):
                j = nn[i, k]
                if j < 0:
                    break
                cj = cw[j]
                if cj > 0.0:
                    c += cj
                    s = _score(c, bcum[w, i, k], totals[w], kulldorff)
                    if s > best[i]:
                        best[i] = s
                        best_k[i] = k
                        best_w[i] = w
    return best, best_k, best_w


@njit(cache=True)
def reverse_ranks(nn: np.ndarray) -> np.ndarray:
    """``rev[j, p]``: the rank of cell ``j`` in the neighbour list of its ``p``-th neighbour
    ``i = nn[j, p]`` (the relation is symmetric: both are within the radius of each other)."""
    n, k_max = nn.shape
    rev = np.full((n, k_max), -1, np.int64)
    pos = np.full(n, -1, np.int64)
    for i in range(n):
        for k in range(k_max):
            j = nn[i, k]
            if j < 0:
                break
            pos[j] = k
        # i's rank k of j goes to j's slot p that points back at i
        for k in range(k_max):
            j = nn[i, k]
            if j < 0:
                break
            for p in range(k_max):
                if nn[j, p] == i:
                    rev[j, p] = pos[j]
                    break
                if nn[j, p] < 0:
                    break
        for k in range(k_max):
            j = nn[i, k]
            if j < 0:
                break
            pos[j] = -1
    return rev


@njit(cache=True)
def scratch(
    n_cells: int, n_entries: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The working arrays of ``_max_sparse``, made once and reused by every replica: per cell
    a count, a degree and a segment start (zeroed, and left zeroed by each call), and room for
    ``n_entries`` (events x neighbours) ranks and counts."""
    return (
        np.zeros(n_cells),
        np.zeros(n_cells, np.int64),
        np.zeros(n_cells, np.int64),
        np.empty(n_entries, np.int64),
        np.empty(n_entries),
    )


@njit(cache=True)
def _max_sparse(
    events: np.ndarray,
    n_in_window: np.ndarray,
    nn: np.ndarray,
    rev: np.ndarray,
    bcum: np.ndarray,
    totals: np.ndarray,
    kulldorff: bool,
    work: tuple[np.ndarray, ...],
) -> float:
    """Maximum score when the events of the last ``w``-th window are ``events[:n_in_window[w]]``.

    Only cylinders that add a cell with a count can hold the maximum, so the work is
    (cells with a count) x (neighbours), not (all cells) x (neighbours). ``work`` comes from
    ``scratch(n, m)`` with ``m`` at least the events times the neighbours.
    """
    cellcount, deg, seg, ent_r, ent_c = work
    k_max = nn.shape[1]
    best = 0.0
    touched = np.empty(events.size, np.int64)
    n_touched = 0
    centres = np.empty(nn.shape[0], np.int64)
    done = 0
    for w in range(n_in_window.size):
        for a in range(done, n_in_window[w]):
            j = events[a]
            if cellcount[j] == 0.0:
                touched[n_touched] = j
                n_touched += 1
            cellcount[j] += 1.0
        done = n_in_window[w]
        # pass 1: entries per centre
        n_centres = 0
        for t in range(n_touched):
            j = touched[t]
            for p in range(k_max):
                i = nn[j, p]
                if i < 0:
                    break
                if deg[i] == 0:
                    centres[n_centres] = i
                    n_centres += 1
                deg[i] += 1
        pos = 0
        for q in range(n_centres):
            i = centres[q]
            seg[i] = pos
            pos += deg[i]
            deg[i] = 0
        # pass 2: fill (rank, count) per centre
        for t in range(n_touched):
            j = touched[t]
            for p in range(k_max):
                i = nn[j, p]
                if i < 0:
                    break
                e = seg[i] + deg[i]
                ent_r[e] = rev[j, p]
                ent_c[e] = cellcount[j]
                deg[i] += 1
        # per centre: neighbours with a count in rank order, running count, score
        for q in range(n_centres):
            i = centres[q]
            lo = seg[i]
            hi = lo + deg[i]
            for a in range(lo + 1, hi):  # insertion sort by rank (segments are short)
                r, c = ent_r[a], ent_c[a]
                b = a - 1
                while b >= lo and ent_r[b] > r:
                    ent_r[b + 1] = ent_r[b]
                    ent_c[b + 1] = ent_c[b]
                    b -= 1
                ent_r[b + 1] = r
                ent_c[b + 1] = c
            c = 0.0
            for a in range(lo, hi):
                c += ent_c[a]
                s = _score(c, bcum[w, i, ent_r[a]], totals[w], kulldorff)
                if s > best:
                    best = s
            deg[i] = 0
            seg[i] = 0
    for t in range(n_touched):
        cellcount[touched[t]] = 0.0
    return best


@njit(cache=True)
def poisson_null_maxima(
    daily_cum: np.ndarray,
    daily_total: np.ndarray,
    nn: np.ndarray,
    rev: np.ndarray,
    bcum: np.ndarray,
    windows: np.ndarray,
    n_rep: int,
    seed: int,
) -> np.ndarray:
    """Maximum score of ``n_rep`` replicas drawn from the expectation (no surge anywhere).

    Each day's events are Poisson(total) in number and placed by the day's expectation per
    cell (``daily_cum``: (D, n) cumulative expectation, day 0 the most recent; ``daily_total``:
    (D,)); ``windows`` are the window lengths in days, ascending.
    """
    np.random.seed(seed)
    n_days, n = daily_cum.shape
    k_max = nn.shape[1]
    out = np.zeros(n_rep)
    totals = np.zeros(windows.size)
    work = scratch(n, 0)
    cap = 64
    events = np.empty(cap, np.int64)
    n_in = np.zeros(windows.size, np.int64)
    for r in range(n_rep):
        m = 0
        w = 0
        for d in range(n_days):
            k = np.random.poisson(daily_total[d])
            if m + k > cap:
                while m + k > cap:
                    cap *= 2
                grown = np.empty(cap, np.int64)
                grown[:m] = events[:m]
                events = grown
            for _ in range(k):
                u = np.random.random() * daily_total[d]
                j = np.searchsorted(daily_cum[d], u, side="right")
                if j >= n:
                    j = n - 1
                events[m] = j
                m += 1
            while w < windows.size and windows[w] == d + 1:
                n_in[w] = m
                w += 1
        if work[3].size < m * k_max:
            work = scratch(n, m * k_max * 2)
        out[r] = _max_sparse(events[:m], n_in, nn, rev, bcum, totals, False, work)
    return out


@njit(cache=True)
def permutation_null_maxima(
    cells: np.ndarray,
    n_in_window: np.ndarray,
    n_cells: int,
    nn: np.ndarray,
    rev: np.ndarray,
    bcum: np.ndarray,
    total: float,
    n_rep: int,
    seed: int,
) -> np.ndarray:
    """Maximum Kulldorff score of ``n_rep`` replicas with the events' days permuted.

    With the days shuffled among the events (locations and the number of events per day kept),
    the events of the last w days are a random sample, without replacement, of
    ``n_in_window[w]`` of all the events' cells; one partial Fisher-Yates shuffle per replica
    gives all windows (they are nested).
    """
    np.random.seed(seed)
    n_ev = cells.size
    k_max = nn.shape[1]
    out = np.zeros(n_rep)
    idx = np.arange(n_ev)
    totals = np.full(n_in_window.size, total)
    m_max = n_in_window[n_in_window.size - 1]
    events = np.empty(m_max, np.int64)
    work = scratch(n_cells, m_max * k_max)
    for r in range(n_rep):
        for a in range(m_max):
            b = a + np.random.randint(0, n_ev - a)
            tmp = idx[a]
            idx[a] = idx[b]
            idx[b] = tmp
            events[a] = cells[idx[a]]
        out[r] = _max_sparse(events, n_in_window, nn, rev, bcum, totals, True, work)
    return out
