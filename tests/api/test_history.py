"""An area's monthly history, checked against a direct count of the same real points
(police.uk London 2022 serious violence, see _fixtures) inside the cell's square."""

from __future__ import annotations

import pytest

from tests.api import _fixtures
from vigil.api.history import monthly_counts


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
