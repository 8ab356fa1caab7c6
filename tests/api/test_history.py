"""An area's monthly history, checked against a direct count of the same real points
(police.uk London 2022 serious violence, see _fixtures) inside the cell's square."""

from __future__ import annotations

import pytest

from tests.api import _fixtures
from vigil.app.history import monthly_counts


def test_monthly_counts_match_a_direct_count_in_the_cell():
    surface = _fixtures.surface()
    df = _fixtures.violence()
    i = int(surface.ranking()[0])
    xmin, ymin, xmax, ymax = surface.polygons()[i].bounds
    history = monthly_counts(df, surface, i)
    assert [h["month"] for h in history] == [f"2022-0{m}" for m in range(1, 7)]
    inside = df[(df.x >= xmin) & (df.x < xmax) & (df.y >= ymin) & (df.y < ymax)]
    inside = inside[inside.time < "2022-07-01"]
    expected = inside.time.dt.strftime("%Y-%m").value_counts().sort_index()
    assert {h["month"]: h["count"] for h in history} == expected.to_dict()
    # the naive model's six-month window: a week's risk is the cell's count scaled to 7 days
    days = (surface.start - surface.start.replace(month=1)).days
    assert sum(h["count"] for h in history) * 7 / days == pytest.approx(surface.risk[i])


def test_map_layer_matches_the_surface():
    """The compact map layer carries every non-zero area with its risk, and its polygons sit
    within 1e-5 degree of the surface's own GeoJSON export."""
    import json

    import numpy as np

    from vigil.api.routers.forecasts import surface_geojson

    surface = _fixtures.surface()
    layer = json.loads(surface_geojson(surface))
    full = {f["properties"]["area_id"]: f for f in surface.to_geojson()["features"]}
    nonzero = {a for a, f in full.items() if f["properties"]["risk"] > 0}
    assert {f["properties"]["area_id"] for f in layer["features"]} == nonzero
    for f in layer["features"][:200]:
        ref = full[f["properties"]["area_id"]]
        assert f["properties"]["risk"] == pytest.approx(ref["properties"]["risk"], abs=1e-4)
        got = np.asarray(f["geometry"]["coordinates"][0])
        want = np.asarray(ref["geometry"]["coordinates"][0])
        assert np.abs(got - want).max() < 1e-5
    ranks = sorted(f["properties"]["rank"] for f in layer["features"])
    assert ranks[0] == 1
