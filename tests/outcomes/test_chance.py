"""Changes tested against chance (vigil.outcomes.chance) against reference computations:
scipy's exact binomial test and Clopper-Pearson interval, statsmodels' exact conditional test of
two Poisson rates and its quasi-Poisson GLM."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.rates import test_poisson_2indep as poisson_2indep

from vigil.outcomes import chance

PAIRS = [(153, 138), (142, 118), (3855, 3749), (30, 30), (12, 25), (10, 41), (1000, 910)]


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_exact_interval_and_p_value_match_scipy_and_statsmodels(a, b):
    c = chance.compare_counts(a, b)
    assert c.method.startswith("exact conditional binomial")
    # scipy: Clopper-Pearson interval for a / (a + b), mapped to the rate ratio
    ci = stats.binomtest(a, a + b, 0.5).proportion_ci(0.95, method="exact")
    lo, hi = ci.low / (1 - ci.low), ci.high / (1 - ci.high)
    assert c.ci_low_pct == pytest.approx(100 * (lo - 1), rel=1e-9, abs=1e-9)
    assert c.ci_high_pct == pytest.approx(100 * (hi - 1), rel=1e-9, abs=1e-9)
    # statsmodels: the exact conditional test of two Poisson rates
    ref = poisson_2indep(a, 1.0, b, 1.0, method="exact-cond")
    assert c.p_value == pytest.approx(ref.pvalue, rel=1e-6)
    assert (c.verdict == chance.BEYOND) == (ref.pvalue < 0.05)


def test_unequal_exposures_match_statsmodels():
    # 3,749 in 12 months against 3,039 in 10 months
    c = chance.compare_counts(3749, 3039, exposure_current=12, exposure_previous=10)
    assert c.rate_ratio == pytest.approx((3749 / 12) / (3039 / 10))
    ref = poisson_2indep(3749, 12, 3039, 10, method="exact-cond")
    assert c.p_value == pytest.approx(ref.pvalue, rel=1e-6)


@pytest.mark.filterwarnings("ignore")  # a saturated two-row GLM: statsmodels warns, rightly
@pytest.mark.parametrize(("a", "b", "phi"), [(153, 138, 1.7), (3855, 3749, 2.77), (900, 1000, 9.3)])
def test_quasi_poisson_interval_matches_a_statsmodels_glm(a, b, phi):
    c = chance.compare_counts(a, b, dispersion=phi)
    assert c.method.startswith("quasi-Poisson")
    y = np.array([a, b], float)
    x = sm.add_constant(np.array([1.0, 0.0]))
    fit = sm.GLM(y, x, family=sm.families.Poisson()).fit(scale=phi)
    beta, se = fit.params[1], fit.bse[1]
    assert c.rate_ratio == pytest.approx(math.exp(beta))
    assert c.ci_low_pct == pytest.approx(100 * (math.exp(beta - 1.959963984540054 * se) - 1))
    assert c.ci_high_pct == pytest.approx(100 * (math.exp(beta + 1.959963984540054 * se) - 1))
    assert c.p_value == pytest.approx(fit.pvalues[1])


def test_dispersion_matches_statsmodels_on_real_monthly_series(shared_data):
    from vigil.outcomes import force_stats

    for measure in ("knife_crime", "homicide"):
        s = force_stats.london_monthly(shared_data, measure)
        frame = pd.DataFrame(
            {"yr": s.index.year.astype(str), "mo": s.index.month.astype(str)}, index=s.index
        )
        x = sm.add_constant(pd.get_dummies(frame, drop_first=True).astype(float))
        ref = sm.GLM(s.to_numpy(float), x, family=sm.families.Poisson()).fit()
        expected = max(1.0, ref.pearson_chi2 / ref.df_resid)
        got = chance.dispersion_year_month(list(s.index), s.to_numpy(float))
        assert got == pytest.approx(expected, rel=1e-6)
    # knife crime scatters well beyond Poisson around its year and season; homicide does not
    kc = force_stats.london_monthly(shared_data, "knife_crime")
    assert chance.dispersion_year_month(list(kc.index), kc.to_numpy(float)) > 3


def test_dispersion_from_history_on_simulated_series():
    rng = np.random.default_rng(1)
    poisson = rng.poisson(150, size=40)
    assert chance.dispersion_from_history(poisson) < 1.6
    # negative binomial with variance mu + mu^2 / 20 at mu = 150: phi about 8.5
    nb = rng.negative_binomial(20, 20 / (20 + 150), size=200)
    assert 5 < chance.dispersion_from_history(nb) < 13
    assert chance.dispersion_from_history([5, 6, 7]) == 1.0  # too few pairs


def test_small_counts_are_suppressed_by_the_stated_rule():
    c = chance.compare_counts(6, 1)  # the "+500 %" of the old borough tables
    assert c.verdict == chance.TOO_FEW and c.pct is None
    assert f"fewer than {chance.SMALL_COUNT}" in c.sentence and "500" not in c.short()
    assert chance.compare_counts(10, 10).verdict == chance.WITHIN


def test_plain_sentences():
    up = chance.compare_counts(16593, 14711)
    assert up.verdict == chance.BEYOND and "a change beyond chance" in up.sentence
    same = chance.compare_counts(153, 138)
    assert same.verdict == chance.WITHIN and same.covers_pct(0.0)
    rel = chance.compare_with_reference(120, 100, 5000, 5000)
    assert rel.pct == pytest.approx(20.0) and rel.verdict == chance.WITHIN
