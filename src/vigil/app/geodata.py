"""Area outlines for the map, as compact WGS84 GeoJSON built once per process."""

from __future__ import annotations

import json
from pathlib import Path

from vigil.geo.areas import london_boroughs

#: simplification tolerance in metres: invisible at borough scale, a tenth of the bytes
SIMPLIFY_M = 25.0


def borough_geojson(shared_data: Path) -> bytes:
    """London's 33 borough outlines (``name`` only), simplified, in WGS84."""
    frame = london_boroughs(shared_data)[["name", "geometry"]].copy()
    frame["geometry"] = frame.geometry.simplify(SIMPLIFY_M)
    data = json.loads(frame.to_crs("EPSG:4326").to_json(drop_id=True))
    return json.dumps(data, separators=(",", ":")).encode()
