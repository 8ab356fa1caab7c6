"""Gradient-boosted Poisson model on space-time features: Vigil's own best model.

A LightGBM regressor with a Poisson objective learns, per grid cell, how the next window's
count depends on the cell's recent and long-run history, its neighbourhood at several scales and
(with exact times) the near-repeat excitation of the last days: the baselines' signals used
together, with weights learnt from the data instead of fixed by hand. It is trained only on
rolling origins *before* ``until`` (origin ``o``: features from incidents ended by ``o``, target
the counts of ``[o, o + horizon)``, which must end by ``until``), so nothing from the forecast
period leaks in. Same idea as the "gradient boosting on space-time features" entries in the
NIJ Real-Time Crime Forecasting Challenge (2017), here with a Poisson loss so the prediction is
an expected count.

References: Ke et al. (2017) "LightGBM: a highly efficient gradient boosting decision tree",
NeurIPS; Mohler & Porter (2018) "Rotational grid, PAI-maximizing crime forecasts", Statistical
Analysis and Data Mining 11(5) (the NIJ challenge).
"""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np
import pandas as pd

from vigil.data.schema import PRECISION_ORDER, Precision
from vigil.errors import ModelInputError
from vigil.forecast._common import (
    Past,
    check_window,
    grid_surface,
    parse_window,
    prepare_past,
    to_days,
)
from vigil.forecast.base import Constraint, Forecaster, Interval, TimeLike, WindowSpec
from vigil.forecast.features import FeatureSet, feature_set, space_time_features
from vigil.forecast.surface import DRIVER_COLUMNS, RiskSurface
from vigil.geo.grid import Grid

#: Top cells that get a SHAP breakdown (the costly part of predict: ~0.6 ms per cell).
N_SHAP_AREAS = 500


