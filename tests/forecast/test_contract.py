"""Every registered model through the same checks: the forecaster contract (issue 14).

Data: a small synthetic city (20 x 20 cells of 100 m, two hotspots over a uniform background,
400 days of minute-precision incidents, fixed seed) so that all models, the boosted one included,
fit in well under a second each. Real data are used by the per-model tests.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from vigil.errors import ModelInputError
from vigil.forecast.base import Forecaster, NotFittedError, check_is_fitted, clone
from vigil.forecast.registry import DEFAULT_MODEL, MODELS, make_model
from vigil.forecast.surface import RiskSurface
from vigil.geo.grid import Grid

UNTIL = pd.Timestamp("2021-02-01")
CRS = "EPSG:27700"


def synthetic(seed: int = 0, n: int = 2400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp("2020-01-01")
    minutes = np.sort(rng.integers(0, 400 * 24 * 60, n))
    which = rng.random(n)
    x = np.where(
        which < 0.35,
        rng.normal(500, 80, n),
        np.where(which < 0.55, rng.normal(1500, 120, n), rng.uniform(0, 2000, n)),
    )
    y = np.where(
        which < 0.35,
        rng.normal(600, 80, n),
        np.where(which < 0.55, rng.normal(1400, 120, n), rng.uniform(0, 2000, n)),
    )
    return pd.DataFrame(
        {
            "time": t0 + pd.to_timedelta(minutes, unit="min"),
            "precision": "minute",
            "x": np.clip(x, 1, 1999),
            "y": np.clip(y, 1, 1999),
            "category": "violence",
        }
    )


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return synthetic()


@pytest.fixture(scope="module")
def grid() -> Grid:
    return Grid.from_bounds(0, 0, 1999, 1999, 100.0, CRS)


FAST = {"boosted": {"n_estimators": 20, "n_origins": 4}, "sepp": {"max_iter": 20}}
NAMES = sorted(MODELS)


def model(name: str) -> Forecaster:
    return make_model(name, **FAST.get(name, {}))


@pytest.fixture(scope="module")
def fitted(data, grid) -> dict[str, Forecaster]:
    return {n: model(n).fit(data, UNTIL, grid) for n in NAMES}


def test_default_model_is_registered():
    assert DEFAULT_MODEL in MODELS


@pytest.mark.parametrize("name", NAMES)
def test_fit_returns_self_and_predict_gives_one_risk_per_cell(name, fitted, grid):
    m = fitted[name]
    check_is_fitted(m)
    s = m.predict(UNTIL, UNTIL + pd.Timedelta(days=7))
    assert isinstance(s, RiskSurface)
    assert len(s) == grid.n_cells
    assert np.all(np.isfinite(s.risk)) and np.all(s.risk >= 0)
    assert s.risk.sum() > 0
    assert s.model == name
    # a window twice as long expects more
    assert m.predict(UNTIL, UNTIL + pd.Timedelta(days=14)).risk.sum() > s.risk.sum()


@pytest.mark.parametrize("name", NAMES)
def test_predict_before_fit_is_refused(name):
    with pytest.raises(NotFittedError, match="fit"):
        model(name).predict(UNTIL, UNTIL + pd.Timedelta(days=7))
    with pytest.raises(NotFittedError):
        check_is_fitted(model(name))


@pytest.mark.parametrize("name", NAMES)
def test_windows_overlapping_the_training_period_are_refused(name, fitted):
    with pytest.raises(ModelInputError, match="overlap"):
        fitted[name].predict(UNTIL - pd.Timedelta(days=1), UNTIL + pd.Timedelta(days=6))
    with pytest.raises(ModelInputError, match="not after"):
        fitted[name].predict(UNTIL, UNTIL)


@pytest.mark.parametrize("name", NAMES)
def test_incidents_after_until_change_nothing(name, data, grid, fitted):
    """No use of future events: adding (many, clustered) incidents after ``until`` to the
    table leaves the fitted forecast exactly as it was."""
    rng = np.random.default_rng(1)
    future = pd.DataFrame(
        {
            "time": UNTIL + pd.to_timedelta(rng.integers(0, 30 * 24 * 60, 500), unit="min"),
            "precision": "minute",
            "x": rng.normal(1000, 30, 500),
            "y": rng.normal(300, 30, 500),
            "category": "violence",
        }
    )
    # one incident one minute before until whose minute ends exactly at until is in the past;
    # one that starts at until is the future
    edge = pd.DataFrame(
        {
            "time": [UNTIL],
            "precision": ["minute"],
            "x": [1000.0],
            "y": [300.0],
            "category": ["violence"],
        }
    )
    more = pd.concat([data, future, edge], ignore_index=True).sample(frac=1.0, random_state=2)
    a = fitted[name].predict(UNTIL, UNTIL + pd.Timedelta(days=7)).risk
    b = model(name).fit(more, UNTIL, grid).predict(UNTIL, UNTIL + pd.Timedelta(days=7)).risk
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_fits_are_deterministic(name, data, grid, fitted):
    again = model(name).fit(data, UNTIL, grid)
    window = (UNTIL, UNTIL + pd.Timedelta(days=7))
    np.testing.assert_array_equal(fitted[name].predict(*window).risk, again.predict(*window).risk)


@pytest.mark.parametrize("name", NAMES)
def test_a_pickled_model_predicts_the_same(name, fitted):
    m = fitted[name]
    back = pickle.loads(pickle.dumps(m))
    window = (UNTIL + pd.Timedelta(days=2), UNTIL + pd.Timedelta(days=9))
    np.testing.assert_array_equal(m.predict(*window).risk, back.predict(*window).risk)


@pytest.mark.parametrize("name", NAMES)
def test_params_clone_and_repr(name, fitted):
    m = fitted[name]
    params = m.get_params()
    c = clone(m)
    assert type(c) is type(m) and c is not m
    assert c.get_params() == params
    with pytest.raises(NotFittedError):
        check_is_fitted(c)
    # repr shows the parameters that differ from the defaults, and evaluates back to them
    text = repr(m)
    assert text.startswith(type(m).__name__ + "(")
    for key, value in FAST.get(name, {}).items():
        assert f"{key}={value!r}" in text
    rebuilt = eval(text, {type(m).__name__: type(m), "inf": np.inf})
    assert rebuilt.get_params() == params
    assert repr(type(m)()) == f"{type(m).__name__}()"
    # set_params changes a parameter and returns the model; unknown names are refused
    key = next(iter(params))
    assert c.set_params(**{key: params[key]}) is c
    with pytest.raises(ModelInputError, match="unknown parameter 'no_such'"):
        c.set_params(no_such=1)


@pytest.mark.parametrize("name", NAMES)
def test_declared_constraints_refuse_bad_values_by_name(name, data, grid):
    cls = MODELS[name]
    constraints = cls._parameter_constraints
    assert constraints, f"{name} declares no parameter constraints"
    assert set(constraints) <= set(cls().get_params())
    key = next(iter(constraints))
    with pytest.raises(ModelInputError, match=f"{name} parameter {key} must be"):
        cls(**{key: "nonsense"}).fit(data, UNTIL, grid)
    with pytest.raises(ModelInputError, match=f"{name} parameter {key} must be"):
        cls(**{key: -1}).fit(data, UNTIL, grid)
