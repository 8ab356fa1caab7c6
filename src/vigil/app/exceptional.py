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
(``vigil.impact.guardrails.evidence_test``), and the case JSON shows it (``app.snapshot_facts``);
none of them computes its own.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import shapely

from vigil.errors import ModelInputError
from vigil.forecast.surface import RiskSurface
from vigil.forecast.surge import exceptional_figure, surge_scan
from vigil.geo.grid import Grid
from vigil.impact.figure import figure_in_words

__all__ = ["attach_scan", "case_area_ids", "figure_in_words", "freeze_figure"]

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
