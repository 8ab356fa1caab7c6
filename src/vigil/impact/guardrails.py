"""The "exception, not the norm" guardrails: checks that a deployment request stays exceptional.

The Mayor required that armed patrols "must be the exception and cannot become the norm". The
policy file (``guardrails:``, :class:`~vigil.cases.guardrail_policy.GuardrailPolicy`) sets the
limits; this module applies them and returns every :class:`Breach`. It refuses nothing itself:
the case workflow refuses an authorisation with breaches unless an officer the policy's
``permissions.override`` row admits overrides them explicitly, which is audited and flagged to
oversight.

The computations are functions of plain values (intervals, geometries, arrays) so they can be
tested on their own; :func:`check` gathers those values from the case and the case database.

Rules, each a named breach:

* ``area_hours``: deployed hours in the case area and its neighbours (areas within
  ``neighbour_distance_m``), over any ``area_window_days``-day window holding the end of the
  request (the one ending with it, or with a later planned deployment there), *including* the
  requested window, must not exceed ``max_area_hours``. Hours are the
  union of the windows in time: two overlapping deployments next to each other are one burden on
  the community for those hours, not two.
* ``concurrent``: at no instant of the requested window may more than ``max_concurrent``
  deployments (this one included) be active force-wide.
* ``cooling_off``: the requested window must start at least ``cooling_off_days`` after the last
  deployment of another case in the same area (or its neighbours) ended.
* ``evidence``: the area's forecast risk density must be in the city's top share (percentile >=
  ``min_city_percentile``) *and* at least ``min_ratio_to_own_history`` times its own long-run
  level: an area that is always high is not, by that alone, exceptional. When the evidence
  carries the surge scan's figure (``params["exceptional"]``, frozen by vigil.app.exceptional),
  that figure is the ratio, and its p-value must be at most ``SURGE_ALPHA``. A case with no
  frozen forecast breaches it while ``forecast_required`` (default) holds: exceptionality is
  not shown, so an officer of override rank must take the decision; with it false, which cases
  need a forecast is left to the case policy's ``evidence_required_for``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from vigil.cases.guardrail_policy import GuardrailPolicy
from vigil.cases.policy import over_limit
from vigil.cases.states import NOT_DEPLOYED
from vigil.clock import as_utc
from vigil.forecast.surface import RiskSurface
from vigil.localtime import london_and_utc

RULES = ("area_hours", "concurrent", "cooling_off", "evidence")

#: p-value at or under which the frozen surge figure counts as a significant surge
SURGE_ALPHA = 0.05


@dataclass(frozen=True)
class Breach:
    """One guardrail a request breaks: ``rule`` is one of :data:`RULES`, ``message`` says by how
    much, in words an authorising officer and an oversight reader can check."""

    rule: str
    message: str


@dataclass(frozen=True)
class Window:
    """A deployment in time and space, as the guardrails need it (plain values)."""

    case_id: str
    area: BaseGeometry
    start: datetime
    end: datetime


# ---------------------------------------------------------------------- time
def overlap_hours(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> float:
    """Hours shared by [a_start, a_end) and [b_start, b_end); 0 when they do not overlap."""
    start = max(as_utc(a_start), as_utc(b_start))
    end = min(as_utc(a_end), as_utc(b_end))
    return max(0.0, (end - start).total_seconds() / 3600.0)


def union_hours(
    intervals: Iterable[tuple[datetime, datetime]], since: datetime, until: datetime
) -> float:
    """Hours of [since, until) covered by at least one interval (overlaps counted once)."""
    lo, hi = as_utc(since), as_utc(until)
    clipped = sorted(
        (max(as_utc(s), lo), min(as_utc(e), hi))
        for s, e in intervals
        if as_utc(e) > lo and as_utc(s) < hi
    )
    total = 0.0
    cur_s: datetime | None = None
    cur_e: datetime | None = None
    for s, e in clipped:
        if e <= s:
            continue
        if cur_e is None or s > cur_e:
            if cur_s is not None and cur_e is not None:
                total += (cur_e - cur_s).total_seconds()
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    if cur_s is not None and cur_e is not None:
        total += (cur_e - cur_s).total_seconds()
    return total / 3600.0


def max_concurrent(
    intervals: Iterable[tuple[datetime, datetime]], since: datetime, until: datetime
) -> int:
    """Largest number of intervals active at one instant within [since, until)."""
    lo, hi = as_utc(since), as_utc(until)
    events: list[tuple[datetime, int]] = []
    for s, e in intervals:
        s, e = max(as_utc(s), lo), min(as_utc(e), hi)
        if e > s:
            events.append((s, 1))
            events.append((e, -1))
    # ends sort before starts at the same instant: [a, b) and [b, c) are not concurrent
    events.sort(key=lambda ev: (ev[0], ev[1]))
    best = cur = 0
    for _, step in events:
        cur += step
        best = max(best, cur)
    return best


# ---------------------------------------------------------------------- space
def is_neighbour(area: BaseGeometry, other: BaseGeometry, distance_m: float) -> bool:
    """Whether ``other`` counts as the same area: within ``distance_m`` metres (same CRS)."""
    return bool(shapely.dwithin(area, other, distance_m))


# ---------------------------------------------------------------------- evidence
def percentile_of(values: np.ndarray, score: float) -> float:
    """Percentile rank (0-100) of ``score`` among ``values``: the share strictly below plus half
    the ties, so a city of equal areas puts every area at the 50th percentile, not the 100th."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return math.nan
    below = float(np.count_nonzero(v < score))
    ties = float(np.count_nonzero(v == score))
    return 100.0 * (below + 0.5 * ties) / v.size


