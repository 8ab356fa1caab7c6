"""The area an assessment is about: an LSOA, a ward or a free polygon, with the share of each
LSOA's residents it holds.

Every indicator counts residents by LSOA, so an area is carried as its geometry (British National
Grid) plus LSOA weights: 1 for whole LSOAs (an LSOA; a 2014-scheme ward = the LSOAs whose
interior point lies in it), the share of each LSOA's land inside a free polygon (residents
assumed spread evenly: no output-area geometry is available).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from vigil.errors import VigilError
from vigil.impact.sources import LSOA_SHP, WARDS_ZIP, lsoa_boundaries, ward_boundaries
from vigil.settings import shared_data_dir


class AreaNotFound(VigilError):
    """The LSOA or ward code is not a London area in the boundary files."""


@dataclass(frozen=True)
class AreaSelection:
    """A chosen area: its geometry (BNG) and the share of each LSOA's residents it holds."""

    kind: str  # lsoa | ward | polygon
    code: str | None
    name: str | None
    geometry: BaseGeometry
    #: LSOA11CD -> weight (1 for whole LSOAs; land share inside a free polygon)
    lsoa_weights: pd.Series

    @property
    def whole_lsoas(self) -> bool:
        return self.kind in ("lsoa", "ward")

    @property
    def km2(self) -> float:
        return float(self.geometry.area) / 1e6


def select_area(
    *,
    lsoa: str | None = None,
    ward: str | None = None,
    polygon: BaseGeometry | str | None = None,
    name: str | None = None,
    shared: Path | None = None,
) -> AreaSelection:
    """The area given by exactly one of an LSOA-2011 code, a 2014-scheme ward code or a polygon
    (a shapely geometry or WKT, in EPSG:27700)."""
    given = [v for v in (lsoa, ward, polygon) if v is not None]
    if len(given) != 1:
        raise ValueError("give exactly one of lsoa, ward or polygon")
    root = shared_data_dir(shared)
    lsoas = lsoa_boundaries(root)
    if lsoa is not None:
        code = lsoa.strip().upper()
        if code not in lsoas.index:
            raise AreaNotFound(f"LSOA {lsoa!r} is not a London LSOA (2011) in {LSOA_SHP}")
        row = lsoas.loc[code]
        weights = pd.Series({code: 1.0})
        return AreaSelection("lsoa", code, str(row["LSOA11NM"]), row.geometry, weights)
    if ward is not None:
        wards = ward_boundaries(root)
        code = ward.strip().upper()
        if code not in wards.index:
            raise AreaNotFound(f"ward {ward!r} is not a London ward (2014 scheme) in {WARDS_ZIP}")
        wrow = wards.loc[code]
        inside = shapely.contains(wrow.geometry, lsoas.geometry.representative_point().values)
        members = lsoas.index[np.asarray(inside)]
        if len(members) == 0:
            raise AreaNotFound(f"ward {code} contains no LSOA interior point")
        geom = shapely.union_all(lsoas.loc[members].geometry.values)
        label = f"{wrow['NAME']} ({wrow['BOROUGH']})"
        return AreaSelection("ward", code, label, geom, pd.Series(1.0, index=list(members)))
    geom = shapely.from_wkt(polygon) if isinstance(polygon, str) else polygon
    if geom is None or geom.is_empty or geom.area <= 0:
        raise ValueError("the polygon is empty or has no area")
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    cand = lsoas.iloc[lsoas.sindex.query(geom, predicate="intersects")]
    share = shapely.area(shapely.intersection(cand.geometry.values, geom)) / shapely.area(
        cand.geometry.values
    )
    weights = pd.Series(share, index=cand.index)
    weights = weights[weights > 0]
    if weights.empty:
        raise AreaNotFound("the polygon lies outside London's LSOAs (coordinates must be BNG)")
    return AreaSelection("polygon", None, name, geom, weights)


def points_in_area(area: AreaSelection, df: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``df`` (columns ``lsoa``, ``x``, ``y``) that fall in ``area``: by LSOA code
    for whole LSOAs, by point-in-polygon (BNG) for a free polygon."""
    if area.whole_lsoas:
        return df[df["lsoa"].isin(area.lsoa_weights.index)]
    ok = np.isfinite(df["x"].to_numpy())
    sub = df[ok]
    return sub[shapely.contains_xy(area.geometry, sub["x"].to_numpy(), sub["y"].to_numpy())]
