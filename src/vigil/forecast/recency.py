"""Recency-weighted counts, smoothed and mixed by held-out likelihood: Vigil's default model.

Where serious violence happens next is, above all, where it happened lately and nearby; how
lately and how nearby differs between cities and crimes, so neither is fixed here. The model is
a mixture of simple fields, each a count of past incidents per cell

* weighted by age, ``exp(-age / tau)`` for several e-folding times ``tau`` (a week to all
  history: recent change against the long-run picture), and
* spread over neighbouring cells by quartic kernels of several radii, or kept in its own cell
  (sparse cells borrow strength from their neighbourhood; dense ones keep their own count),
* and, for some of them, also weighted by closeness in the year to the forecast window
  (``1 + cos`` of the phase difference: last summer's incidents count more for a summer week),

plus a uniform field over the study area (shrinkage: no cell is ever impossible). Each field is
normalised to a share of the total, and the mixture weights are those that maximise the
likelihood of *held-out windows of the training period* (the last six 28-day windows, or
months, before ``until``; optionally, for a forecast shorter than a week, windows of its own
length spread over the last year), each predicted from the fields built on the data before it; found
by EM, a convex problem with one optimum, so there is nothing to tune by hand and nothing is
chosen on the windows that are later scored. Fitting a day's weights on days
(``short_folds=73``) helped on Chicago's 2015 days (dev: +1.6 % to +7.9 % against
all-history counts at 0.5 % of the area) but not on 2016's (+1.0 % to -5.5 %), so it is
off by default (benchmarks/README.md, issue 13). This is stacking of density forecasts (Wolpert
1992; Breiman 1996) applied to the recency-weighted counts of crime forecasting (e.g. the
exponentially weighted counts that beat most entries of the NIJ Real-Time Crime Forecasting
Challenge, Mohler & Porter 2018).

The total of a window is forecast apart from where it falls: each of several level estimates
(exponentially weighted rates with e-folding times of four weeks to a year, and, with two years
of history, "the same period last year times this year's change") is backtested on the windows
of the same length that precede ``until``, and the one with the smallest Poisson deviance
there is used. A model that ignored the trend over-predicted NYPD shootings by 56 %. A window
shorter than a week (a day, a night) is then scaled by how busy its part of the week has been
over the last two years: on Chicago's July 2015 days this alone raised the log-likelihood of
the daily totals by about 0.5 per day (tests/forecast/test_recency.py checks the direction).
"""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np
import pandas as pd
from scipy.fft import irfft2, next_fast_len, rfft2

from vigil.data.schema import PRECISION_ORDER, Precision
from vigil.errors import ModelInputError
from vigil.forecast._common import (
    Past,
    check_window,
    grid_surface,
    parse_window,
    prepare_past,
    quartic_kernel,
    to_days,
)
from vigil.forecast.base import (
    Constraint,
    Forecaster,
    Interval,
    Options,
    TimeLike,
    WindowSpec,
)
from vigil.forecast.surface import RiskSurface
from vigil.geo.grid import Grid

#: e-folding times (days) of the age weights; inf = all history weighted equally
DECAYS_EXACT: tuple[float, ...] = (7.0, 30.0, 91.0, 182.0, 365.0, 730.0, np.inf)
#: month-only data: nothing finer than a month is known
DECAYS_MONTH: tuple[float, ...] = (30.0, 91.0, 182.0, 365.0, 730.0, np.inf)
#: e-folding times (days) of the same-season fields: age weights times ``1 + cos`` of the
#: distance in the year from the middle of the forecast window (a year-old incident of the
#: same week counts fully, one of the opposite season not at all); mixed with the plain fields
#: above, the mixture can take any seasonal amplitude between none and full
DECAYS_SEASONAL: tuple[float, ...] = (365.0, 1095.0, np.inf)
#: quartic kernel radii in cells (0: the cell's own count)
BANDWIDTHS_CELLS: tuple[float, ...] = (0.0, 1.5, 3.0, 6.0)
#: e-folding times (days) of the level estimates of the total
LEVEL_DECAYS: tuple[float, ...] = (28.0, 91.0, 182.0, 365.0)
#: past windows each level estimate is backtested on
N_LEVEL_CHECKS = 8
#: pseudo-incidents spread evenly over the week that the time-of-week factor is shrunk with
WEEK_PRIOR = 100.0
YEAR_DAYS = 365.25


