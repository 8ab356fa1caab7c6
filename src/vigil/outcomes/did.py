"""Difference-in-differences on incident counts: did serious violence fall where we deployed?

The estimate compares the change in the deployed areas (before vs during/after) with the change
in comparable control areas over the same periods, so a city-wide rise or fall (season, a hot
summer, a lockdown) is not credited to the deployment. Counts are modelled with a Poisson GLM
with one effect per area and one per period, and the deployment effect as a rate ratio:

    log E[count(area, period)] = alpha_area + gamma_period + beta * deployed(area, period)

``exp(beta)`` is the rate ratio (0.8 = 20 % fewer incidents than the controls' trend predicts).
Real counts are over-dispersed, so the standard error is scaled by the Pearson chi-square
(quasi-Poisson); the 95 % interval is ``exp(beta +/- 1.96 se)``. Several deployments at
different times (a season) fit the same model with a staggered ``deployed`` indicator.

Below a documented minimum of incidents the estimate is not made at all and the result says
plainly "too few incidents to tell" rather than printing a number nobody should read. The rule
is decided from what was known before the outcome: the deployed area's before-period count and
what it is expected to be during/after on the controls' trend, never the observed outcome
count (a rule on the outcome refuses real reductions and keeps upward-biased estimates).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from vigil.errors import VigilError

#: Fewest incidents in the deployed areas *before* deployment, and fewest during/after, below
#: which no estimate is made. With ~10 events a Poisson rate is known only to about +/- 60 %,
#: so a 20-30 % effect cannot be told from noise.
MIN_TREATED_BEFORE = 10
MIN_TREATED_AFTER = 10
#: Fewest control incidents in each of the two phases: the controls carry the counterfactual.
MIN_CONTROL_PER_PHASE = 20

Z95 = 1.959963984540054


class OutcomeInputError(VigilError):
    """The counts handed to an evaluation are malformed (names the column and the problem)."""


class Verdict(StrEnum):
    REDUCTION = "reduction"
    INCREASE = "increase"
    NO_DETECTABLE_EFFECT = "no detectable effect"
    TOO_FEW = "too few incidents to tell"


@dataclass(frozen=True)
class RateEstimate:
    """A verdict with its rate ratio, 95 % interval and p-value: the part every outcome estimate
    (difference-in-differences here, the displacement ring in placebo.py) shares, declared once."""

    verdict: str
    rate_ratio: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None

    def covers(self, rate_ratio: float) -> bool:
        """Whether the 95 % interval contains ``rate_ratio`` (False when no estimate)."""
        if self.ci_low is None or self.ci_high is None:
            return False
        return self.ci_low <= rate_ratio <= self.ci_high


@dataclass(frozen=True)
class DidResult(RateEstimate):
    """A difference-in-differences estimate and what it means, in words a report can print."""

    verdict: Verdict
    treated_before: int
    treated_after: int
    control_before: int
    control_after: int
    n_treated_areas: int
    n_control_areas: int
    dispersion: float | None
    message: str

    @property
    def effect_pct(self) -> float | None:
        """Change attributed to deployment, in % (negative = fewer incidents)."""
        return None if self.rate_ratio is None else 100.0 * (self.rate_ratio - 1.0)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["verdict"] = str(self.verdict)
        d["effect_pct"] = self.effect_pct
        return d


REQUIRED = ("area_id", "period", "count", "treated", "post")


def _check_panel(panel: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in REQUIRED if c not in panel.columns]
    if missing:
        raise OutcomeInputError(f"count panel is missing columns {missing}; needs {list(REQUIRED)}")
    counts = pd.to_numeric(panel["count"], errors="coerce")
    bad = counts.isna() | (counts < 0) | (counts != np.floor(counts))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise OutcomeInputError(
            f"count panel row {i + 1}, column 'count': {panel['count'].iloc[i]!r} "
            "is not a non-negative whole number"
        )
    if panel.duplicated(["area_id", "period"]).any():
        dup = panel[panel.duplicated(["area_id", "period"], keep=False)].iloc[0]
        raise OutcomeInputError(
            f"count panel has two rows for area '{dup['area_id']}', period {dup['period']}"
        )
    out = panel.copy()
    out["count"] = counts.astype(float)
    out["treated"] = out["treated"].astype(bool)
    out["post"] = out["post"].astype(bool)
    return out


def estimate_did(
    panel: pd.DataFrame,
    *,
    min_treated_before: int = MIN_TREATED_BEFORE,
    min_treated_after: int = MIN_TREATED_AFTER,
    min_control_per_phase: int = MIN_CONTROL_PER_PHASE,
    cluster: bool = False,
) -> DidResult:
    """Estimate the deployment effect from a count panel.

    ``panel`` has one row per (``area_id``, ``period``) with ``count`` (incidents), ``treated``
    (the area was deployed to) and ``post`` (the period is during/after *that area's*
    deployment; always False for control areas). Periods are whatever unit the data resolve:
    months for police.uk data, days or hours for timestamped data.

    With ``cluster`` the standard error is the larger of the quasi-Poisson one and the
    cluster-robust (sandwich, clustered by area) one: counts of one area are correlated over
    time, which the quasi-Poisson scale ignores, and with few deployed areas the sandwich alone
    is too small (it has one cluster's worth of information about the deployed effect).
    """
    p = _check_panel(panel)
    p["deployed"] = p["treated"] & p["post"]
    if (~p["treated"] & p["post"]).any():
        raise OutcomeInputError(
            "count panel marks control-area rows as 'post'; only treated can be"
        )
    treated_areas = p.loc[p["treated"], "area_id"].unique()
    control_areas = p.loc[~p["treated"], "area_id"].unique()
    tb = int(p.loc[p["treated"] & ~p["post"], "count"].sum())
    ta = int(p.loc[p["deployed"], "count"].sum())
    # Controls' phases: periods in which some treated area is deployed count as "after".
    post_periods = set(p.loc[p["deployed"], "period"])
    ctrl = p[~p["treated"]]
    ca = int(ctrl.loc[ctrl["period"].isin(post_periods), "count"].sum())
    cb = int(ctrl["count"].sum()) - ca
    base = {
        "treated_before": tb,
        "treated_after": ta,
        "control_before": cb,
        "control_after": ca,
        "n_treated_areas": len(treated_areas),
        "n_control_areas": len(control_areas),
    }
    short = []
    if len(treated_areas) == 0:
        short.append("no deployed area")
    if len(control_areas) == 0:
        short.append("no control area")
    if tb < min_treated_before:
        short.append(f"{tb} incidents in the deployed area before (minimum {min_treated_before})")
    # Decided before looking at the outcome: the deployed area's *expected* count during/after
    # (its before-period count carried forward on the controls' trend), never the observed
    # one. Refusing on the observed count turned real reductions into "too few" and kept only
    # the estimates that happened to come out high (issue 17).
    expected_after = tb * (ca / cb) if cb > 0 else 0.0
    if expected_after < min_treated_after:
        short.append(
            f"{expected_after:.0f} incidents expected during/after deployment from the "
            f"deployed area's before-period (minimum {min_treated_after})"
        )
    if min(cb, ca) < min_control_per_phase:
        short.append(
            f"{min(cb, ca)} control incidents in a phase (minimum {min_control_per_phase})"
        )
    if short:
        return DidResult(
            Verdict.TOO_FEW,
            None,
            None,
            None,
            None,
            dispersion=None,
            message="Too few incidents to tell: " + "; ".join(short) + ".",
            **base,
        )
    if ta == 0:
        # No incident at all during/after: the GLM's estimate runs off to zero. The rate ratio
        # is 0 and its exact upper bound comes from the conditional binomial of the deployed
        # area's after and before counts, on the controls' trend.
        from vigil.outcomes.chance import exact_p_value, exact_rate_ratio_interval

        trend = ca / cb
        rr, lo = 0.0, 0.0
        hi = exact_rate_ratio_interval(0, tb)[1] / trend
        pval, disp = exact_p_value(0, tb, trend, 1.0), 1.0
    else:
        beta, se, pval, disp = _fit_poisson_fe(p, cluster=cluster)
        rr = math.exp(beta)
        lo, hi = math.exp(beta - Z95 * se), math.exp(min(beta + Z95 * se, 700.0))
    if hi < 1.0:
        verdict = Verdict.REDUCTION
    elif lo > 1.0:
        verdict = Verdict.INCREASE
    else:
        verdict = Verdict.NO_DETECTABLE_EFFECT
    return DidResult(
        verdict,
        rr,
        lo,
        hi,
        pval,
        dispersion=disp,
        message=_describe(verdict, rr, lo, hi),
        **base,
    )


def _fit_poisson_fe(p: pd.DataFrame, *, cluster: bool = False) -> tuple[float, float, float, float]:
    """Quasi-Poisson GLM with area and period fixed effects; (beta, se, p, dispersion).

    Fitted by iteratively reweighted least squares on a *sparse* design (three non-zeros a
    row), so a daily panel of hundreds of areas by hundreds of days stays fast; on the same
    panel it agrees with statsmodels' GLM (tests/outcomes/test_did.py).
    """
    from scipy import sparse, stats

    # Areas with no incident at all carry no information about rates and make the GLM's
    # area effect run off to minus infinity; drop them (they do not change beta).
    area_total = p.groupby("area_id")["count"].transform("sum")
    p = p[area_total > 0]
    period_total = p.groupby("period")["count"].transform("sum")
    p = p[period_total > 0]
    y = p["count"].to_numpy(dtype=float)
    n = len(y)
    a_codes = pd.factorize(p["area_id"].astype(str), sort=True)[0]
    t_codes = pd.factorize(p["period"].astype(str), sort=True)[0]
    n_a, n_t = int(a_codes.max()) + 1, int(t_codes.max()) + 1
    # columns: const | areas 1.. | periods 1.. | deployed  (first level of each dropped)
    rows = [np.arange(n)]
    cols = [np.zeros(n, dtype=np.int64)]
    vals = [np.ones(n)]
    ma, mt = a_codes > 0, t_codes > 0
    rows += [np.flatnonzero(ma), np.flatnonzero(mt)]
    cols += [a_codes[ma], n_a - 1 + t_codes[mt]]
    vals += [np.ones(int(ma.sum())), np.ones(int(mt.sum()))]
    k = n_a + n_t - 1
    d = p["deployed"].to_numpy(dtype=bool)
    rows.append(np.flatnonzero(d))
    cols.append(np.full(int(d.sum()), k))
    vals.append(np.ones(int(d.sum())))
    X = sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, k + 1)
    )
    mu = (y + y.mean()) / 2.0
    eta = np.log(mu)
    dev_old = np.inf
    xtwx = None
    for _ in range(100):
        z = eta + (y - mu) / mu
        xtw = X.T.multiply(mu).tocsr()
        xtwx = (xtw @ X).toarray()
        rhs = xtw @ z
        try:
            coef = np.linalg.solve(xtwx, rhs)
        except np.linalg.LinAlgError:
            coef = np.linalg.lstsq(xtwx, rhs, rcond=None)[0]
        eta = X @ coef
        mu = np.exp(eta)
        with np.errstate(divide="ignore", invalid="ignore"):
            dev = 2.0 * float(np.sum(np.where(y > 0, y * np.log(y / mu), 0.0) - (y - mu)))
        if abs(dev - dev_old) <= 1e-10 * (abs(dev) + 0.1):
            break
        dev_old = dev
    assert xtwx is not None
    xtw = X.T.multiply(mu).tocsr()
    info = (xtw @ X).toarray()
    try:
        var_beta = float(np.linalg.inv(info)[k, k])
    except np.linalg.LinAlgError:
        var_beta = float(np.linalg.pinv(info)[k, k])
    # Quasi-Poisson: widen by the Pearson dispersion, never narrow below Poisson, and stay at
    # Poisson when the model is saturated (no residual degrees of freedom to estimate it).
    df_resid = n - (k + 1)
    pearson = float(np.sum((y - mu) ** 2 / mu))
    dispersion = max(1.0, pearson / df_resid) if df_resid > 0 else 1.0
    beta = float(coef[k])
    se = math.sqrt(max(var_beta, 0.0) * dispersion)
    if cluster:
        # sandwich clustered by area: bread (X'WX)^-1, meat sum over areas of score outer products
        member = sparse.csr_matrix((np.ones(n), (a_codes, np.arange(n))), shape=(n_a, n))
        scores = np.asarray((member @ X.multiply((y - mu)[:, None])).todense())
        try:
            bread = np.linalg.inv(info)[k]
        except np.linalg.LinAlgError:
            bread = np.linalg.pinv(info)[k]
        s_k = scores @ bread
        var_cl = float(s_k @ s_k) * n_a / max(n_a - 1, 1)
        se = max(se, math.sqrt(max(var_cl, 0.0)))
    if not (math.isfinite(beta) and math.isfinite(se)):
        raise OutcomeInputError("the difference-in-differences model did not converge")
    pval = float(2 * stats.norm.sf(abs(beta / se))) if se > 0 else float("nan")
    return beta, se, pval, dispersion


def change_pct(ratio: float) -> str:
    """A rate ratio as a whole-percent change for people: "+7%", "-12%", and "0%" for a change
    that rounds to nothing (never "-0%", which read as a reduction on the case page)."""
    if math.isinf(ratio):
        return "+inf%"
    v = round(100 * (ratio - 1))
    return "0%" if v == 0 else f"{v:+d}%"


def interval_text(lo: float, hi: float) -> str:
    return f"95% interval {change_pct(lo)} to {change_pct(hi)}"


def _describe(verdict: Verdict, rr: float, lo: float, hi: float) -> str:
    pct = 100 * (rr - 1)
    interval = interval_text(lo, hi)
    if verdict is Verdict.REDUCTION:
        return (
            f"Serious violence in the deployed areas was {-pct:.0f}% lower than the control "
            f"areas' trend predicts ({interval})."
        )
    if verdict is Verdict.INCREASE:
        return (
            f"Serious violence in the deployed areas was {pct:.0f}% higher than the control "
            f"areas' trend predicts ({interval})."
        )
    return f"The estimate is {change_pct(rr)} but the {interval} includes no change."
