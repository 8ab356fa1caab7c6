"""The case area: a polygon in British National Grid metres, drawn or built from chosen cells.

Why validate hard: the area decides where armed officers stand, which borough commander must be
consulted, and which deployments count against the guardrails. A self-intersecting or
mis-projected polygon (WGS84 degrees pasted as metres) would silently put all three wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import shapely
from shapely.geometry.base import BaseGeometry

from vigil.errors import VigilError
from vigil.forecast.surface import RiskSurface
from vigil.settings import get_settings

#: British National Grid's valid extent (metres); London sits well inside it
BNG_BOUNDS = (0.0, 0.0, 700_000.0, 1_300_000.0)


class AreaError(VigilError):
    """The case area is not a valid polygon in EPSG:27700, or its cells are unknown."""


@dataclass(frozen=True)
class CaseArea:
    wkt: str
    cells: tuple[str, ...]
    boroughs: tuple[str, ...]

    @property
    def borough(self) -> str | None:
        return self.boroughs[0] if self.boroughs else None


def parse_polygon(wkt: str, field: str = "area") -> BaseGeometry:
    try:
        geom = shapely.from_wkt(wkt)
    except shapely.errors.GEOSException as exc:
        raise AreaError(f"field '{field}': not valid WKT ({exc})") from None
    if geom is None or geom.is_empty:
        raise AreaError(f"field '{field}': the area is empty")
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise AreaError(
            f"field '{field}': expected a Polygon or MultiPolygon, got {geom.geom_type}"
        )
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        raise AreaError(f"field '{field}': invalid polygon ({reason})")
    xmin, ymin, xmax, ymax = geom.bounds
    bx0, by0, bx1, by1 = BNG_BOUNDS
    if xmin < bx0 or ymin < by0 or xmax > bx1 or ymax > by1:
        raise AreaError(
            f"field '{field}': coordinates {geom.bounds} are outside British National Grid "
            "(EPSG:27700, metres); longitude/latitude must be projected first"
        )
    if geom.area < 1.0:
        raise AreaError(f"field '{field}': the area is smaller than 1 square metre")
    return geom


def cells_polygon(cells: Sequence[str], surface: RiskSurface) -> BaseGeometry:
    """The union of the chosen areas of the evidence surface."""
    ids = [str(a) for a in surface.area_id]
    index = {a: i for i, a in enumerate(ids)}
    unknown = [c for c in cells if str(c) not in index]
    if unknown:
        raise AreaError(
            f"field 'cells': {unknown[:5]} not areas of the evidence surface ({surface.model})"
        )
    polys = surface.polygons()
    return shapely.union_all([polys[index[str(c)]] for c in cells])


@lru_cache(maxsize=1)
def _borough_shapes() -> tuple[tuple[str, BaseGeometry], ...]:
    """Borough polygons (EPSG:27700): vigil.geo.areas' London boroughs, else (that file missing
    or unreadable) the ONS LAD file."""
    import geopandas as gpd

    from vigil.geo import areas

    frame = None
    try:
        frame = areas.london_boroughs()
    except (VigilError, OSError):
        path = (
            get_settings().shared_data
            / "london-geography"
            / "boundaries"
            / "london-2021-lad22-gen20.shp"
        )
        if path.exists():
            frame = gpd.read_file(path)
    if frame is None:
        return ()
    if frame.crs is not None and frame.crs.to_epsg() != 27700:
        frame = frame.to_crs(27700)
    name_col = next(
        (c for c in ("name", "borough", "LAD22NM", "NAME", "lad22nm") if c in frame.columns), None
    )
    if name_col is None:
        return ()
    return tuple((str(n), g) for n, g in zip(frame[name_col], frame.geometry, strict=True))


def known_boroughs() -> tuple[str, ...]:
    """The names of the boroughs a case area can touch, sorted (empty: no boundaries installed)."""
    return tuple(sorted(name for name, _ in _borough_shapes()))


def boroughs_of(geom: BaseGeometry) -> tuple[str, ...]:
    """Boroughs the area overlaps, largest overlap first (the first is the lead borough)."""
    overlaps = []
    for name, shape in _borough_shapes():
        if shape.intersects(geom):
            share = shape.intersection(geom).area
            if share > 0:
                overlaps.append((share, name))
    return tuple(name for _, name in sorted(overlaps, key=lambda t: (-t[0], t[1])))


def build_area(
    wkt: str | None,
    cells: Sequence[str] | None,
    evidence: RiskSurface | None,
    borough: str | None = None,
) -> CaseArea:
    """Validate the drawn polygon and/or the chosen cells; find the boroughs it touches.

    Given cells only, the area is their union. ``borough`` (optional) names the lead borough
    when the boundary files are unavailable or the caller knows better; when the boundaries are
    installed it must be one of the boroughs the area overlaps (a borough claimed for an area
    outside it would put the case in the wrong commander's hands).
    """
    cells = tuple(str(c) for c in (cells or ()))
    if cells and evidence is None:
        raise AreaError("field 'cells': cells need an evidence surface to resolve them")
    if wkt is not None:
        geom = parse_polygon(wkt)
    elif cells and evidence is not None:
        geom = cells_polygon(cells, evidence)
        if evidence.crs.upper() not in ("EPSG:27700",):
            raise AreaError(f"field 'cells': the evidence surface is in {evidence.crs}, not 27700")
    else:
        raise AreaError("field 'area': give a polygon (WKT, EPSG:27700) or a set of cells")
    found = boroughs_of(geom)
    if borough is not None:
        if (found or _borough_shapes()) and borough not in found:
            raise AreaError(
                f"field 'borough': '{borough}' does not overlap the area "
                f"(it overlaps {list(found) or 'no borough'})"
            )
        found = (borough, *[b for b in found if b != borough])
    return CaseArea(wkt=shapely.to_wkt(geom, rounding_precision=2), cells=cells, boroughs=found)
