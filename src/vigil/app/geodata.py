"""Area outlines for the map, as compact WGS84 GeoJSON built once per process."""

from __future__ import annotations

import json
from pathlib import Path

import shapely

from vigil.geo.areas import london_boroughs, london_wards

#: simplification tolerance in metres: invisible at borough scale, a tenth of the bytes
SIMPLIFY_M = 25.0


def borough_geojson(shared_data: Path) -> bytes:
    """London's 33 borough outlines (``name`` only), simplified, in WGS84."""
    frame = london_boroughs(shared_data)[["name", "geometry"]].copy()
    frame["geometry"] = frame.geometry.simplify(SIMPLIFY_M)
    data = json.loads(frame.to_crs("EPSG:4326").to_json(drop_id=True))
    return json.dumps(data, separators=(",", ":")).encode()


#: ward outlines: finer (they are drawn from street scale), coordinates kept to ~1 m
WARD_SIMPLIFY_M = 10.0
WARD_GRID_DEG = 1e-5


def ward_geojson(shared_data: Path) -> bytes:
    """London's 654 wards of the 2014 scheme (``name`` and ``borough``), simplified, WGS84:
    the map draws and names them when zoomed in to street scale."""
    frame = london_wards(shared_data)[["name", "BOROUGH", "geometry"]].copy()
    frame = frame.rename(columns={"BOROUGH": "borough"})
    frame["geometry"] = frame.geometry.simplify(WARD_SIMPLIFY_M)
    frame = frame.to_crs("EPSG:4326")
    frame["geometry"] = shapely.set_precision(frame.geometry.to_numpy(), WARD_GRID_DEG)
    data = json.loads(frame.to_json(drop_id=True))
    return json.dumps(data, separators=(",", ":")).encode()
