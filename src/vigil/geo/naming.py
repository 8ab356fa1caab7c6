"""Place names for forecast areas, from the boundary layers we ship (no gazetteer, no network).

A forecast area is a grid cell with an id like ``r52c47``: exact, but it tells a commander
nothing. People place an area by its ward and borough, so each area is named after the ward
(and that ward's borough) that covers most of it, followed by the cell reference that keeps
it exact: "Coldharbour ward, Lambeth — 250 m cell 52/47". Where no ward layer covers the area
(another city, or a cell outside every ward) the name is the cell reference alone: a place
name is never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

#: between the place and the cell reference
DASH = " — "


@dataclass(frozen=True)
class AreaName:
    """What a person reads for one forecast area."""

    area_id: str
    #: the ward covering most of the area, when a ward layer covers it at all
    ward: str | None
    #: that ward's borough
    borough: str | None
    #: the exact reference: "250 m cell 52/47" for grid cells, else the area id
    reference: str

    @property
    def place(self) -> str | None:
        """ "Coldharbour ward, Lambeth", or None when no ward covers the area."""
        if self.ward is None:
            return None
        return f"{self.ward} ward" + (f", {self.borough}" if self.borough else "")

    @property
    def label(self) -> str:
        """The place and the exact reference, or the reference alone."""
        return f"{self.place}{DASH}{self.reference}" if self.place else self.reference


def cell_reference(row: int, col: int, cell_m: float) -> str:
    """A grid cell as a person reads it: size, then row/column of the grid's numbering."""
    return f"{cell_m:g} m cell {row}/{col}"


def name_areas(
    area_ids: np.ndarray,
    polygons: np.ndarray,
    references: list[str],
    wards: gpd.GeoDataFrame | None,
    borough_field: str = "BOROUGH",
) -> list[AreaName]:
    """Name each area after the ward (``wards``: ``name`` and ``borough_field`` columns, same
    CRS as ``polygons``) with the largest overlap; areas no ward touches get no place.

    Vectorised: one STRtree query of every area against the wards, then the overlap areas of
    the candidate pairs only (a 26,000-cell London grid takes well under a second).
    """
    n = len(area_ids)
    ward_of = np.full(n, -1)
    if wards is not None and len(wards) and n:
        tree = shapely.STRtree(wards.geometry.to_numpy())
        ai, wi = tree.query(polygons, predicate="intersects")
        if ai.size:
            overlap = shapely.area(
                shapely.intersection(polygons[ai], wards.geometry.to_numpy()[wi])
            )
            # per area, the pair with the largest overlap: sort by area then overlap descending
            order = np.lexsort((-overlap, ai))
            ai, wi, overlap = ai[order], wi[order], overlap[order]
            first = np.ones(ai.size, bool)
            first[1:] = ai[1:] != ai[:-1]
            keep = first & (overlap > 0)
            ward_of[ai[keep]] = wi[keep]
    names = wards["name"].astype(str).to_numpy() if wards is not None else np.array([])
    boroughs = (
        wards[borough_field].astype(str).to_numpy()
        if wards is not None and borough_field in wards.columns
        else None
    )
    out = []
    for i in range(n):
        w = int(ward_of[i])
        out.append(
            AreaName(
                area_id=str(area_ids[i]),
                ward=str(names[w]) if w >= 0 else None,
                borough=str(boroughs[w]) if w >= 0 and boroughs is not None else None,
                reference=references[i],
            )
        )
    return out
