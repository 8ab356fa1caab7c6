"""Compiled inner loops of the space-time scan statistics (vigil.forecast.surge).

A cylinder is a circle (a centre cell and its ``k`` nearest cells, ``nn[i, :k+1]``) times the
last ``w`` days. Its expectation is ``factor[w] * base[i, k]`` (``base``: the circle's
expectation per day, or its share of the study period; ``factor``: the window's days, or its
share of the events), so one (cells x neighbours) table serves every window. Its score only
changes where a neighbour with a count is added (between two such neighbours the count is flat
and the expectation grows, so the score falls), so each centre's neighbours are walked once,
every window scored at each step where that window's count grows.

Scores are computed from logarithms taken once: ``log c`` from a table of whole counts and
``log b`` as ``log factor[w] + log base[i, k]``, the same formula for the observed data and for
the replicas, so that a replica holding the observed cylinder scores exactly as high.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True)
def _score(c: float, logc: float, b: float, logb: float, total: float, kulldorff: bool) -> float:
    if c <= b or b <= 0.0:
        return 0.0
    s = c * (logc - logb)
    if not kulldorff:
        # expectation-based Poisson (Neill 2005): log LR of rate q = c/b against q = 1
        return s + b - c
    # Kulldorff's space-time permutation scan: Poisson GLR given the grand total; the second
    # term is never positive (rest < total - b), so ``s`` so far bounds the score
    rest = total - c
    if rest > 0.0:
        s += rest * np.log(rest / (total - b))
    return s


@njit(cache=True)
def _log_counts(m: int) -> np.ndarray:
    """``log k`` for the whole counts ``k = 0..m`` (``-inf`` at 0, never used)."""
    out = np.empty(m + 1)
    out[0] = -np.inf
    for k in range(1, m + 1):
        out[k] = np.log(k)
    return out


@njit(cache=True)
def best_per_centre(
    counts: np.ndarray,
    nn: np.ndarray,
    base: np.ndarray,
    factor: np.ndarray,
    totals: np.ndarray,
    kulldorff: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every centre cell: the best score over radii and windows, and its (k, w).

    ``counts``: (W, n) whole counts per cell in the window of the last w+1 days; ``nn``: (n, K)
    neighbours by distance (-1 pads); the expectation of cylinder (w, i, k) is
    ``factor[w] * base[i, k]``; ``totals``: (W,) the grand total of each window (Kulldorff
    only).
    """
    n_w, n = counts.shape
    k_max = nn.shape[1]
    logs = _log_counts(int(counts.sum(axis=1).max()) + 1)
    logbase = np.log(base)
    best = np.zeros(n)
    best_k = np.zeros(n, np.int64)
    best_w = np.zeros(n, np.int64)
    for w in range(n_w):
        cw = counts[w]
        f = factor[w]
        logf = np.log(f) if f > 0.0 else -np.inf
        for i in range(n):
            c = 0.0
            for k in range(k_max):
                j = nn[i, k]
                if j < 0:
                    break
                cj = cw[j]
                if cj > 0.0:
                    c += cj
                    b = f * base[i, k]
                    s = _score(c, logs[int(c)], b, logf + logbase[i, k], totals[w], kulldorff)
                    if s > best[i]:
                        best[i] = s
                        best_k[i] = k
                        best_w[i] = w
    return best, best_k, best_w


