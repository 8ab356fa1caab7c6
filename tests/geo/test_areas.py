"""Area polygons and point-in-polygon assignment on the real London boundary files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from vigil.data.datasets import load_london_2022
from vigil.errors import DataError
from vigil.geo.areas import (
    assign_points,
    load_areas,
    london_boroughs,
    london_boundary,
    london_lsoas,
    london_wards,
)
from vigil.geo.projection import BNG, to_metres


def test_ready_loaders_counts_and_crs(shared_data: Path) -> None:
    # counts from london-geography/README.txt and london-boundaries-extra/README.txt
    boroughs, lsoas, wards = (
        london_boroughs(shared_data),
        london_lsoas(shared_data),
        london_wards(shared_data),
    )
    assert (len(boroughs), len(lsoas), len(wards)) == (33, 4835, 654)
    for gdf in (boroughs, lsoas, wards):
        assert gdf.crs.to_epsg() == 27700
        assert gdf["area_id"].is_unique
        assert list(gdf.columns[:2]) == ["area_id", "name"]
    assert "Westminster" in set(boroughs["name"])
    assert lsoas["area_id"].str.match(r"^E01\d{6}$").all()


def test_london_boundary_is_greater_london(shared_data: Path) -> None:
    b = london_boundary(shared_data)
    # Greater London is about 1,572 km^2 (1,595 km^2 with the Thames to mean low water)
    assert 1_550e6 < b.area < 1_620e6
    assert london_boundary(shared_data) is b  # cached


def test_assign_points_agrees_with_published_lsoa(shared_data: Path) -> None:
    # a 20,000-row slice of met-street-2022, whose lsoa11cd_pip column was computed by
    # point-in-polygon against the same LSOA file (README.txt)
    df = load_london_2022(shared_data).iloc[::40].head(20_000)
    x, y = to_metres(df["lon"], df["lat"], BNG)
    ids = assign_points(x, y, london_lsoas(shared_data))
    agree = (ids == df["area_code"].to_numpy(dtype=object)).mean()
    assert agree > 0.999


def test_assign_points_outside_and_nan(shared_data: Path) -> None:
    boroughs = london_boroughs(shared_data)
    # Trafalgar Square (Westminster), Oxford (outside London), and a missing point
    lon, lat = np.array([-0.1281, -1.2577, np.nan]), np.array([51.5080, 51.7520, np.nan])
    x, y = to_metres(lon, lat, BNG)
    ids = assign_points(x, y, boroughs)
    name = dict(zip(boroughs["area_id"], boroughs["name"], strict=True))
    assert name[ids[0]] == "Westminster"
    assert ids[1] is None and ids[2] is None


def test_load_areas_geojson_reprojects_to_utm(tmp_path: Path) -> None:
    # Two squares in Chicago (lon/lat): no UK, so the working CRS is UTM zone 16N
    feats = []
    for i, (lon, lat) in enumerate([(-87.70, 41.80), (-87.60, 41.90)]):
        d = 0.01
        ring = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
        feats.append(
            {
                "type": "Feature",
                "properties": {"dist": str(i + 1), "label": f"D{i + 1}"},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    p = tmp_path / "areas.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    gdf = load_areas(p, "dist", "label")
    assert gdf.crs.to_epsg() == 32616
    assert list(gdf["name"]) == ["D1", "D2"]
    x, y = to_metres(np.array([-87.695]), np.array([41.805]), "EPSG:32616")
    assert list(assign_points(x, y, gdf)) == ["1"]


def test_load_areas_errors_name_file_and_field(shared_data: Path, tmp_path: Path) -> None:
    path = shared_data / "london-boundaries-extra" / "london_boroughs.gpkg"
    with pytest.raises(DataError) as err:
        load_areas(path, "no_such_field")
    assert err.value.field == "no_such_field" and "london_boroughs.gpkg" in str(err.value)
    with pytest.raises(DataError, match="repeated"):
        load_areas(path, "ons_inner")
    with pytest.raises(DataError, match="not found"):
        load_areas(tmp_path / "missing.gpkg", "id")
