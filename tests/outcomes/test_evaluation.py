"""Month-level evaluation of a simulated season on real London 2022 serious violence.

No database here: the season is planned straight from the March 2022 forecast (see conftest);
tests/outcomes/test_season.py runs the same through the case workflow.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vigil.outcomes.did import OutcomeInputError, Verdict
from vigil.outcomes.evaluation import DeploymentWindow, evaluate_deployments
from vigil.outcomes.simulate import inject_effect, plan_season

MONTHS = [f"2022-{m:02d}" for m in range(3, 12)]
YEAR = {"study_start": pd.Timestamp("2022-01-01"), "study_end": pd.Timestamp("2023-01-01")}


@pytest.fixture(scope="module")
def windows(march_surface):
    plan = plan_season(march_surface, MONTHS)
    return [DeploymentWindow(p.label, (p.area_id,), p.start, p.end) for p in plan]


def test_plan_is_spread_out_and_one_a_month(march_surface, windows):
    assert [w.start.strftime("%Y-%m") for w in windows] == MONTHS
    pos = {a: i for i, a in enumerate(np.asarray(march_surface.area_id).astype(str))}
    xy = np.array(
        [
            (march_surface.x[pos[w.area_ids[0]]], march_surface.y[pos[w.area_ids[0]]])
            for w in windows
        ]
    )
    gaps = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    assert gaps[~np.eye(len(xy), dtype=bool)].min() > 2500
    assert all(w.end - w.start == pd.Timedelta(hours=8) for w in windows)


def test_injected_reduction_is_recovered(london_sv, march_surface, windows):
    inj = inject_effect(london_sv, march_surface, windows, 0.4, seed=11)
    assert inj.eligible > 500 and abs(inj.realised_fraction - 0.4) < 0.05
    ev = evaluate_deployments(inj.incidents, march_surface, windows, **YEAR)
    assert ev.did.verdict is Verdict.REDUCTION
    assert ev.did.covers(0.6), ev.did
    assert ev.resolution == "M" and "known only to their month" in ev.note
    assert len(ev.controls) == 5 * len(windows)
    assert not set(ev.controls) & (set(ev.treated) | set(ev.buffer))


def test_no_effect_where_none_was_injected(london_sv, march_surface, windows):
    inj = inject_effect(london_sv, march_surface, windows, 0.0, seed=11)
    assert inj.removed == 0 and len(inj.incidents) == len(london_sv)
    ev = evaluate_deployments(inj.incidents, march_surface, windows, **YEAR)
    assert ev.did.verdict is Verdict.NO_DETECTABLE_EFFECT
    assert ev.did.covers(1.0), ev.did


def test_displacement_into_the_buffer_shows_in_the_wdq(london_sv, march_surface, windows):
    """The same 40 % taken from the deployed cells, once removed and once moved 375 m east into
    the buffer: the moved version must read as displacement, with a smaller net effect."""
    removed = inject_effect(london_sv, march_surface, windows, 0.4, seed=11)
    moved = inject_effect(london_sv, march_surface, windows, 0.4, seed=11, displace_m=375.0)
    assert moved.removed == removed.removed and len(moved.incidents) == len(london_sv)
    a = evaluate_deployments(removed.incidents, march_surface, windows, **YEAR).wdq
    b = evaluate_deployments(moved.incidents, march_surface, windows, **YEAR).wdq
    assert a.wdq is not None and b.wdq is not None
    # every moved incident lands in the buffer (one or two cells east, within 600 m)
    assert b.counts["buffer_after"] - a.counts["buffer_after"] == moved.removed
    assert b.wdq < a.wdq
    assert "displacement" in b.interpretation
    assert b.total_net_effect < a.total_net_effect


def test_same_seed_same_incidents(london_sv, march_surface, windows):
    a = inject_effect(london_sv, march_surface, windows[:2], 0.3, seed=5)
    b = inject_effect(london_sv, march_surface, windows[:2], 0.3, seed=5)
    assert a.removed == b.removed and a.incidents["incident_id"].equals(b.incidents["incident_id"])


def test_one_quiet_deployment_is_too_few_to_tell(london_sv, march_surface):
    """A single deployment in a low-risk cell: the report must say it cannot tell."""
    s = march_surface
    quiet = str(np.asarray(s.area_id)[s.ranking()[3000]])
    w = DeploymentWindow(
        "quiet", (quiet,), pd.Timestamp("2022-06-10 18:00"), pd.Timestamp("2022-06-11 02:00")
    )
    ev = evaluate_deployments(london_sv, s, [w], **YEAR)
    assert ev.did.verdict is Verdict.TOO_FEW
    assert "Too few incidents to tell" in ev.did.message


def test_bad_requests_are_named(london_sv, march_surface, windows):
    with pytest.raises(OutcomeInputError, match="outside the study period"):
        evaluate_deployments(
            london_sv,
            march_surface,
            windows,
            study_start=pd.Timestamp("2021-01-01"),
            study_end=pd.Timestamp("2021-06-01"),
        )
    with pytest.raises(OutcomeInputError, match="month-only"):
        evaluate_deployments(london_sv, march_surface, windows, resolution="D", **YEAR)
    with pytest.raises(OutcomeInputError, match="ends .* before it starts"):
        DeploymentWindow("x", ("r1c1",), pd.Timestamp("2022-06-02"), pd.Timestamp("2022-06-01"))
    with pytest.raises(OutcomeInputError, match="not areas of the forecast"):
        evaluate_deployments(
            london_sv,
            march_surface,
            [
                DeploymentWindow(
                    "x", ("nowhere",), pd.Timestamp("2022-06-01"), pd.Timestamp("2022-06-02")
                )
            ],
            **YEAR,
        )


def test_daily_evaluation_on_timed_chicago_data():
    """Chicago aggravated assaults 2016 (shared/data/chicago-aggravated-assaults-2010-2016,
    timed to the minute) allow evaluation by day: 24 evening deployments (April-November) in
    the top 400 m cells of a 90-day naive forecast, each followed by 6 days. The data are thin
    (about 18 assaults in the deployed cells during and after), so the honest answer to a 50 %
    injected reduction is an interval wide enough to hold both 0.5 and no change."""
    import shapely

    from vigil.data.datasets import load_chicago
    from vigil.forecast.registry import make_model
    from vigil.geo.grid import Grid
    from vigil.geo.projection import with_xy

    df, crs = with_xy(load_chicago(years=(2016, 2016)))
    hull = shapely.convex_hull(shapely.multipoints(np.c_[df["x"], df["y"]]))
    grid = Grid.from_boundary(hull, 400.0, crs)
    s0 = pd.Timestamp("2016-04-01")
    model = make_model("naive", window="90D").fit(df, s0, grid)
    surface = model.predict(s0, s0 + pd.Timedelta(days=1))
    months = [f"2016-{m:02d}" for m in range(4, 12) for _ in range(3)]
    plan = plan_season(surface, months, min_separation_m=2000)
    windows = [
        DeploymentWindow(
            p.label,
            (p.area_id,),
            p.start + pd.Timedelta(days=7 * (i % 3)),
            p.end + pd.Timedelta(days=7 * (i % 3)),
        )
        for i, p in enumerate(plan)
    ]
    study = {"study_start": pd.Timestamp("2016-01-01"), "study_end": pd.Timestamp("2017-01-01")}
    placebo = evaluate_deployments(df, surface, windows, after_periods=6, **study)
    assert placebo.resolution == "D" and "by day" in placebo.note
    assert placebo.did.covers(1.0)
    inj = inject_effect(df, surface, windows, 0.5, seed=1, after_periods=6, resolution="D")
    ev = evaluate_deployments(inj.incidents, surface, windows, after_periods=6, **study)
    assert ev.did.covers(0.5) and ev.did.covers(1.0)
    assert ev.did.verdict is Verdict.NO_DETECTABLE_EFFECT