@njit(cache=True)
def scratch(
    n_cells: int, n_events: int, n_windows: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The working arrays of ``_max_sparse`` for up to ``n_events`` events, made once and
    reused by every replica: per cell its slot among the cells with events (-1: none; left so
    by each call), per slot its cell and its counts per window."""
    m = max(n_events, 1)
    return np.full(n_cells, -1, np.int32), np.empty(m, np.int64), np.zeros((m, n_windows))


@njit(cache=True)
def _max_sparse(
    events: np.ndarray,
    n_in_window: np.ndarray,
    nn: np.ndarray,
    base: np.ndarray,
    logbase: np.ndarray,
    factor: np.ndarray,
    logfactor: np.ndarray,
    totals: np.ndarray,
    logs: np.ndarray,
    kulldorff: bool,
    work: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> float:
    """Maximum score when the events of the ``w``-th window are ``events[:n_in_window[w]]``
    (windows nested, ascending).

    Only cylinders that add a cell with a count can hold the maximum: each centre's circle is
    walked outwards once, and only at its cells with events (a few in a replica) is any window
    scored, all windows in the same walk. The walk reads each centre's neighbour row in order
    (no sorting, no scattered writes), which is what makes it fast. ``work`` comes from
    ``scratch(n, m, W)`` with ``m`` at least the number of events; ``logs`` is
    ``_log_counts`` of at least that many.
    """
    slot_of, cell_of, cnt = work
    n, k_max = nn.shape
    n_w = n_in_window.size
    m = n_in_window[n_w - 1]
    # cells with events, and their counts per window (cumulative: windows are nested)
    n_slots = 0
    w = 0
    for a in range(m):
        while a >= n_in_window[w]:
            w += 1
        j = events[a]
        s = slot_of[j]
        if s < 0:
            s = n_slots
            slot_of[j] = s
            cell_of[s] = j
            for v in range(n_w):
                cnt[s, v] = 0.0
            n_slots += 1
        cnt[s, w] += 1.0
    for s in range(n_slots):
        for v in range(1, n_w):
            cnt[s, v] += cnt[s, v - 1]
    best = 0.0
    run = np.zeros(n_w)
    for i in range(n):
        for v in range(n_w):
            run[v] = 0.0
        for k in range(k_max):
            j = nn[i, k]
            if j < 0:
                break
            s = slot_of[j]
            if s < 0:
                continue
            bk = base[i, k]
            lbk = logbase[i, k]
            for v in range(n_w):
                cv = cnt[s, v]
                if cv > 0.0:
                    c = run[v] + cv
                    run[v] = c
                    bv = factor[v] * bk
                    if c <= bv:
                        continue
                    lc = logs[int(c)]
                    lb = logfactor[v] + lbk
                    if kulldorff and c * (lc - lb) <= best:
                        continue  # the first term bounds the score
                    sc = _score(c, lc, bv, lb, totals[v], kulldorff)
                    if sc > best:
                        best = sc
    for s in range(n_slots):
        slot_of[cell_of[s]] = -1
    return best


@njit(cache=True)
def _chunks(n_rep: int) -> np.ndarray:
    """Replica ranges for the threads: many small chunks, so a slow thread holds up little."""
    n_chunks = min(n_rep, 64)
    return np.linspace(0, n_rep, n_chunks + 1).astype(np.int64)


@njit(cache=True)
def _poisson_replicas(
    daily_cum: np.ndarray,
    daily_total: np.ndarray,
    nn: np.ndarray,
    base: np.ndarray,
    factor: np.ndarray,
    windows: np.ndarray,
    seeds: np.ndarray,
    out: np.ndarray,
) -> None:
    """``poisson_null_maxima`` of one chunk of replicas, into ``out`` (one per seed), with its
    own working arrays."""
    n_days, n = daily_cum.shape
    n_w = windows.size
    logbase, logfactor = np.log(base), np.log(factor)
    totals = np.zeros(n_w)
    cap = 64
    work = scratch(n, cap, n_w)
    logs = _log_counts(cap)
    events = np.empty(cap, np.int64)
    n_in = np.zeros(n_w, np.int64)
    for r in range(seeds.size):
        np.random.seed(seeds[r])
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
                work = scratch(n, cap, n_w)
                logs = _log_counts(cap)
            for _ in range(k):
                u = np.random.random() * daily_total[d]
                j = np.searchsorted(daily_cum[d], u, side="right")
                if j >= n:
                    j = n - 1
                events[m] = j
                m += 1
            while w < n_w and windows[w] == d + 1:
                n_in[w] = m
                w += 1
        out[r] = _max_sparse(
            events, n_in, nn, base, logbase, factor, logfactor, totals, logs, False, work
        )


@njit(cache=True, parallel=True)
def poisson_null_maxima(
    daily_cum: np.ndarray,
    daily_total: np.ndarray,
    nn: np.ndarray,
    base: np.ndarray,
    factor: np.ndarray,
    windows: np.ndarray,
    seeds: np.ndarray,
) -> np.ndarray:
    """Maximum score of one replica per seed, each drawn from the expectation (no surge).

    Each day's events are Poisson(total) in number and placed by the day's expectation per
    cell (``daily_cum``: (D, n) cumulative expectation, day 0 the most recent; ``daily_total``:
    (D,)); ``windows`` are the window lengths in days, ascending. Replicas run in parallel in
    chunks, replica ``r`` from its own seed ``seeds[r]``: the result does not depend on the
    threads.
    """
    out = np.zeros(seeds.size)
    chunks = _chunks(seeds.size)
    for c in prange(chunks.size - 1):
        lo, hi = chunks[c], chunks[c + 1]
        _poisson_replicas(
            daily_cum, daily_total, nn, base, factor, windows, seeds[lo:hi], out[lo:hi]
        )
    return out


@njit(cache=True)
def _permutation_replicas(
    cells: np.ndarray,
    n_in_window: np.ndarray,
    n_cells: int,
    nn: np.ndarray,
    base: np.ndarray,
    factor: np.ndarray,
    total: float,
    seeds: np.ndarray,
    out: np.ndarray,
) -> None:
    """``permutation_null_maxima`` of one chunk of replicas, into ``out`` (one per seed), with
    its own working arrays."""
    n_ev = cells.size
    n_w = n_in_window.size
    logbase, logfactor = np.log(base), np.log(factor)
    totals = np.full(n_w, total)
    m_max = n_in_window[n_w - 1]
    idx = np.arange(n_ev)
    swaps = np.empty(m_max, np.int64)
    events = np.empty(m_max, np.int64)
    work = scratch(n_cells, m_max, n_w)
    logs = _log_counts(m_max)
    for r in range(seeds.size):
        np.random.seed(seeds[r])
        for a in range(m_max):
            b = a + np.random.randint(0, n_ev - a)
            swaps[a] = b
            tmp = idx[a]
            idx[a] = idx[b]
            idx[b] = tmp
            events[a] = cells[idx[a]]
        out[r] = _max_sparse(
            events, n_in_window, nn, base, logbase, factor, logfactor, totals, logs, True, work
        )
        for a in range(m_max - 1, -1, -1):
            b = swaps[a]
            tmp = idx[a]
            idx[a] = idx[b]
            idx[b] = tmp


@njit(cache=True, parallel=True)
def permutation_null_maxima(
    cells: np.ndarray,
    n_in_window: np.ndarray,
    n_cells: int,
    nn: np.ndarray,
    base: np.ndarray,
    factor: np.ndarray,
    total: float,
    seeds: np.ndarray,
) -> np.ndarray:
    """Maximum Kulldorff score of one replica per seed, with the events' days permuted.

    With the days shuffled among the events (locations and the number of events per day kept),
    the events of the last w days are a random sample, without replacement, of
    ``n_in_window[w]`` of all the events' cells; one partial Fisher-Yates shuffle per replica
    gives all windows (they are nested), undone afterwards so that every replica starts from
    the same order and depends on its own seed only (replicas run in parallel, in chunks).
    """
    out = np.zeros(seeds.size)
    chunks = _chunks(seeds.size)
    for c in prange(chunks.size - 1):
        lo, hi = chunks[c], chunks[c + 1]
        _permutation_replicas(
            cells, n_in_window, n_cells, nn, base, factor, total, seeds[lo:hi], out[lo:hi]
        )
    return out