def _group(decay: float) -> str:
    if decay <= 14.0:
        return "near_repeat"
    if decay <= 91.0:
        return "recent"
    return "long_run"


class RecencyWeighted(Forecaster):
    """Mixture of age-weighted, spatially smoothed counts, weights by held-out likelihood.

    Parameters
    ----------
    n_folds:
        How many windows at the end of the training period the mixture weights are fitted on
        (for forecasts of a week or more).
    fold:
        Length of each such window: ``"28D"``, ``"1M"``..., or None for a month with month-only
        data and 28 days with exact times; None also lets a forecast shorter than a week be
        judged on windows of its own length (``short_folds``).
    short_folds:
        0 (the default): a short forecast uses the folds above. Otherwise at most how many
        held-out windows of a short forecast's length (shorter than a week) its weights are
        fitted on (73 was tried: better on Chicago's 2015 days, not on 2016's; off because it
        costs 12 times the fields for no measured gain),
    fold_span_days:
        spread evenly over this many days before ``until``.
    smoothing:
        Offer the spatially smoothed fields to the mixture (False: own-cell counts only).
    prior:
        Dirichlet pseudo-count per mixture component (above 1 pulls the weights towards equal
        shares when the held-out folds hold few incidents; 1 is plain maximum likelihood).
    seasonal:
        Offer the same-season fields (past incidents weighted by closeness in the year to the
        forecast window) to the mixture.
    weekday:
        Scale the total of a window shorter than a week by how busy its part of the week has
        been (exact times only).
    """

    name = "recency"
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "n_folds": [Interval(1, 52, integer=True)],
        "fold": [WindowSpec(), None],
        "short_folds": [Interval(0, 366, integer=True)],
        "fold_span_days": [Interval(28, None)],
        "smoothing": [Options((True, False))],
        "prior": [Interval(1, None)],
        "seasonal": [Options((True, False))],
        "weekday": [Options((True, False))],
    }

    def __init__(
        self,
        n_folds: int = 6,
        fold: str | int | float | None = None,
        short_folds: int = 0,
        fold_span_days: float = 365.0,
        smoothing: bool = True,
        prior: float = 1.0,
        seasonal: bool = True,
        weekday: bool = True,
    ) -> None:
        self.n_folds = n_folds
        self.fold = fold
        self.short_folds = short_folds
        self.fold_span_days = fold_span_days
        self.smoothing = smoothing
        self.prior = prior
        self.seasonal = seasonal
        self.weekday = weekday

    # ------------------------------------------------------------------ fields
    def _components(self, exact: bool, years: float) -> list[tuple[float, float, bool]]:
        """(e-folding time, kernel radius, same-season) of each field of the mixture; the
        same-season fields only with ``years`` >= 1 of history before the first held-out fold
        (with less, "the same time last year" is not in the data: they would be one more
        recency weighting)."""
        decays = DECAYS_EXACT if exact else DECAYS_MONTH
        bands = BANDWIDTHS_CELLS if self.smoothing else (0.0,)
        plain = [(d, b, False) for d in decays for b in bands]
        if not self.seasonal or years < 1.0:
            return plain
        return plain + [(d, b, True) for d in DECAYS_SEASONAL for b in bands]

    def _fields(self, past: Past, flat: np.ndarray, cutoff: float, centre: float) -> np.ndarray:
        """(K + 1, n_cells): each component's share of the total per cell, from the incidents
        known by ``cutoff``, for a window whose middle is ``centre`` (the same-season fields'
        phase); the last row is the uniform field."""
        grid = self.grid_
        known = (past.end <= cutoff + 1e-9) & (flat >= 0)
        age = cutoff - past.t[known]
        season = 1.0 + np.cos(2.0 * np.pi * (centre - past.t[known]) / YEAR_DAYS)
        where = flat[known]
        kinds = sorted({(d, s) for d, _, s in self.components_}, key=lambda k: (k[1], k[0]))
        lattices = np.stack(
            [
                np.bincount(
                    where,
                    weights=(np.ones(age.size) if np.isinf(d) else np.exp(-age / d))
                    * (season if s else 1.0),
                    minlength=grid.nx * grid.ny,
                ).reshape(grid.ny, grid.nx)
                for d, s in kinds
            ]
        )
        smoothed = {0.0: lattices}
        bands = sorted({b for _, b, _ in self.components_ if b})
        if bands:
            # one padded FFT of every decay's lattice, times each kernel's spectrum
            pad = int(np.ceil(max(bands)))
            shape = (
                next_fast_len(grid.ny + 2 * pad, real=True),
                next_fast_len(grid.nx + 2 * pad, real=True),
            )
            spec = rfft2(lattices, s=shape, axes=(1, 2))
            for b in bands:
                kern = quartic_kernel(b * grid.cell, grid.cell)
                r = kern.shape[0] // 2
                kspec = rfft2(kern, s=shape)
                full = irfft2(spec * kspec, s=shape, axes=(1, 2))
                smoothed[b] = full[:, r : r + grid.ny, r : r + grid.nx]
        rows = [
            smoothed[b][kinds.index((d, s))].ravel()[grid.active] for d, b, s in self.components_
        ]
        uniform = grid.coverage / grid.coverage.sum()
        out = np.clip(np.vstack(rows + [uniform]), 0.0, None)
        out[np.abs(out) < 1e-12 * max(out.max(), 1e-300)] = 0.0
        totals = out.sum(axis=1, keepdims=True)
        # a field with nothing in it (no history yet) is the uniform field
        return np.where(totals > 0, out / np.where(totals > 0, totals, 1.0), uniform)

    def _short(self, days: float) -> bool:
        """Whether a window of ``days`` days gets held-out windows of its own length."""
        return bool(self.short_folds) and self.fold is None and self.exact_ and days < 7.0

    def _folds(self, days: float) -> list[tuple[float, float]]:
        """Held-out windows of the training period for a forecast of ``days`` days, each with
        at least 28 days of history before it.

        A window shorter than a week (exact times, ``fold`` None) is judged on windows of its
        own length, up to ``short_folds`` of them spread evenly over the last
        ``fold_span_days`` before ``until`` (every part of the week and every season of the
        last year): the fields that rank a day are judged on days. Otherwise the last
        ``n_folds`` contiguous windows of ``fold`` (28 days, or a month with month-only data).
        """
        past = self.past_
        until = pd.Timestamp(past.data_version["until"])
        pairs: list[tuple[pd.Timestamp, pd.Timestamp]]
        if self._short(days):
            length = pd.Timedelta(days=float(days))
            n = int(self.short_folds)
            step = max(length, pd.Timedelta(days=float(self.fold_span_days) / n))
            pairs = [(until - step * m - length, until - step * m) for m in range(n)]
        else:
            spec = self.fold if self.fold is not None else ("28D" if self.exact_ else "1M")
            parsed = parse_window(spec, "fold")
            assert parsed is not None
            pairs, hi = [], until
            for _ in range(int(self.n_folds)):
                pairs.append((hi - parsed, hi))
                hi = hi - parsed
        folds: list[tuple[float, float]] = []
        for lo, hi in pairs:
            if float(to_days(lo)) - past.start < 28.0:  # no history to build the fields on
                break
            folds.append((float(to_days(lo)), float(to_days(hi))))
        return folds

    def _weights(self, days: float) -> tuple[np.ndarray, int]:
        """Mixture weights for a window of ``days`` days and the number of held-out incidents
        they were fitted on (cached per length): those that maximise the likelihood of the
        incidents of the held-out windows of :meth:`_folds`, each predicted from the fields
        built on the data before it, found by EM."""
        key = round(float(days), 6) if self._short(days) else -1.0
        if key in self.weights_by_days_:
            return self.weights_by_days_[key]
        past = self.past_
        k = len(self.components_) + 1
        dens, counts = [], []
        for lo, hi in self._folds(days):
            held = (past.t >= lo) & (past.end <= hi + 1e-9) & (past.cell >= 0)
            if held.any():
                # incidents of a fold in the same cell have the same densities: one row each,
                # weighted by their number (the same likelihood, far fewer rows)
                cells, n_in = np.unique(past.cell[held], return_counts=True)
                dens.append(self._fields(past, self.flat_, lo, (lo + hi) / 2.0)[:, cells].T)
                counts.append(n_in.astype(float))
        weights = np.full(k, 1.0 / k)
        n_held = 0
        if dens:
            m = np.vstack(dens)
            c = np.concatenate(counts)
            n_held = int(c.sum())
            extra = float(self.prior) - 1.0
            for _ in range(1000):
                # EM for mixture weights: responsibilities summed per component
                resp = weights * (m.T @ (c / (m @ weights)))
                new = (resp + extra) / (n_held + extra * k)
                done = np.max(np.abs(new - weights)) < 1e-7
                weights = new
                if done:
                    break
        self.weights_by_days_[key] = (weights, n_held)
        return weights, n_held

    # ------------------------------------------------------------------ fit
    def fit(self, incidents: pd.DataFrame, until: TimeLike, grid: Grid) -> Self:
        """Keep the incidents known by ``until`` and choose the fields to offer. The mixture
        weights depend on the forecast window's length, so they are fitted when a window of
        that length is first predicted (:meth:`_weights`), on the training period only."""
        self._validate_params()
        past = prepare_past(incidents, until, grid, self.name)
        exact = PRECISION_ORDER[past.precision] >= PRECISION_ORDER[Precision.DAY]
        self.grid_ = grid
        self.flat_ = grid.flat_index(past.x, past.y)
        inside = past.cell >= 0
        self.times_ = past.t[inside]
        self.ends_ = past.end[inside]
        self.exact_ = exact
        self.past_ = past
        self.weights_by_days_: dict[float, tuple[np.ndarray, int]] = {}
        # the same-season fields need a year of history before the first (default) fold
        first_fold = min((lo for lo, _ in self._folds(28.0)), default=past.until)
        self.components_ = self._components(exact, (first_fold - past.start) / YEAR_DAYS)
        return self

    # ------------------------------------------------------------------ the total
    def _level(self, known_by: float, start: float, days: float) -> dict[str, float]:
        """Each candidate's expected count of ``[start, start + days)`` from what is known by
        ``known_by`` (incidents whose period ended by then)."""
        ok = self.ends_ <= known_by + 1e-9
        t = self.times_[ok]
        first = self.past_.start
        span = max(known_by - first, 1.0)
        out: dict[str, float] = {}
        age = known_by - t
        for tau in LEVEL_DECAYS:
            eff = tau * (1.0 - np.exp(-span / tau))
            out[f"ewma_{tau:g}d"] = float(np.exp(-age / tau).sum() / eff * days)
        # the same period in earlier years, times the change of the last year over that year's
        pad = max(0.0, (28.0 - days) / 2.0)
        last_year = np.sum(t >= known_by - YEAR_DAYS)
        ests = []
        for k in range(1, 6):
            shift = k * YEAR_DAYS
            if known_by - shift - YEAR_DAYS < first:
                break
            a = np.sum((t >= start - shift - pad) & (t < start + days - shift + pad))
            base = np.sum((t >= known_by - shift - YEAR_DAYS) & (t < known_by - shift))
            if base > 0:
                ests.append(a / (days + 2 * pad) * days * last_year / base)
        if ests:
            out["same_period_last_years"] = float(np.mean(ests))
        week = self._week_factor(t, known_by, start, days) if self.weekday else 1.0
        return {name: est * week for name, est in out.items()}

    def _week_factor(self, t: np.ndarray, known_by: float, start: float, days: float) -> float:
        """How much busier the window's part of the week is than the average (1 for a window of
        a week or more, or without exact times): Saturday night is not Tuesday morning. From the
        last two years' incidents, shrunk towards 1 by :data:`WEEK_PRIOR` pseudo-incidents."""
        if not self.exact_ or days >= 7.0:
            return 1.0
        recent = t[t >= known_by - 2 * YEAR_DAYS]
        share = days / 7.0
        # 1970-01-01 was a Thursday: (days + 3) mod 7 is the time since Monday 00:00
        lo = (start + 3.0) % 7.0
        tow = (recent + 3.0) % 7.0
        inside = np.sum(((tow - lo) % 7.0) < days)
        return float((inside + WEEK_PRIOR * share) / (recent.size + WEEK_PRIOR) / share)

    def _total(self, start: float, days: float) -> tuple[float, str]:
        """Expected count for the window and the estimate chosen (by backtest on the windows of
        the same length before ``until``)."""
        until = self.past_.until
        month = not self.exact_
        dev: dict[str, list[float]] = {}
        for m in range(1, N_LEVEL_CHECKS + 1):
            if month:
                months = max(1, round(days / 30.44))
                ts = pd.Timestamp(self.past_.data_version["until"])
                o = float(to_days(ts - pd.DateOffset(months=months * m)))
                o_end = float(to_days(ts - pd.DateOffset(months=months * (m - 1))))
            else:
                o, o_end = until - m * days, until - (m - 1) * days
            if o - self.past_.start < 28.0:
                break
            observed = float(np.sum((self.times_ >= o) & (self.times_ < o_end)))
            for name, est in self._level(o, o, o_end - o).items():
                mu = max(est, 1e-9)
                d = 2 * (mu - observed + (observed * np.log(observed / mu) if observed else 0.0))
                dev.setdefault(name, []).append(d)
        now = self._level(until, start, days)
        # a candidate must have been checked on at least 3 windows to be chosen
        scored = {n: float(np.mean(v)) for n, v in dev.items() if len(v) >= 3 and n in now}
        name = min(scored, key=lambda n: scored[n]) if scored else "ewma_91d"
        return now[name], name

    # ------------------------------------------------------------------ predict
    def predict(self, start: TimeLike, end: TimeLike) -> RiskSurface:
        past = getattr(self, "past_", None)
        s, e, days = check_window(self.name, None if past is None else past.until, start, end)
        if self.past_.n == 0:
            raise ModelInputError(f"{self.name}: no incidents before {s}; nothing to forecast")
        first = float(to_days(s))
        total, level = self._total(first, days)
        weights, n_held = self._weights(days)
        fields = self._fields(self.past_, self.flat_, self.past_.until, first + days / 2.0)
        groups = np.array([_group(d) for d, _, _ in self.components_] + ["long_run"])
        parts = {
            g: total * (weights[groups == g][:, None] * fields[groups == g]).sum(axis=0)
            for g in sorted(set(groups))
        }
        risk = np.sum(list(parts.values()), axis=0)
        labels = [
            f"tau={d:g}d,h={b:g}cells" + (",same season" if x else "")
            for d, b, x in self.components_
        ] + ["uniform"]
        top = np.argsort(-weights)[:6]
        params = self.get_params() | {
            "weights": {labels[i]: round(float(weights[i]), 4) for i in top},
            "n_held_out": n_held,
            "total": float(total),
            "total_from": level,
        }
        return grid_surface(
            self.grid_, risk, s, e, self.name, params, parts, self.past_.data_version
        )