def ratio_to_history(current: float, long_run: float) -> float:
    """How many times its usual level an area's forecast is; inf for a first-ever signal."""
    if long_run > 0:
        return current / long_run
    return math.inf if current > 0 else math.nan


def area_weights(surface: RiskSurface, area: BaseGeometry) -> np.ndarray:
    """Share of each surface area that lies inside ``area`` (0..1), from polygon overlap."""
    polys = surface.polygons()
    cand = shapely.intersects(polys, area)
    w = np.zeros(len(polys))
    if cand.any():
        sub = polys[cand]
        inside = shapely.area(shapely.intersection(sub, area))
        w[cand] = inside / np.maximum(shapely.area(sub), 1e-9)
    return w


def risk_density(surface: RiskSurface, values: np.ndarray | None = None) -> np.ndarray:
    """Risk per km^2 of land of each surface area (areas of different size compare fairly)."""
    risk = np.asarray(surface.risk if values is None else values, float)
    land = surface.area_m2 if surface.area_m2 is not None else shapely.area(surface.polygons())
    return risk / np.maximum(np.asarray(land, float) / 1e6, 1e-9)


@dataclass(frozen=True)
class EvidenceTest:
    """The numbers behind the ``evidence`` rule, kept for the CIA and the oversight report."""

    density: float  # forecast risk per km^2 in the case area
    city_percentile: float
    long_run_density: float | None
    ratio_to_history: float | None
    cells: int  # surface areas overlapping the case area
    #: the surge scan's figure frozen with the evidence (vigil.app.exceptional), when there is
    #: one: then ``ratio_to_history`` is its ratio and its p-value must also be significant
    surge: dict[str, Any] | None = None


def evidence_test(
    surface: RiskSurface, area: BaseGeometry, long_run: np.ndarray | None = None
) -> EvidenceTest:
    """Where the case area's forecast stands against the city and against its own history.

    The area's density is the overlap-weighted mean density of the surface areas it covers; its
    city percentile ranks that against every surface area's density. ``long_run`` is the
    expected count per surface area at the area's usual level (e.g. the long-run component of the
    frozen forecast, or a long-run baseline over the same window); without it the ratio is
    unknown and the rule cannot be met.
    """
    w = area_weights(surface, area)
    if w.sum() <= 0:
        raise ValueError("the case area does not overlap any area of the evidence surface")
    dens = risk_density(surface)
    here = float(np.average(dens, weights=w))
    pct = percentile_of(dens, here)
    lr_here: float | None = None
    ratio: float | None = None
    if long_run is not None:
        lr = np.asarray(long_run, float)
        if lr.shape != dens.shape:
            raise ValueError(f"long-run level has {lr.size} values for {dens.size} surface areas")
        lr_dens = risk_density(surface, np.nan_to_num(lr, nan=0.0))
        lr_here = float(np.average(lr_dens, weights=w))
        ratio = ratio_to_history(here, lr_here)
    surge = surface.params.get("exceptional")
    if isinstance(surge, dict) and "ratio" in surge:
        # the one exceptional figure: the count of the last days against the area's own level
        return EvidenceTest(
            here, pct, lr_here, float(surge["ratio"]), int(np.count_nonzero(w)), surge
        )
    return EvidenceTest(here, pct, lr_here, ratio, int(np.count_nonzero(w)))


