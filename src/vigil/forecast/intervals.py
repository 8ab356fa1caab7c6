"""Per-area intervals for expected counts: "expected 2.3, 90 % interval 0-5".

A forecast's risk is an expected count; what a commander can check afterwards is a count. The
interval is the central ``level`` range of the count's distribution: Poisson when the areas'
counts are no more variable than chance, negative binomial (variance ``mu + dispersion * mu^2``)
when they are overdispersed, as crime counts per small area often are (Osgood 2000).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from vigil.errors import ModelInputError


def count_interval(
    expected: float | np.ndarray, level: float = 0.9, dispersion: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds (whole counts) of the central ``level`` interval of the count."""
    if not 0 < level < 1:
        raise ModelInputError(f"interval level must be in (0, 1), got {level}")
    if dispersion < 0:
        raise ModelInputError(f"dispersion must be >= 0, got {dispersion}")
    mu = np.clip(np.asarray(expected, float), 0.0, None)
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    if dispersion == 0:
        lo, hi = stats.poisson.ppf(lo_q, mu), stats.poisson.ppf(hi_q, mu)
    else:
        size = 1.0 / dispersion
        p = size / (size + np.maximum(mu, 1e-300))
        lo, hi = stats.nbinom.ppf(lo_q, size, p), stats.nbinom.ppf(hi_q, size, p)
    lo = np.where(mu > 0, lo, 0.0)
    hi = np.where(mu > 0, hi, 0.0)
    return lo.astype(int), hi.astype(int)


def describe_expected(expected: float, level: float = 0.9, dispersion: float = 0.0) -> str:
    """The sentence a case shows for one area."""
    lo, hi = count_interval(expected, level, dispersion)
    return f"expected {expected:.1f}, {100 * level:g} % interval {int(lo)}-{int(hi)}"
