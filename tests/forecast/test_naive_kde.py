"""Naive counts and the KDE hotspot map on London 2022 violence (police.uk, month-only)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.forecast import _data
from vigil.errors import ModelInputError
from vigil.forecast.registry import MODELS, make_model


def _month_counts(df, grid, months):
    sel = df[df.time.isin(pd.to_datetime(months))]
    return grid.counts(sel.x.to_numpy(), sel.y.to_numpy())


def test_naive_is_the_rate_of_the_last_months(london, london_grid):
    m = make_model("naive", window="3M").fit(london, "2022-07-01", london_grid)
    s = m.predict("2022-07-01", "2022-08-01")
    counts = _month_counts(london, london_grid, ["2022-04-01", "2022-05-01", "2022-06-01"])
    days = (pd.Timestamp("2022-07-01") - pd.Timestamp("2022-04-01")).days
    np.testing.assert_allclose(s.risk, counts / days * 31)
    assert s.data_version["n_incidents"] == int((london.time < "2022-07-01").sum())
    assert set(s.data_version["categories"]) == {"violence", "robbery"}
    assert s.data_version["police_generated_share"] == 0.0


def test_month_only_records_of_the_current_month_are_not_used(london, london_grid):
    """A July record may fall after 15 July: fitting until mid-July must not see July."""
    a = make_model("naive", window=None).fit(london, "2022-07-15", london_grid)
    b = make_model("naive", window=None).fit(
        london[london.time < "2022-07-01"], "2022-07-15", london_grid
    )
    np.testing.assert_array_equal(a.parts_["recent"], b.parts_["recent"])
    assert a.past_.n == b.past_.n


def test_future_incidents_never_leak(london, london_grid):
    until = "2022-06-01"
    full = make_model("kde", bandwidth=400, decay_days=90).fit(london, until, london_grid)
    cut = make_model("kde", bandwidth=400, decay_days=90).fit(
        london[london.time < until], until, london_grid
    )
    w = ("2022-06-01", "2022-07-01")
    np.testing.assert_allclose(full.predict(*w).risk, cut.predict(*w).risk)


def test_kde_keeps_the_expected_total_and_smooths(london, london_grid):
    until = "2022-10-01"
    naive = (
        make_model("naive", window=None)
        .fit(london, until, london_grid)
        .predict(until, "2022-11-01")
    )
    kde = (
        make_model("kde", bandwidth=300)
        .fit(london, until, london_grid)
        .predict(until, "2022-11-01")
    )
    # mass is conserved up to what leaks over the city edge
    assert kde.risk.sum() == pytest.approx(naive.risk.sum(), rel=0.01)
    # smoothing lowers the peak and spreads risk to more cells
    assert kde.risk.max() < naive.risk.max()
    assert (kde.risk > 0).sum() > (naive.risk > 0).sum()
    # the hottest KDE cell is within one cell of the hottest count cell (the West End)
    gx, gy = london_grid.centres()
    i, j = np.argmax(kde.risk), np.argmax(naive.risk)
    assert np.hypot(gx[i] - gx[j], gy[i] - gy[j]) <= 250 * np.sqrt(2) + 1


def test_kde_decay_follows_recent_change(london, london_grid):
    until = "2022-12-01"
    slow = make_model("kde", bandwidth=300).fit(london, until, london_grid)
    fast = make_model("kde", bandwidth=300, decay_days=30).fit(london, until, london_grid)
    s_slow, s_fast = slow.predict(until, "2023-01-01"), fast.predict(until, "2023-01-01")
    recent = _month_counts(london, london_grid, ["2022-11-01"])
    # the decayed surface is closer to November's pattern than the flat one
    c_fast = np.corrcoef(s_fast.risk, recent)[0, 1]
    c_slow = np.corrcoef(s_slow.risk, recent)[0, 1]
    assert c_fast > c_slow
    d = s_fast.drivers
    assert list(d.columns) == ["area_id", "long_run", "recent", "near_repeat"]
    assert (d.near_repeat == 0).all()  # month-only data cannot show near-repeats
    top = s_fast.top(5)
    np.testing.assert_allclose(top[["long_run", "recent", "near_repeat"]].sum(axis=1), top.risk)


def test_bad_input_is_named(london, london_grid):
    with pytest.raises(ModelInputError, match="unknown model 'magic'"):
        make_model("magic")
    with pytest.raises(ModelInputError, match="bad parameters for model 'kde'"):
        make_model("kde", radius=3)
    with pytest.raises(ModelInputError, match="lacks column"):
        make_model("naive").fit(london.drop(columns=["x"]), "2022-05-01", london_grid)
    with pytest.raises(ModelInputError, match="window"):
        make_model("naive", window="3Q").fit(london, "2022-05-01", london_grid)
    m = make_model("kde")
    with pytest.raises(ModelInputError, match="fit"):
        m.predict("2022-05-01", "2022-06-01")
    m.fit(london, "2022-05-01", london_grid)
    with pytest.raises(ModelInputError, match="overlap"):
        m.predict("2022-04-01", "2022-06-01")


def test_registry_names():
    assert {"naive", "kde"} <= set(MODELS)


def test_kde_bandwidth_by_held_out_likelihood_is_finer_on_a_fine_grid():
    """Issue 13: a fixed 300 m is far too smooth for 150 m cells. Chosen by likelihood on the
    last four weeks before ``until`` (2015 here, never the scored 2016 windows; with nearly
    three years of history: with nine months the choice is a smoother 450 m), the radius is
    finer, and the held-out week after ``until`` is better predicted than with 300 m."""
    chicago = _data.chicago_assaults()
    chicago = chicago[chicago.time < "2016-01-01"].reset_index(drop=True)
    chicago_grid = _data.chicago_grid(chicago, 150.0)
    until = pd.Timestamp("2015-10-05")
    week = (until, until + pd.Timedelta(days=7))
    cv = make_model("kde", bandwidth="cv").fit(chicago, until, chicago_grid)
    fixed = make_model("kde").fit(chicago, until, chicago_grid)
    assert cv.bandwidth_ < 300.0
    assert max(cv.cv_scores_, key=cv.cv_scores_.get) == cv.bandwidth_
    surface = cv.predict(*week)
    assert surface.params["bandwidth_m"] == cv.bandwidth_
    cells = chicago_grid.locate(chicago.x.to_numpy(), chicago.y.to_numpy())
    later = cells[(chicago.time >= week[0]).to_numpy() & (chicago.time < week[1]).to_numpy()]
    observed = np.bincount(later[later >= 0], minlength=chicago_grid.n_cells)

    def loglik(risk: np.ndarray) -> float:
        risk = np.maximum(risk, 1e-12)
        return float(np.sum(observed * np.log(risk) - risk))

    assert loglik(surface.risk) > loglik(fixed.predict(*week).risk)
