"""An area's recorded history for the map's click-through: incidents of the forecast's
categories inside the area, month by month."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from vigil.app.context import AppContext, HistorySource, IncidentSource
from vigil.forecast.surface import RiskSurface
from vigil.geo.projection import with_xy


def area_history(ctx: AppContext, surface: RiskSurface, index: int) -> list[dict[str, Any]]:
    """``[{"month": "2022-01", "count": 3}, ...]`` before the forecast window; empty when the
    app has no history source (no incident store)."""
    if ctx.history_source is None:
        return []
    return ctx.history_source(surface, index)


def monthly_counts(
    incidents: pd.DataFrame, surface: RiskSurface, index: int
) -> list[dict[str, Any]]:
    """Counts per month of ``incidents`` (canonical table) that fall in area ``index`` of
    ``surface`` and before its window; every month between the first and last is listed, so a
    quiet month shows as zero rather than vanishing."""
    if incidents.empty:
        return []
    if "x" not in incidents.columns:
        incidents, _ = with_xy(incidents, surface.crs)
    before = incidents[incidents["time"] < surface.start.tz_localize(None)]
    if surface.grid is not None:
        inside = surface.grid.locate(before["x"].to_numpy(), before["y"].to_numpy()) == index
    else:
        poly = surface.polygons()[index]
        inside = shapely.contains_xy(poly, before["x"].to_numpy(), before["y"].to_numpy())
    months = before["time"].dt.to_period("M")
    if months.empty:
        return []
    counts = months[np.asarray(inside)].value_counts()
    span = pd.period_range(months.min(), months.max(), freq="M")
    return [{"month": str(p), "count": int(counts.get(p, 0))} for p in span]


def frame_history_source(incidents: pd.DataFrame) -> HistorySource:
    """History from an in-memory canonical incident table (already filtered to the target
    categories), e.g. the one the forecast was fitted on."""
    if "x" not in incidents.columns:
        raise ValueError("incidents need projected x/y columns (vigil.geo.projection.with_xy)")

    def source(surface: RiskSurface, index: int) -> list[dict[str, Any]]:
        return monthly_counts(incidents, surface, index)

    return source


#: months of history shown for an area
HISTORY_MONTHS = 12


def store_history_source(store_dir: Path) -> HistorySource:
    """History from the incident store: the categories the forecast learnt from
    (``surface.data_version["categories"]``), the twelve months before its window. The store is
    read once per surface and the projected table kept for the next click."""
    cache: dict[str, Any] = {"key": None, "frame": None}

    def source(surface: RiskSurface, index: int) -> list[dict[str, Any]]:
        from vigil.data.store import IncidentStore

        key = f"{surface.model}|{surface.start}|{surface.end}|{id(surface)}"
        if cache["key"] != key:
            categories = sorted((surface.data_version or {}).get("categories", {}) or [])
            start = surface.start.tz_localize(None) - pd.DateOffset(months=HISTORY_MONTHS)
            frame = IncidentStore(store_dir).query(
                categories=categories or None, start=start, end=surface.start.tz_localize(None)
            )
            cache["frame"] = with_xy(frame, surface.crs)[0] if len(frame) else frame
            cache["key"] = key
        return monthly_counts(cache["frame"], surface, index)

    return source


#: months of outcome history read for what an evaluation will be able to detect: the six
#: months it compares against, the window and the month after, and a margin
OUTCOME_MONTHS = 12


def store_incident_source(store_dir: Path) -> IncidentSource:
    """Victim-reported serious violence from the incident store, the twelve months before a
    surface's window, projected to its CRS (empty when the store holds none)."""

    def source(surface: RiskSurface) -> pd.DataFrame:
        from vigil.data.store import IncidentStore
        from vigil.data.taxonomy import SERIOUS_VIOLENCE

        end = surface.start.tz_localize(None)
        frame = IncidentStore(store_dir).query(
            categories=sorted(SERIOUS_VIOLENCE),
            start=end - pd.DateOffset(months=OUTCOME_MONTHS),
            end=end,
        )
        return with_xy(frame, surface.crs)[0] if len(frame) else frame

    return source


def frame_incident_source(incidents: pd.DataFrame) -> IncidentSource:
    """Outcome incidents from an in-memory canonical table (projected, any categories: the
    evaluation counts victim-reported serious violence only)."""
    if "x" not in incidents.columns:
        raise ValueError("incidents need projected x/y columns (vigil.geo.projection.with_xy)")

    def source(surface: RiskSurface) -> pd.DataFrame:
        return incidents[incidents["time"] < surface.start.tz_localize(None)]

    return source
