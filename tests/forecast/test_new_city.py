"""`vigil forecast` and the map on a city Vigil has never seen (issue 13, "any city").

The city is synthetic and ships with the test: a 6 km square around (43.70 N, 79.40 W) with a
2 km lake in the middle (a hole in the boundary polygon), whose incidents come from a portal-style
CSV with the date and the time in separate columns and one row per victim (the incident number
repeated). Nothing in Vigil knows this place: the boundary comes only from the file, the
projection from the data.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

from tests.commands.test_data_cli import data_dir  # noqa: F401  (the fixture)
from vigil.app.forecasts import surface_geojson
from vigil.app.surfaces import load_surface
from vigil.cli import app

runner = CliRunner()

LON0, LAT0 = -79.40, 43.70
#: degrees per km at this latitude
DLAT, DLON = 1 / 111.0, 1 / (111.0 * np.cos(np.radians(LAT0)))

MAPPING = """
name: newcity
time: {column: occ_date, time_column: occ_time, format: "%Y-%m-%d %H:%M", precision: minute}
lon: long
lat: lat
category: {value: assault}
incident_key: [event_id]
region: {name: New City, bbox: [-79.5, 43.6, -79.3, 43.8]}
"""


def _ring(half_km: float) -> list[list[float]]:
    return [
        [LON0 + sx * half_km * DLON, LAT0 + sy * half_km * DLAT]
        for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1))
    ]


def _city(tmp: Path) -> tuple[Path, Path, Path, int]:
    """(boundary file, CSV, mapping, number of distinct incidents inside the land)."""
    boundary = tmp / "newcity.geojson"
    poly = {"type": "Polygon", "coordinates": [_ring(3.0), _ring(1.0)[::-1]]}
    boundary.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [{"type": "Feature", "properties": {}, "geometry": poly}],
            }
        )
    )
    rng = np.random.default_rng(7)
    n = 3000
    # three hotspots on land and a uniform background over the whole square, lake included
    hot = rng.integers(0, 4, n)
    centres = np.array([[-2.0, -2.0], [2.0, 1.8], [-1.8, 2.2]])
    km = np.where(
        (hot < 3)[:, None],
        centres[np.minimum(hot, 2)] + rng.normal(0, 0.25, (n, 2)),
        rng.uniform(-2.95, 2.95, (n, 2)),
    )
    when = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.uniform(0, 730, n), unit="D")
    rows = pd.DataFrame(
        {
            "event_id": [f"E{i:05d}" for i in range(n)],
            "occ_date": when.strftime("%Y-%m-%d"),
            "occ_time": when.strftime("%H:%M"),
            "long": np.round(LON0 + km[:, 0] * DLON, 6),
            "lat": np.round(LAT0 + km[:, 1] * DLAT, 6),
            "victim": 1,
        }
    )
    second = rows.iloc[::5].assign(victim=2)  # every 5th incident had a second victim
    csv = tmp / "newcity.csv"
    pd.concat([rows, second]).sort_values(["event_id", "victim"]).to_csv(csv, index=False)
    mapping = tmp / "newcity.yaml"
    mapping.write_text(MAPPING)
    on_land = (np.abs(km) < 3).all(axis=1) & ~(np.abs(km) < 1).all(axis=1)
    return boundary, csv, mapping, int(on_land.sum())


@pytest.mark.usefixtures("data_dir")  # a fresh, empty data directory
def test_forecast_and_map_on_a_new_city_with_its_boundary(tmp_path: Path):
    boundary, csv, mapping, n_land = _city(tmp_path)
    res = runner.invoke(
        app, ["data", "import", str(csv), "--mapping", str(mapping), "--dataset", "newcity"]
    )
    assert res.exit_code == 0, res.output
    out = tmp_path / "f" / "newcity"
    args = ["forecast", "--dataset", "newcity", "--cell", "200", "--at", "2025-01-01"]
    res = runner.invoke(app, args + ["--boundary", str(boundary), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "boundary file newcity.geojson" in res.output
    # one row per incident: the victims' rows were folded on the incident number
    assert "3000 past incidents" in res.output

    frame = pd.read_csv(out.with_suffix(".csv"))
    # land: 36 km2 less the 4 km2 lake = 32 km2 = 800 cells of 200 m (plus edge slivers)
    assert 780 <= len(frame) <= 900
    surface = load_surface(out.with_suffix(".json"))
    assert np.asarray(surface.area_m2).sum() == pytest.approx(32e6, rel=0.02)
    # the lake is not in the study area: no cell lies wholly inside it
    cx, cy = np.asarray(frame["x"]), np.asarray(frame["y"])
    mx, my = np.median(cx), np.median(cy)
    assert not ((np.abs(cx - mx) < 700) & (np.abs(cy - my) < 700)).any()
    # the expected total is of the order of a week of this city's incidents
    weekly = n_land / (730 / 7)
    assert 0.5 * weekly < surface.risk.sum() < 2 * weekly
    # the top cells are at the planted hotspots
    top = surface.top(3)
    assert (np.hypot(top["x"] - mx, top["y"] - my) > 2000).all()

    # the surge scan ran with the forecast (exact times) and is kept with it
    scan = surface.params["surge"]
    assert "unavailable" not in scan and scan["n_replicas"] == 999

    # the map: WGS84 polygons inside the boundary file's outline, none in the lake
    gj = json.loads(surface_geojson(surface))
    assert gj["features"]
    outline = shapely.from_geojson(boundary.read_text())
    pts = np.array(
        [
            shapely.centroid(shapely.from_geojson(json.dumps(f["geometry"]))).coords[0]
            for f in gj["features"]
        ]
    )
    lon, lat = pts[:, 0], pts[:, 1]
    assert (np.abs(lon - LON0) < 3.2 * DLON).all() and (np.abs(lat - LAT0) < 3.2 * DLAT).all()
    lake = (np.abs(lon - LON0) < 0.8 * DLON) & (np.abs(lat - LAT0) < 0.8 * DLAT)
    assert not lake.any()
    assert shapely.intersects(outline, shapely.points(pts)).mean() > 0.9
