"""Area outlines for the map, as compact WGS84 GeoJSON built once per process."""

from __future__ import annotations

import json
from pathlib import Path

from vigil.errors import DataError

#: simplification tolerance in metres: invisible at borough scale, a tenth of the bytes
SIMPLIFY_M = 25.0


def borough_frame(shared_data: Path):  # type: ignore[no-untyped-def]
    """London's 33 boroughs (EPSG:27700) with a ``name`` column."""
    try:
        from vigil.geo.areas import london_boroughs  # type: ignore[attr-defined]
    except ImportError:
        london_boroughs = None
    if london_boroughs is not None:
        frame = london_boroughs()
    else:
        import geopandas as gpd

        path = shared_data / "london-geography" / "boundaries" / "london-2021-lad22-gen20.shp"
        if not path.exists():
            raise DataError("borough boundaries not found", file=str(path))
        frame = gpd.read_file(path).rename(columns={"LAD22NM": "name", "LAD22CD": "code"})
    if "name" not in frame.columns:
        for candidate in ("LAD22NM", "NAME", "borough", "lad22nm"):
            if candidate in frame.columns:
                frame = frame.rename(columns={candidate: "name"})
                break
    return frame


def borough_geojson(shared_data: Path) -> bytes:
    frame = borough_frame(shared_data)
    frame = frame[["name", "geometry"]].copy()
    frame["geometry"] = frame.geometry.simplify(SIMPLIFY_M)
    data = json.loads(frame.to_crs("EPSG:4326").to_json(drop_id=True))
    return json.dumps(data, separators=(",", ":")).encode()
