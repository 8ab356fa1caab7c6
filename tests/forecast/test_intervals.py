"""Per-area count intervals: coverage checked by simulation, not by restating the formula."""

from __future__ import annotations

import numpy as np
import pytest

from vigil.errors import ModelInputError
from vigil.forecast.intervals import count_interval, describe_expected


@pytest.mark.parametrize("dispersion", [0.0, 0.5])
def test_intervals_cover_about_the_level(dispersion):
    rng = np.random.default_rng(0)
    mu = rng.gamma(1.0, 3.0, 4000)
    lo, hi = count_interval(mu, 0.9, dispersion)
    # negative binomial as a gamma-Poisson mixture
    lam = rng.gamma(1.0 / dispersion, mu * dispersion) if dispersion else mu
    y = rng.poisson(lam)
    covered = np.mean((y >= lo) & (y <= hi))
    assert 0.88 <= covered <= 0.99  # discrete counts: at least the level, a little more


def test_the_case_sentence_and_bad_levels():
    assert describe_expected(2.3) == "expected 2.3, 90 % interval 0-5"
    assert count_interval(0.0)[1] == 0
    with pytest.raises(ModelInputError, match="level"):
        count_interval(1.0, level=1.5)