class BoostedPoisson(Forecaster):
    """LightGBM Poisson regression of next-window counts on per-cell space-time features.

    Parameters
    ----------
    horizon:
        Length of the window the model is trained to forecast: ``"1M"`` (month-only data),
        ``"7D"``, or None to choose by the data (a month for month-only data, else a week).
        Predictions for other window lengths are scaled by length.
    n_origins:
        How many past origins (one horizon apart) to train on; fewer when history is short.
    target_span:
        How many horizons each training target spans (None: 1 for month-only data, 4 for
        exact times). A week's count in a cell is mostly noise; learning the next four weeks'
        count instead teaches the model the cell's level, and the prediction is scaled back to
        one window. Training windows still end by ``until``.
    min_history_days:
        An origin is used only if this much history lies before it.
    zero_keep:
        Share of training rows with a zero target that are kept (re-weighted by its inverse,
        so the Poisson loss stays unbiased): most cells see nothing in a week.
    n_estimators, learning_rate, num_leaves, min_child_samples:
        LightGBM settings.
    max_bin:
        LightGBM histogram bins per feature.
    blend:
        Weight in [0, 1] of the cell's all-history rate mixed into the prediction (a stacked
        ensemble with the naive long-run count); 0 is the pure boosted model.
    n_jobs:
        LightGBM threads (1: backtests parallelise over origins instead).
    random_state:
        Seed of the row sampling and LightGBM.
    """

    name = "boosted"
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "horizon": [WindowSpec(), None],
        "n_origins": [Interval(1, None, integer=True)],
        "target_span": [Interval(1, None, integer=True), None],
        "min_history_days": [Interval(0, None)],
        "zero_keep": [Interval(0, 1, "right")],
        "n_estimators": [Interval(1, None, integer=True)],
        "learning_rate": [Interval(0, None, "neither")],
        "num_leaves": [Interval(2, None, integer=True)],
        "min_child_samples": [Interval(1, None, integer=True)],
        "max_bin": [Interval(2, None, integer=True)],
        "blend": [Interval(0, 1)],
        "n_jobs": [Interval(-1, None, integer=True)],
        "random_state": [Interval(0, None, integer=True)],
    }

    def __init__(
        self,
        horizon: str | int | float | None = None,
        n_origins: int = 12,
        target_span: int | None = None,
        min_history_days: float = 28.0,
        zero_keep: float = 0.1,
        n_estimators: int = 120,
        learning_rate: float = 0.1,
        num_leaves: int = 15,
        min_child_samples: int = 100,
        max_bin: int = 255,
        blend: float = 0.5,
        n_jobs: int = 1,
        random_state: int = 0,
    ) -> None:
        self.horizon = horizon
        self.n_origins = n_origins
        self.target_span = target_span
        self.min_history_days = min_history_days
        self.zero_keep = zero_keep
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.max_bin = max_bin
        self.blend = blend
        self.n_jobs = n_jobs
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def _origins(self, past: Past, until: pd.Timestamp, exact: bool) -> list[float]:
        horizon = self.horizon if self.horizon is not None else ("7D" if exact else "1M")
        step = parse_window(horizon, "boosted horizon")
        assert step is not None
        span = self.target_span if self.target_span is not None else (4 if exact else 1)
        if int(span) < 1:
            raise ModelInputError(f"boosted target_span must be at least 1, got {span}")
        self.span_ = int(span)
        origins: list[float] = []
        o = until - step
        for _ in range(self.span_ - 1):
            o = o - step
        for _ in range(int(self.n_origins)):
            od = float(to_days(o))
            if od - past.start < self.min_history_days:
                break
            origins.append(od)
            o = o - step
        self.horizon_days_ = float(to_days(until) - to_days(until - step))
        return origins

    def fit(self, incidents: pd.DataFrame, until: TimeLike, grid: Grid) -> Self:
        import lightgbm as lgb

        self._validate_params()
        past = prepare_past(incidents, until, grid, self.name)
        if past.n == 0:
            raise ModelInputError(
                f"boosted: no incidents ended before {until}; nothing to learn from"
            )
        exact = PRECISION_ORDER[past.precision] >= PRECISION_ORDER[Precision.DAY]
        until_ts = pd.Timestamp(past.data_version["until"])
        origins = self._origins(past, until_ts, exact)
        if not origins:
            raise ModelInputError(
                f"boosted: fewer than {self.min_history_days:g} days of history before any "
                f"training origin (data start {pd.Timestamp(past.start * 86400e9)}, until "
                f"{until_ts}); give more history or use naive/kde"
            )
        fs = feature_set(exact)
        rng = np.random.default_rng(self.random_state)
        xs, ys, ws = [], [], []
        for o in origins:
            feats = space_time_features(past, o, grid, exact)
            o_end = o + self.horizon_days_ * self.span_
            inwin = (past.t >= o) & (past.end <= o_end + 1e-9) & (past.cell >= 0)
            target = np.bincount(past.cell[inwin], minlength=grid.n_cells).astype(float)
            keep = (target > 0) | (rng.random(grid.n_cells) < self.zero_keep)
            weight = np.where(target > 0, 1.0, 1.0 / self.zero_keep)
            xs.append(feats[keep])
            ys.append(target[keep])
            ws.append(weight[keep])
        X, y, w = np.vstack(xs), np.concatenate(ys), np.concatenate(ws)
        if y.sum() <= 0:
            raise ModelInputError("boosted: no incidents in any training window; nothing to learn")
        self.booster_ = lgb.LGBMRegressor(
            objective="poisson",
            n_estimators=int(self.n_estimators),
            learning_rate=self.learning_rate,
            num_leaves=int(self.num_leaves),
            min_child_samples=int(self.min_child_samples),
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.8,
            reg_lambda=1.0,
            max_bin=int(self.max_bin),
            n_jobs=int(self.n_jobs),
            random_state=int(self.random_state),
            verbose=-1,
        )
        self.booster_.fit(X, y, sample_weight=w)
        self.features_: FeatureSet = fs
        self.past_: Past = past
        self.grid_ = grid
        self.exact_ = exact
        self.train_origins_ = [pd.Timestamp(o * 86400e9).isoformat() for o in origins]
        self.n_train_rows_ = int(y.size)
        self.X_now_ = space_time_features(past, past.until, grid, exact)
        return self

    # ------------------------------------------------------------------ predict
    def predict(self, start: TimeLike, end: TimeLike) -> RiskSurface:
        past = getattr(self, "past_", None)
        s, e, days = check_window(self.name, None if past is None else past.until, start, end)
        per_target = np.asarray(self.booster_.predict(self.X_now_), float)
        risk = per_target * days / (self.horizon_days_ * self.span_)
        if self.blend:
            rate_all = self.X_now_[:, list(self.features_.names).index("rate_all")]
            risk = (1.0 - self.blend) * risk + self.blend * rate_all * days
        params = self.get_params() | {
            "train_origins": self.train_origins_,
            "n_train_rows": self.n_train_rows_,
            "features": list(self.features_.names),
            "horizon_days": self.horizon_days_,
        }
        return grid_surface(
            self.grid_,
            risk,
            s,
            e,
            self.name,
            params,
            self._drivers(risk),
            self.past_.data_version,
            n_drivers=N_SHAP_AREAS,
        )

    def _drivers(self, risk: np.ndarray) -> dict[str, np.ndarray]:
        """Risk split by feature group, from LightGBM's per-feature (SHAP) contributions.

        On the log scale the prediction is a baseline plus one contribution per feature. The
        baseline (an average cell) is "long run"; the rise above it is shared among the groups
        in proportion to their positive contributions. Computed for the top cells only.
        """
        parts = {c: np.zeros_like(risk) for c in DRIVER_COLUMNS}
        top = np.argsort(-risk, kind="stable")[:N_SHAP_AREAS]
        contrib = np.asarray(self.booster_.predict(self.X_now_[top], pred_contrib=True), float)
        base = np.exp(contrib[:, -1]) * (
            risk[top] / np.maximum(np.exp(contrib.sum(axis=1)), 1e-300)
        )
        rise = np.clip(risk[top] - base, 0.0, None)
        groups = np.asarray(self.features_.groups)
        pos = np.clip(contrib[:, :-1], 0.0, None)
        by_group = {c: pos[:, groups == c].sum(axis=1) for c in DRIVER_COLUMNS}
        total = np.sum(list(by_group.values()), axis=0)
        for c in DRIVER_COLUMNS:
            share = np.divide(by_group[c], total, out=np.zeros_like(total), where=total > 0)
            parts[c][top] = rise * share
        parts["long_run"][top] += np.minimum(base, risk[top])
        return parts
