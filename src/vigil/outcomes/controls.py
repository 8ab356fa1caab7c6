"""Choosing comparable control areas from the forecast.

A deployment goes where predicted risk is high, so comparing it with the average area would
credit it with regression to the mean. Controls are therefore areas the *same forecast* rated
similarly (closest predicted risk on a log scale) that were not deployed to, and that lie farther
than an exclusion distance from every deployed area, so neither the patrol's own reach nor
displacement into the surrounding buffer contaminates them.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from vigil.forecast.surface import RiskSurface
from vigil.outcomes.did import OutcomeInputError

#: Controls per deployed area: enough to average out one control's bad month.
DEFAULT_PER_TREATED = 5
#: Controls must be at least this far (metres, centre to centre) from every deployed area.
DEFAULT_EXCLUSION_M = 1000.0


def choose_controls(
    surface: RiskSurface,
    treated: Iterable[str],
    *,
    excluded: Iterable[str] = (),
    per_treated: int = DEFAULT_PER_TREATED,
    exclusion_m: float = DEFAULT_EXCLUSION_M,
) -> list[str]:
    """Area ids of controls for ``treated``: similar predicted risk, not deployed, not near.

    ``excluded`` names further areas that may not serve (for example every area deployed to
    anywhere in the season, and their surroundings). Each treated area, highest risk first, takes
    its ``per_treated`` nearest eligible areas by ``|log risk|`` difference, without replacement,
    so the controls' risk distribution mirrors the treated one.
    """
    ids = np.asarray(surface.area_id).astype(str)
    index = {a: i for i, a in enumerate(ids)}
    treated_l = list(dict.fromkeys(str(t) for t in treated))
    unknown = [t for t in treated_l if t not in index]
    if unknown:
        raise OutcomeInputError(f"deployed area(s) {unknown[:5]} are not areas of the forecast")
    if not treated_l:
        raise OutcomeInputError("no deployed area to choose controls for")
    if per_treated < 1:
        raise OutcomeInputError(f"per_treated must be at least 1, got {per_treated}")
    ti = np.array([index[t] for t in treated_l])
    x = np.asarray(surface.x, float)
    y = np.asarray(surface.y, float)
    risk = np.asarray(surface.risk, float)
    # distance from each area to its nearest deployed area
    near = np.full(len(ids), np.inf)
    for i in ti:
        near = np.minimum(near, np.hypot(x - x[i], y - y[i]))
    eligible = near > exclusion_m
    eligible &= np.isfinite(risk) & (risk > 0)
    excl = {str(e) for e in excluded}
    if excl:
        eligible &= ~np.isin(ids, list(excl))
    logr = np.log(np.where(risk > 0, risk, np.nan))
    chosen: list[int] = []
    taken = ~eligible
    for i in ti[np.argsort(-risk[ti], kind="stable")]:
        if not np.isfinite(logr[i]):
            continue
        gap = np.where(taken, np.inf, np.abs(logr - logr[i]))
        order = np.argsort(gap, kind="stable")[:per_treated]
        order = order[np.isfinite(gap[order])]
        taken[order] = True
        chosen.extend(int(o) for o in order)
    if not chosen:
        raise OutcomeInputError(
            f"no eligible control area: every area with predicted risk is deployed, excluded "
            f"or within {exclusion_m:.0f} m of a deployed area"
        )
    return [str(ids[c]) for c in chosen]


def buffer_areas(
    surface: RiskSurface,
    treated: Iterable[str],
    buffer_m: float,
) -> list[str]:
    """Areas whose centre is within ``buffer_m`` of a deployed area's centre (not deployed)."""
    ids = np.asarray(surface.area_id).astype(str)
    tset = {str(t) for t in treated}
    mask_t = np.isin(ids, list(tset))
    x = np.asarray(surface.x, float)
    y = np.asarray(surface.y, float)
    near = np.full(len(ids), np.inf)
    for i in np.flatnonzero(mask_t):
        near = np.minimum(near, np.hypot(x - x[i], y - y[i]))
    return [str(a) for a in ids[(near <= buffer_m) & ~mask_t]]
