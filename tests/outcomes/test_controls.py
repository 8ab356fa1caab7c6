"""Control areas from the March 2022 London forecast (see conftest for the slice)."""

from __future__ import annotations

import numpy as np
import pytest

from vigil.outcomes.controls import buffer_areas, choose_controls
from vigil.outcomes.did import OutcomeInputError


def test_controls_are_similar_undeployed_and_not_near(march_surface):
    s = march_surface
    ids = np.asarray(s.area_id).astype(str)
    treated = [str(ids[i]) for i in s.ranking()[[0, 15, 60]]]
    ctrl = choose_controls(s, treated, per_treated=5, exclusion_m=1000)
    assert len(ctrl) == 15 and len(set(ctrl)) == 15
    assert not set(ctrl) & set(treated)
    pos = {a: i for i, a in enumerate(ids)}
    for c in ctrl:
        d = min(np.hypot(s.x[pos[c]] - s.x[pos[t]], s.y[pos[c]] - s.y[pos[t]]) for t in treated)
        assert d > 1000
    # similar predicted risk: the controls' median risk within 25 % of the treated median
    t_risk = np.median([s.risk[pos[t]] for t in treated])
    c_risk = np.median([s.risk[pos[c]] for c in ctrl])
    assert abs(np.log(c_risk / t_risk)) < np.log(1.25)
    # ... and far closer than a random area would be
    assert c_risk > 10 * np.median(s.risk)


def test_excluded_areas_are_never_controls(march_surface):
    s = march_surface
    ids = np.asarray(s.area_id).astype(str)
    treated = [str(ids[s.ranking()[0]])]
    first = choose_controls(s, treated, per_treated=3)
    again = choose_controls(s, treated, per_treated=3, excluded=first)
    assert not set(first) & set(again)


def test_buffer_is_the_ring_around_deployed_areas(march_surface, london_grid):
    s = march_surface
    t = str(np.asarray(s.area_id)[s.ranking()[0]])
    ring = buffer_areas(s, [t], 300.0)
    # 250 m cells: the 8 neighbours lie within 354 m; 300 m keeps the 4 edge neighbours
    assert 1 <= len(ring) <= 4 and t not in ring


def test_unknown_area_named(march_surface):
    with pytest.raises(OutcomeInputError, match="r-1c-1"):
        choose_controls(march_surface, ["r-1c-1"])
