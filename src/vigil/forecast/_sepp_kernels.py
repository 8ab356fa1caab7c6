"""Compiled inner loops of the grid self-exciting point process.

With an exponential triggering kernel, the excitation an event receives from all earlier events
in its cell follows a two-term recursion, so one E-step is a single pass over the events sorted
by (cell, time): O(n), not O(n^2) pairs.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def em_pass(
    cell: np.ndarray, t: np.ndarray, mu: np.ndarray, theta: float, omega: float
) -> tuple[np.ndarray, float, float, float]:
    """Expected branching structure of events sorted by (cell, t).

    Returns per-cell sums of background probabilities, the total triggered probability, the
    triggered-probability-weighted sum of lags (for the omega update) and the log-likelihood's
    event term.
    """
    n = t.size
    bg = np.zeros(mu.size)
    trig = 0.0
    lag = 0.0
    loglik = 0.0
    a = 0.0  # sum over earlier j in the cell of exp(-omega (t_i - t_j))
    b = 0.0  # sum over earlier j of (t_i - t_j) exp(-omega (t_i - t_j))
    for i in range(n):
        c = cell[i]
        if i == 0 or cell[i - 1] != c:
            a = 0.0
            b = 0.0
        else:
            d = t[i] - t[i - 1]
            decay = np.exp(-omega * d)
            b = decay * (b + d * (a + 1.0))
            a = decay * (a + 1.0)
        excite = theta * omega * a
        lam = mu[c] + excite
        if lam <= 0.0:
            continue
        bg[c] += mu[c] / lam
        trig += excite / lam
        lag += theta * omega * b / lam
        loglik += np.log(lam)
    return bg, trig, lag, loglik
