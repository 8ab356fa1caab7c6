"""Maps for the reports: borough outlines with deployment areas, and a case's evidence map.

Everything is drawn in British National Grid (metres) so areas keep their true shapes; the
borough outlines come from ``shared/data/london-geography`` (ONS LAD 2022, generalised 20 m).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from vigil.forecast.surface import RiskSurface
from vigil.reports.charts import data_uri

BOROUGHS_FILE = Path("london-geography") / "boundaries" / "london-2021-lad22-gen20.shp"


@lru_cache(maxsize=2)
def borough_shapes(shared: Path) -> tuple[tuple[str, BaseGeometry], ...]:
    """(name, polygon in EPSG:27700) for each London borough; empty when the file is absent."""
    import geopandas as gpd

    path = Path(shared) / BOROUGHS_FILE
    if not path.is_file():
        return ()
    frame = gpd.read_file(path).to_crs(27700)
    col = next(c for c in ("LAD22NM", "lad22nm", "NAME", "name") if c in frame.columns)
    return tuple((str(n), g) for n, g in zip(frame[col], frame.geometry, strict=True))


def _exteriors(geom: BaseGeometry) -> Iterator[Any]:
    """The outer ring (x, y) of each polygon in ``geom``; other parts are skipped."""
    for poly in getattr(geom, "geoms", [geom]):
        if poly.geom_type == "Polygon":
            yield poly.exterior.xy


def _draw_outline(ax, geom: BaseGeometry, **kw) -> None:  # type: ignore[no-untyped-def]
    for x, y in _exteriors(geom):
        ax.plot(x, y, **kw)


def _fill(ax, geom: BaseGeometry, **kw) -> None:  # type: ignore[no-untyped-def]
    for x, y in _exteriors(geom):
        ax.fill(x, y, **kw)


def borough_hours_map(shared: Path, hours_by_borough: dict[str, float], *, title: str) -> str:
    """Boroughs shaded by deployment hours (the public and oversight view: no exact areas)."""
    import matplotlib.pyplot as plt
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    shapes = borough_shapes(shared)
    fig, ax = plt.subplots(figsize=(6.0, 4.8))
    top = max(hours_by_borough.values(), default=0.0) or 1.0
    norm = Normalize(0, top)
    cmap = plt.get_cmap("Blues")
    for name, geom in shapes:
        h = hours_by_borough.get(name, 0.0)
        _fill(ax, geom, color=cmap(norm(h)) if h > 0 else "#f4f4f4", lw=0)
        _draw_outline(ax, geom, color="#777777", lw=0.4)
    sm = ScalarMappable(norm=norm, cmap=cmap)
    fig.colorbar(sm, ax=ax, shrink=0.6, label="deployment hours")
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(title, fontsize=10, loc="left")
    return data_uri(fig)


def deployments_map(shared: Path, areas: Sequence[tuple[str, BaseGeometry]], *, title: str) -> str:
    """Deployment areas (labelled by case) over the borough outlines: oversight only."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.0, 4.8))
    for _, geom in borough_shapes(shared):
        _draw_outline(ax, geom, color="#999999", lw=0.4)
    for label, geom in areas:
        _fill(ax, geom, color="#c0392b", alpha=0.8, lw=0)
        c = geom.centroid
        # areas are a few hundred metres across: mark them so they show at city scale
        ax.plot([c.x], [c.y], "o", ms=9, mfc="none", mec="#c0392b", mew=1.2)
        ax.annotate(label, (c.x, c.y), xytext=(5, 5), textcoords="offset points", fontsize=7)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(title, fontsize=10, loc="left")
    return data_uri(fig)


def evidence_map(surface: RiskSurface, area: BaseGeometry, *, margin_m: float = 2500.0) -> str:
    """The frozen forecast around the case area, with the area outlined (case file)."""
    import matplotlib.pyplot as plt

    x0, y0, x1, y1 = area.bounds
    box = (x0 - margin_m, y0 - margin_m, x1 + margin_m, y1 + margin_m)
    x = np.asarray(surface.x, float)
    y = np.asarray(surface.y, float)
    near = (x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])
    fig, ax = plt.subplots(figsize=(5.5, 4.6))
    if near.any():
        polys = surface.polygons()[near]
        risk = np.asarray(surface.risk, float)[near]
        top = float(risk.max()) or 1.0
        cmap = plt.get_cmap("YlOrRd")
        for g, r in zip(polys, risk, strict=True):
            _fill(ax, g, color=cmap(r / top), lw=0)
        sm = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(0, top))
        fig.colorbar(sm, ax=ax, shrink=0.7, label="expected incidents in the forecast window")
    _draw_outline(ax, area, color="#0057b8", lw=1.4)
    ax.set_xlim(box[0], box[2])
    ax.set_ylim(box[1], box[3])
    ax.set_aspect("equal")
    ax.set_xlabel("metres east (BNG)", fontsize=8)
    ax.set_ylabel("metres north (BNG)", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_title(f"Forecast ({surface.model}) and the case area", fontsize=10, loc="left")
    return data_uri(fig)


def parse_area(wkt: str) -> BaseGeometry:
    return shapely.from_wkt(wkt)