def long_run_from_drivers(surface: RiskSurface) -> np.ndarray | None:
    """The long-run component of the forecast per area from its drivers, or None.

    Drivers are only given for the top areas; elsewhere the long-run level is taken as the
    area's whole forecast (ratio 1: nothing exceptional is claimed where nothing is explained).
    """
    d = surface.drivers
    if d is None or "long_run" not in d.columns:
        return None
    lookup = dict(zip(d["area_id"].astype(str), d["long_run"].astype(float), strict=False))
    risk = np.asarray(surface.risk, float)
    return np.array(
        [lookup.get(str(a), r) for a, r in zip(surface.area_id, risk, strict=True)], dtype=float
    )


# ---------------------------------------------------------------------- the rules
def evaluate(
    *,
    case_id: str,
    area: BaseGeometry,
    start: datetime,
    end: datetime,
    windows: Sequence[Window],
    policy: GuardrailPolicy,
    evidence: EvidenceTest | None,
    now: datetime | None = None,
    no_evidence_reason: str | None = None,
) -> list[Breach]:
    """Every breach of ``policy`` by a request for ``area`` over [start, end), given the past and
    planned deployments ``windows`` (those of this case included: its earlier windows count
    towards the area's hours, not towards concurrency or cooling-off).

    Concurrency is judged from ``now`` on when the window has already started (an extension):
    deployments that overlapped its past hours were judged when it was authorised.

    The evidence rule applies to cases decided on a forecast. ``evidence=None`` skips it (a
    reactive case after an incident, where the case policy's ``evidence_required_for`` allows
    no forecast) unless ``no_evidence_reason`` says why the forecast could not be used."""
    start, end = as_utc(start), as_utc(end)
    if end <= start:
        raise ValueError(f"requested window ends ({end}) before it starts ({start})")
    breaches: list[Breach] = []
    near = [w for w in windows if is_neighbour(area, w.area, policy.neighbour_distance_m)]
    others = [w for w in windows if w.case_id != case_id]

    # area hours over every rolling window that holds the request's end: the one ending with
    # it, and those ending with a later planned deployment in the area (the worst one counts)
    span = timedelta(days=policy.area_window_days)
    spans = [(w.start, w.end) for w in near] + [(start, end)]
    ends = {end} | {as_utc(w.end) for w in near if end < as_utc(w.end) < end + span}
    hours, until = max((union_hours(spans, e - span, e), e) for e in ends)
    if over_limit(hours, policy.max_area_hours):
        breaches.append(
            Breach(
                "area_hours",
                f"{hours:.1f} deployed hours in this area and within "
                f"{policy.neighbour_distance_m:g} m of it over the {policy.area_window_days} days "
                f"to {london_and_utc(until)} (this request included) exceed the cap of "
                f"{policy.max_area_hours:g} h",
            )
        )

    # concurrency force-wide
    conc_from = start if now is None else min(max(start, as_utc(now)), end)
    peak = max_concurrent([(w.start, w.end) for w in others] + [(start, end)], conc_from, end)
    if peak > policy.max_concurrent:
        breaches.append(
            Breach(
                "concurrent",
                f"{peak} deployments would be active at once force-wide (this one included); "
                f"the cap is {policy.max_concurrent}",
            )
        )

    # cooling-off since the last deployment of another case in the same area
    prior = [w for w in near if w.case_id != case_id and as_utc(w.start) < end]
    if prior and policy.cooling_off_days > 0:
        last = max(prior, key=lambda w: as_utc(w.end))
        last_end = as_utc(last.end)
        free_from = last_end + timedelta(days=policy.cooling_off_days)
        if start < free_from:
            breaches.append(
                Breach(
                    "cooling_off",
                    f"case {last.case_id} deployed in this area until {london_and_utc(last_end)}; "
                    f"the {policy.cooling_off_days}-day cooling-off runs until "
                    f"{london_and_utc(free_from)}, after the requested start "
                    f"{london_and_utc(start)}",
                )
            )

    # evidence threshold
    if evidence is None:
        if no_evidence_reason:
            breaches.append(Breach("evidence", no_evidence_reason))
    else:
        reasons = []
        if not evidence.city_percentile >= policy.min_city_percentile:
            reasons.append(
                f"its forecast is at the {evidence.city_percentile:.1f}th percentile of the city, "
                f"below the {policy.min_city_percentile:g}th required"
            )
        if evidence.ratio_to_history is None:
            reasons.append("its own long-run level is unknown, so exceptionality is not shown")
        elif math.isnan(evidence.ratio_to_history):
            # no risk now and none usually: nothing is exceptional unless the policy asks nothing
            if policy.min_ratio_to_own_history > 0:
                reasons.append("it has no forecast risk now and no usual level to exceed")
        elif evidence.ratio_to_history < policy.min_ratio_to_own_history:
            reasons.append(
                f"its forecast is {evidence.ratio_to_history:.2f} times its own long-run level, "
                f"below the {policy.min_ratio_to_own_history:g} times required (always high is "
                f"not exceptional)"
            )
        surge_p = (evidence.surge or {}).get("p_value")
        if surge_p is not None and not surge_p <= SURGE_ALPHA:
            reasons.append(
                f"no significant surge in the area (surge scan p = {surge_p:.3g}, above "
                f"{SURGE_ALPHA:g})"
            )
        if reasons:
            why = "; ".join(reasons)
            breaches.append(Breach("evidence", f"the area is not exceptional: {why}"))
    return breaches


