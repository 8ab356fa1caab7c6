"""The one "exceptional" figure: how far above its own expected level an area is now.

A chronic hotspot is the norm; what must be shown before an exceptional deployment is that *now*
is unusual *here*. The measure is the prospective surge scan (vigil.forecast.surge): the ratio
of the count of the last days to the area's own expected level, over which period, with a
Monte Carlo p-value and a recurrence interval. It is computed once, here:

1. with the forecast (:func:`attach_scan`): the city-wide scan at the forecast's start, on the
   same incidents and cells, stored in the surface's ``params["surge"]`` (or, for month-only
   data, why it cannot be computed);
2. when a case is opened on that forecast (:func:`freeze_figure`): the figure of the case's
   cells, taken from that scan, written into the evidence's ``params["exceptional"]`` before the
   snapshot is frozen, so it is covered by the evidence digest.

The guardrail's evidence test and the community impact assessment read that frozen figure
(``vigil.impact.guardrails.evidence_test``), and the case JSON shows it (:func:`figure_of`);
none of them computes its own.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from typing import Any

import numpy as np
import pandas as pd
import shapely

from vigil.errors import ModelInputError
from vigil.forecast.surface import RiskSurface
from vigil.forecast.surge import exceptional_figure, surge_scan
from vigil.geo.grid import Grid

#: where the city-wide scan is kept in a forecast's params
SCAN_KEY = "surge"
#: where the case area's figure is kept in the frozen evidence's params
FIGURE_KEY = "exceptional"
#: Monte Carlo replicas of the scan (p-values down to 0.001, recurrence up to 1,000 days)
N_REPLICAS = 999


def attach_scan(
    surface: RiskSurface, incidents: pd.DataFrame, grid: Grid, n_replicas: int = N_REPLICAS
) -> RiskSurface:
    """``surface`` with the surge scan at its start in ``params["surge"]``.

    ``incidents`` are those the forecast learnt from (canonical table with x/y). Month-only data
    (police.uk) cannot say which days were unusual: the scan is then recorded as unavailable,
    with the reason, and the evidence test falls back on the forecast's own long-run level.
    """
    try:
        res = surge_scan(incidents, grid, surface.start.tz_localize(None), n_replicas=n_replicas)
        scan: dict[str, Any] = res.to_dict() | {"seconds": round(res.seconds, 2)}
    except ModelInputError as exc:
        scan = {"unavailable": str(exc)}
    return dataclasses.replace(surface, params=dict(surface.params) | {SCAN_KEY: scan})


def case_area_ids(surface: RiskSurface, cells: list[str] | None, area_wkt: str | None) -> set[str]:
    """The surface areas a case covers: its named cells, or those its polygon overlaps."""
    if cells:
        return {str(c) for c in cells}
    if not area_wkt:
        return set()
    hit = shapely.intersects(surface.polygons(), shapely.from_wkt(area_wkt))
    return {str(a) for a in np.asarray(surface.area_id)[hit]}


def freeze_figure(
    surface: RiskSurface, cells: list[str] | None, area_wkt: str | None
) -> RiskSurface:
    """The evidence to freeze: ``surface`` with the case area's figure in
    ``params["exceptional"]`` (unchanged when the forecast carries no scan)."""
    scan = surface.params.get(SCAN_KEY)
    if not isinstance(scan, dict):
        return surface
    if "unavailable" in scan:
        figure: dict[str, Any] = {"found": False, "unavailable": scan["unavailable"]}
    else:
        figure = exceptional_figure(scan, case_area_ids(surface, cells, area_wkt))
    return dataclasses.replace(surface, params=dict(surface.params) | {FIGURE_KEY: figure})


@functools.lru_cache(maxsize=256)
def figure_of(evidence_json: str | None) -> dict[str, Any] | None:
    """The frozen figure of a case's evidence snapshot, or None (no evidence, or none frozen).

    Cached: the snapshot is immutable (digest-checked) and parsing a city's surface on every
    view of the case would cost more than the rest of the view."""
    if not evidence_json:
        return None
    params = json.loads(evidence_json).get("params") or {}
    figure = params.get(FIGURE_KEY)
    return figure if isinstance(figure, dict) else None


def figure_in_words(figure: dict[str, Any] | None, policy: Any) -> dict[str, Any]:
    """The frozen figure as the case page and the "check your answers" page show it, beside
    the guardrail's surge test on the same numbers (``policy``: the GuardrailPolicy): the
    ratio ``evidence_test`` uses, its p-value against ``SURGE_ALPHA`` and the period. Keys:
    ``ratio`` (text, '2.80' or ''), ``summary``, ``period``, ``p_value``, ``meets`` (True,
    False, or None when there is no figure to test) and ``test`` (the test in words)."""
    from vigil.impact.guardrails import SURGE_ALPHA
    from vigil.localtime import london

    need = f"at least {policy.min_ratio_to_own_history:g} times, p at most {SURGE_ALPHA:g}"
    if not figure:
        return {
            "ratio": "",
            "summary": "No figure was frozen with the evidence (no forecast, or one made "
            "before the surge scan existed)",
            "period": "",
            "p_value": "",
            "meets": None,
            "test": f"The guardrail cannot test exceptionality ({need})",
        }
    if "ratio" not in figure:
        return {
            "ratio": "",
            "summary": f"Not computed: {figure.get('unavailable', 'no scan with the forecast')}",
            "period": "",
            "p_value": "",
            "meets": None,
            "test": f"The guardrail falls back on the forecast's long-run level ({need})",
        }
    ratio = float(figure["ratio"])
    p_value = float(figure["p_value"])
    meets = ratio >= policy.min_ratio_to_own_history and p_value <= SURGE_ALPHA
    period = (
        f"{london(figure['start'], weekday=False)} to {london(figure['end'], weekday=False)} "
        f"({figure['days']} days)"
        if figure.get("found")
        else "no unusual cluster touches the area in the days scanned"
    )
    return {
        "ratio": f"{ratio:.2f}",
        "summary": f"{ratio:.2f} times the area's own expected level",
        "period": period,
        "p_value": f"{p_value:.3g} (such a surge would arise by chance about once in "
        f"{float(figure.get('recurrence_days', 1.0)):.0f} days)",
        "meets": meets,
        "test": ("Meets" if meets else "Does not meet") + f" the guardrail's surge test ({need})",
    }
