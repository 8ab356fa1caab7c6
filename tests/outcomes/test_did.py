"""Difference-in-differences: closed-form agreement, thresholds, and input errors."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from vigil.outcomes.did import OutcomeInputError, Verdict, estimate_did


def _panel(tb: int, ta: int, cb: int, ca: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "area_id": ["t", "t", "c", "c"],
            "period": [0, 1, 0, 1],
            "count": [tb, ta, cb, ca],
            "treated": [True, True, False, False],
            "post": [False, True, False, False],
        }
    )


def test_two_by_two_matches_the_ratio_of_ratios():
    # With one area and one period on each side the Poisson fixed-effects estimate is exactly
    # (treated after / before) / (control after / before).
    r = estimate_did(_panel(120, 60, 400, 380))
    assert r.rate_ratio == pytest.approx((60 / 120) / (380 / 400), rel=1e-6)
    assert r.verdict is Verdict.REDUCTION
    assert r.ci_low < r.rate_ratio < r.ci_high < 1
    assert r.effect_pct == pytest.approx(100 * (r.rate_ratio - 1))
    assert "lower than the control" in r.message


def test_no_change_gives_no_detectable_effect():
    r = estimate_did(_panel(100, 95, 400, 380))
    assert r.rate_ratio == pytest.approx(1.0, abs=1e-9)
    assert r.verdict is Verdict.NO_DETECTABLE_EFFECT
    assert r.covers(1.0)


def test_increase():
    r = estimate_did(_panel(50, 150, 400, 400))
    assert r.verdict is Verdict.INCREASE and r.ci_low > 1


@pytest.mark.parametrize(
    ("counts", "why"),
    [
        ((5, 40, 400, 400), "5 incidents in the deployed area before (minimum 10)"),
        ((8, 40, 400, 400), "8 incidents expected during/after deployment"),
        ((40, 40, 400, 12), "12 control incidents in a phase (minimum 20)"),
    ],
)
def test_too_few_incidents_to_tell(counts, why):
    r = estimate_did(_panel(*counts))
    assert r.verdict is Verdict.TOO_FEW
    assert r.rate_ratio is None and not r.covers(1.0)
    assert r.message.startswith("Too few incidents to tell") and why in r.message


def test_too_few_is_decided_before_looking_at_the_outcome():
    """Issue 17: a real reduction (40 before, 3 after, controls flat) used to be refused as
    "too few" because the rule looked at the outcome; now the estimate is given."""
    r = estimate_did(_panel(40, 3, 400, 400))
    assert r.verdict is Verdict.REDUCTION and r.rate_ratio == pytest.approx(3 / 40, rel=1e-6)
    # and the same before-period with any outcome gives the same decision to estimate
    for after in (0, 3, 40, 90):
        assert estimate_did(_panel(40, after, 400, 400)).verdict is not Verdict.TOO_FEW


def test_real_monthly_counts_with_known_thinning(london_sv, march_surface):
    """Real 2022 monthly counts of the 20 top cells (treated) and 100 others; halving the
    treated cells' June-December counts exactly must give a rate ratio near 0.5, in interval."""
    from vigil.outcomes.evaluation import assign_areas

    a = assign_areas(london_sv["x"].to_numpy(), london_sv["y"].to_numpy(), march_surface)
    frame = pd.DataFrame({"a": a, "m": london_sv["time"].dt.month})
    frame = frame[frame["a"] >= 0]
    order = march_surface.ranking()
    treated, control = list(order[:20]), list(order[40:140])
    counts = frame.groupby(["a", "m"]).size()
    rows = []
    for i in treated + control:
        for m in range(1, 13):
            c = int(counts.get((i, m), 0))
            post = i in treated and m >= 6
            rows.append((i, m, c // 2 if post else c, i in treated, post))
    panel = pd.DataFrame(rows, columns=["area_id", "period", "count", "treated", "post"])
    r = estimate_did(panel)
    assert r.n_treated_areas == 20 and r.n_control_areas == 100
    assert r.covers(0.5) and r.verdict is Verdict.REDUCTION
    assert math.isfinite(r.dispersion) and r.dispersion > 0


def test_bad_panels_are_named():
    p = _panel(10, 10, 10, 10)
    with pytest.raises(OutcomeInputError, match=r"missing columns \['post'\]"):
        estimate_did(p.drop(columns="post"))
    bad = p.copy()
    bad["count"] = bad["count"].astype(object)
    bad.loc[2, "count"] = -1
    with pytest.raises(OutcomeInputError, match="row 3, column 'count'"):
        estimate_did(bad)
    with pytest.raises(OutcomeInputError, match="two rows for area 't', period 0"):
        estimate_did(pd.concat([p, p.iloc[[0]]]))
    ctrl_post = p.copy()
    ctrl_post.loc[3, "post"] = True
    with pytest.raises(OutcomeInputError, match="control-area rows"):
        estimate_did(ctrl_post)


def test_sparse_fit_agrees_with_statsmodels(london_sv, march_surface):
    """The hand-written sparse IRLS must give statsmodels' GLM answer on a real panel:
    monthly 2022 counts of 30 top cells (treated from July) and 90 others."""
    import statsmodels.api as sm

    from vigil.outcomes.evaluation import assign_areas

    a = assign_areas(london_sv["x"].to_numpy(), london_sv["y"].to_numpy(), march_surface)
    counts = pd.DataFrame({"a": a, "m": london_sv["time"].dt.month})
    counts = counts[counts["a"] >= 0].groupby(["a", "m"]).size()
    order = march_surface.ranking()
    treated, control = list(order[:30]), list(order[100:190])
    rows = [
        (i, m, int(counts.get((i, m), 0)), i in treated, i in treated and m >= 7)
        for i in treated + control
        for m in range(1, 13)
    ]
    panel = pd.DataFrame(rows, columns=["area_id", "period", "count", "treated", "post"])
    r = estimate_did(panel)
    X = pd.concat(
        [
            pd.Series(1.0, index=panel.index),
            pd.get_dummies(panel["area_id"], drop_first=True, dtype=float),
            pd.get_dummies(panel["period"], drop_first=True, dtype=float),
            (panel["treated"] & panel["post"]).astype(float),
        ],
        axis=1,
    ).to_numpy()
    fit = sm.GLM(panel["count"].to_numpy(), X, family=sm.families.Poisson()).fit()
    disp = max(1.0, fit.pearson_chi2 / fit.df_resid)
    assert math.log(r.rate_ratio) == pytest.approx(fit.params[-1], abs=1e-7)
    assert r.dispersion == pytest.approx(disp, rel=1e-6)
    se = fit.bse[-1] * math.sqrt(disp)
    assert r.ci_high == pytest.approx(math.exp(fit.params[-1] + 1.959963984540054 * se), rel=1e-6)


def test_changes_read_without_minus_zero():
    """Issue 12 (seen on the case page): "the 95% interval -0% to +7% includes no change" for a
    lower bound of 0.999. A change that rounds to nothing reads 0%, in both wordings."""
    from vigil.outcomes.did import _describe
    from vigil.outcomes.evaluation import describe_primary

    for describe in (_describe, describe_primary):
        text = describe(Verdict.NO_DETECTABLE_EFFECT, 1.01, 0.999, 1.07)
        assert "-0%" not in text and "+-" not in text
        assert "interval 0% to +7%" in text and "+1%" in text