# ---------------------------------------------------------------------- over the case database
class GuardedCase(Protocol):
    """What :func:`check` reads from a case: :class:`vigil.cases.workflow.GuardView`, the case
    with the window being decided and its frozen evidence (a RiskSurface dict, or
    ``{"surface": ..., "long_run": ...}``; None when none is frozen)."""

    id: Any
    area_wkt: str
    requested_start: datetime
    requested_end: datetime
    evidence: Any


def _surface_of(evidence: Any) -> tuple[RiskSurface | None, np.ndarray | None]:
    """The frozen RiskSurface and, if the snapshot carries one, its long-run baseline."""
    if evidence is None:
        return None, None
    if isinstance(evidence, str | bytes):
        evidence = json.loads(evidence)
    if isinstance(evidence, RiskSurface):
        return evidence, long_run_from_drivers(evidence)
    if isinstance(evidence, dict):
        surf_d = evidence.get("surface", evidence)
        if not isinstance(surf_d, dict) or "risk" not in surf_d:
            return None, None
        surface = RiskSurface.from_dict(surf_d)
        baseline = evidence.get("long_run") or evidence.get("baseline")
        if isinstance(baseline, dict) and "risk" in baseline:
            return surface, np.asarray(baseline["risk"], float)
        if isinstance(baseline, list):
            return surface, np.asarray(baseline, float)
        return surface, long_run_from_drivers(surface)
    return None, None


def check(
    session: Any,
    case: GuardedCase,
    policy: GuardrailPolicy,
    now: datetime,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[Breach]:
    """Every guardrail the case's requested window breaks, given the deployments on record.

    Reads the case's area (``area_wkt``, EPSG:27700), requested window (``requested_start`` /
    ``requested_end``, or ``start``/``end`` given here) and frozen ``evidence`` (see
    :class:`GuardedCase`); past and planned deployments come from
    ``vigil.cases.queries.deployment_windows``.
    """
    from vigil.cases.queries import deployment_windows

    area = shapely.from_wkt(case.area_wkt)
    start = start or case.requested_start
    end = end or case.requested_end
    if start is None or end is None:
        raise ValueError(f"case {case.id} has no requested window to check")
    start, end = as_utc(start), as_utc(end)
    reach = timedelta(days=max(policy.area_window_days, policy.cooling_off_days) + 1)
    since = min(start, as_utc(now)) - reach
    windows = [
        Window(str(w.case_id), shapely.from_wkt(w.area_wkt), as_utc(w.start), as_utc(w.end))
        for w in deployment_windows(session, since, end, now=as_utc(now))
        if str(getattr(w, "status", "")).lower() not in NOT_DEPLOYED
    ]
    surface, long_run = _surface_of(case.evidence)
    evidence = None
    reason = "no forecast evidence is frozen on this case" if policy.forecast_required else None
    if surface is not None:
        try:
            evidence = evidence_test(surface, area, long_run)
        except ValueError as exc:
            reason = f"the evidence forecast cannot be read for this area: {exc}"
    return evaluate(
        case_id=str(case.id),
        area=area,
        start=start,
        end=end,
        windows=windows,
        policy=policy,
        evidence=evidence,
        now=now,
        no_evidence_reason=reason,
    )
