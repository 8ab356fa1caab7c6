"""Place names of a forecast's areas, as every page shows them (the map, its top-areas table, a
case opened from it): :func:`describe_area` is the one way to name a forecast's area, and
:func:`area_place` names a case's own area the same way (the case page).

Names come from the shipped London wards (2014 scheme) and their boroughs when the surface is
on the British National Grid and the ward file is there; otherwise an area is called by its
exact cell reference (:mod:`vigil.geo.naming`). Named once per surface and kept beside it.
"""

from __future__ import annotations

import threading
import weakref
from functools import lru_cache
from pathlib import Path

import numpy as np

from vigil.errors import DataError, NotFound
from vigil.forecast.surface import RiskSurface
from vigil.geo.naming import AreaName, cell_reference, name_areas
from vigil.geo.projection import BNG

__all__ = ["AreaName", "area_names", "area_place", "describe_area"]

#: per surface, per shared-data folder (None: no ward layer), the names by area id
_NAMES: weakref.WeakKeyDictionary[RiskSurface, dict[str | None, dict[str, AreaName]]] = (
    weakref.WeakKeyDictionary()
)
_LOCK = threading.Lock()


def _references(surface: RiskSurface) -> list[str]:
    if surface.grid is None or len(surface.grid.active) != len(surface):
        return [str(a) for a in surface.area_id]
    rows, cols = surface.grid.rows_cols()
    cell = surface.grid.cell
    return [cell_reference(int(r), int(c), cell) for r, c in zip(rows, cols, strict=True)]


def _wards(shared: Path | None):  # -> GeoDataFrame | None
    """The shipped London wards (British National Grid), or None when the file is not there:
    the one place both namings load them from (cached by vigil.geo.areas)."""
    if shared is None:
        return None
    from vigil.geo.areas import LONDON_WARDS, london_wards

    if not (shared / LONDON_WARDS).exists():
        return None
    try:
        return london_wards(shared)
    except DataError:
        return None


def area_names(surface: RiskSurface, shared: Path | None) -> dict[str, AreaName]:
    """Every area of ``surface`` by id, named once per surface."""
    key = None if shared is None else str(shared)
    with _LOCK:
        hit = _NAMES.get(surface, {}).get(key)
    if hit is not None:
        return hit
    named = name_areas(
        np.asarray(surface.area_id),
        surface.polygons(),
        _references(surface),
        _wards(shared) if str(surface.crs).upper() == BNG else None,
    )
    names = {n.area_id: n for n in named}
    with _LOCK:
        _NAMES.setdefault(surface, {})[key] = names
    return names


def describe_area(surface: RiskSurface, area_id: str, shared: Path | None) -> AreaName:
    """The name people read for ``area_id`` of ``surface`` (for a case: its frozen evidence),
    e.g. "Coldharbour ward, Lambeth — 250 m cell 52/47"; NotFound for an unknown area."""
    name = area_names(surface, shared).get(str(area_id))
    if name is None:
        raise NotFound(f"area '{area_id}' is not in the forecast ({surface.model})")
    return name


@lru_cache(maxsize=1024)
def area_place(area_wkt: str, shared: Path | None) -> str | None:
    """The ward and borough a case's area (WKT, British National Grid) mostly lies in ("St
    James's ward, Westminster"), named as :func:`describe_area` names a forecast's areas; None
    when no ward covers it or the ward file is not there. Kept by WKT: an area is fixed once
    the case is opened."""
    import shapely

    wards = _wards(shared)
    if wards is None:
        return None
    (name,) = name_areas(np.array(["case"]), np.array([shapely.from_wkt(area_wkt)]), [""], wards)
    return name.place
