"""The CIA's automatic indicators, computed for an area from the London sources.

Every figure says which *level* it is at and how it was made, because the sources differ:

* residents: ONS mid-2020 LSOA estimates (population, age bands); 2011 census ethnic group
  counts (GLA LSOA atlas); IMD 2019 (MHCLG), population-weighted over LSOAs for larger areas;
* stop and search: police.uk Met files. Only one month (2016-06) has locations, so the *area*
  figures use that month alone; the *force-wide* figures use every Met month. Method: searches
  per 1,000 residents of each self-defined ethnic group (2011 census denominators, mapped to the
  census's five groups), and the ratio of each group's rate to the White rate. Searches of
  people who did not state an ethnicity are counted apart;
* serious violence: police.uk street crimes (victim-reported serious violence: violence and
  sexual offences, robbery), by month, up to a month the caller names or the last month in the
  data;
* long-run level: MPS recorded violence against the person plus robbery per LSOA, 2011-2021
  annual mean (London Datastore), ranked against the city like the recent figure.

The functions that take only values (:func:`disproportionality`, :func:`deployment_history`,
:func:`forecast_standing`, :func:`exceptionality_verdict`) read no file.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from vigil.cases.guardrail_policy import GuardrailPolicy
from vigil.cases.states import NOT_DEPLOYED
from vigil.clock import as_utc
from vigil.errors import DataError
from vigil.forecast.surface import RiskSurface
from vigil.impact import sources
from vigil.impact.area import AreaSelection, points_in_area
from vigil.impact.assessment import AreaProfile
from vigil.impact.guardrails import (
    SURGE_ALPHA,
    evidence_test,
    long_run_from_drivers,
    percentile_of,
    union_hours,
)
from vigil.impact.models import (
    CityComparison,
    DeploymentHistory,
    ForecastStanding,
    StopSearchGroup,
    StopSearchIndicators,
    ViolenceTrend,
)
from vigil.impact.sources import AGE_BANDS, AREA_STOP_SEARCH_FILE, GROUPS, STOP_SEARCH_DIR
from vigil.settings import shared_data_dir

#: months of the recent serious-violence figures (the trend's "last months", the city rank)
RECENT_MONTHS = 3


def latest_month(shared: Path | None = None) -> str:
    """The last month (YYYY-MM) of the street-crime data: the indicators' "now" when no case
    or month is named."""
    return str(sources.street_serious_violence(shared_data_dir(shared))["month"].max())


def months_up_to(as_of: str | None, shared: Path | None = None) -> list[str]:
    """The months of street-crime data up to ``as_of`` (YYYY-MM; None = every month), in order."""
    months = sorted(sources.street_serious_violence(shared_data_dir(shared))["month"].unique())
    return [m for m in months if as_of is None or m <= as_of]


def exceptionality_verdict(high: bool, above_usual: bool) -> str:
    """The evidence rule in words: high against the city, above the area's own usual level."""
    if high and above_usual:
        return "exceptional: high against the city and well above its own usual level"
    if high:
        return "always high: high against the city but near its own usual level"
    if above_usual:
        return "rising: well above its own usual level but not high against the city"
    return "not exceptional: neither high against the city nor above its usual level"


def area_profile(area: AreaSelection, shared: Path | None = None) -> AreaProfile:
    """Who lives in the area: residents by age, 2011 ethnic mix, IMD 2019 (weighted by LSOA)."""
    res = sources.residents(shared_data_dir(shared))
    w = area.lsoa_weights.reindex(res.index).fillna(0.0)
    sel = w > 0
    r, w = res[sel], w[sel]
    population = float((r["population"] * w).sum())
    eth = {g: float((r[f"eth_{g}"] * w).sum()) for g in GROUPS}
    eth_total = sum(eth.values())
    ipop = r["imd_population"] * w
    imd_ok = r["imd_score"].notna() & (ipop > 0)
    return AreaProfile(
        area_kind=area.kind,
        area_code=area.code,
        area_name=area.name,
        population=round(population, 1),
        population_source="ONS mid-2020 LSOA estimates",
        age_bands={band: round(float((r[f"age_{band}"] * w).sum()), 1) for band in AGE_BANDS},
        ethnicity_2011={g: v / eth_total for g, v in eth.items()} if eth_total > 0 else {},
        imd_score=float(np.average(r["imd_score"][imd_ok], weights=ipop[imd_ok]))
        if imd_ok.any()
        else None,
        imd_decile=float(np.average(r["imd_decile"][imd_ok], weights=ipop[imd_ok]))
        if imd_ok.any()
        else None,
        notes=(
            "IMD 2019 score and decile are weighted by each LSOA's mid-2015 population"
            if len(r) > 1
            else ""
        ),
    )


def disproportionality(
    searches: Mapping[Any, int], residents: Mapping[str, float]
) -> list[StopSearchGroup]:
    """Searches per 1,000 residents of each group and each rate's ratio to the White rate."""
    rates = {
        g: (1000.0 * searches.get(g, 0) / residents[g]) if residents.get(g, 0) > 0 else None
        for g in GROUPS
    }
    white = rates.get("White")

    def to_white(rate: float | None) -> float | None:
        return rate / white if rate is not None and white else None

    return [
        StopSearchGroup(
            group=g,
            searches=int(searches.get(g, 0)),
            residents=round(float(residents.get(g, 0.0)), 1),
            rate_per_1000=rates[g],
            ratio_to_white=to_white(rates[g]),
        )
        for g in GROUPS
    ]


_SS_METHOD = (
    "searches per 1,000 residents of each self-defined ethnic group (2011 census residents as "
    "denominator); ratio = group rate / White rate; 'not stated' searches excluded from rates"
)


def stop_search_indicators(
    area: AreaSelection, shared: Path | None = None
) -> tuple[StopSearchIndicators, StopSearchIndicators]:
    """(area level from the one located month, force-wide from every Met month)."""
    root = shared_data_dir(shared)
    ss = sources.stop_searches(root)
    res = sources.residents(root)
    lsoas = sources.lsoa_boundaries(root)
    # force-wide: the Met does not police the City of London, so its residents are left out
    met = res.index.isin(lsoas.index[lsoas["LAD11NM"] != "City of London"])
    force_res = {g: float(res.loc[met, f"eth_{g}"].sum()) for g in GROUPS}
    force_counts = ss["group"].value_counts().to_dict()
    force = StopSearchIndicators(
        level="force-wide (Metropolitan Police)",
        months=sorted(ss["month"].unique().tolist()),
        source=f"police.uk Met stop-and-search files in {STOP_SEARCH_DIR}",
        method=_SS_METHOD,
        total=len(ss),
        not_stated=int(ss["group"].isna().sum()),
        groups=disproportionality(force_counts, force_res),
    )
    located = ss[(ss["file"] == AREA_STOP_SEARCH_FILE) & np.isfinite(ss["x"])]
    inside = shapely.contains_xy(area.geometry, located["x"].to_numpy(), located["y"].to_numpy())
    here = located[inside]
    w = area.lsoa_weights
    area_res = {g: float((res[f"eth_{g}"].reindex(w.index).fillna(0) * w).sum()) for g in GROUPS}
    area_ss = StopSearchIndicators(
        level="area",
        months=[AREA_STOP_SEARCH_FILE[:7]],
        source=f"{STOP_SEARCH_DIR / AREA_STOP_SEARCH_FILE} (the only Met month with locations)",
        method=_SS_METHOD + "; searches located in the area, whoever was searched",
        total=len(here),
        not_stated=int(here["group"].isna().sum()),
        groups=disproportionality(here["group"].value_counts().to_dict(), area_res),
    )
    return area_ss, force


def violence_trend(
    area: AreaSelection,
    as_of: str | None = None,
    recent: int = RECENT_MONTHS,
    shared: Path | None = None,
) -> ViolenceTrend:
    """Monthly victim-reported serious violence up to ``as_of`` (YYYY-MM; None = the last month
    in the data); the last ``recent`` months' mean against the mean of the months before them,
    for the area and for London."""
    sv = sources.street_serious_violence(shared_data_dir(shared))
    months = months_up_to(as_of, shared)
    if len(months) <= recent:
        raise DataError(
            f"the serious-violence trend needs more than {recent} months of street-crime data "
            f"up to {as_of}; there are {len(months)}",
            field="as_of",
        )
    here = points_in_area(area, sv)
    monthly = here["month"].value_counts().reindex(months, fill_value=0).astype(int)
    london = sv["month"].value_counts().reindex(months, fill_value=0).astype(float)
    rec, earlier = months[-recent:], months[:-recent]

    def ratio(s: pd.Series) -> float | None:
        before = float(s[earlier].mean())
        return float(s[rec].mean()) / before if before > 0 else None

    return ViolenceTrend(
        source=f"police.uk street crimes {months[0]}..{months[-1]}: violence and sexual "
        "offences, robbery",
        monthly={str(m): int(v) for m, v in monthly.items()},
        recent_months=rec,
        recent_monthly_mean=float(monthly[rec].mean()),
        earlier_monthly_mean=float(monthly[earlier].mean()),
        change_ratio=ratio(monthly),
        london_change_ratio=ratio(london),
    )


def city_comparison(
    area: AreaSelection,
    as_of: str | None = None,
    recent: int = RECENT_MONTHS,
    policy: GuardrailPolicy | None = None,
    shared: Path | None = None,
) -> CityComparison:
    """The area's recent serious-violence density (the ``recent`` months to ``as_of``, None =
    the last month in the data) and its long-run density, each ranked among London's LSOAs;
    the verdict applies the policy's evidence thresholds to these data."""
    policy = policy or GuardrailPolicy()
    root = shared_data_dir(shared)
    sv = sources.street_serious_violence(root)
    lsoas = sources.lsoa_boundaries(root)
    km2 = lsoas.geometry.area / 1e6
    months = months_up_to(as_of, root)[-recent:]
    if not months:
        raise DataError(f"no street-crime data up to {as_of}", field="as_of")
    recent_sv = sv[sv["month"].isin(months)]
    per_lsoa = recent_sv["lsoa"].value_counts().reindex(lsoas.index, fill_value=0).astype(float)
    long_run = sources.long_run_violence(root).reindex(lsoas.index).fillna(0.0)

    here_recent = float(len(points_in_area(area, recent_sv)))
    w = area.lsoa_weights
    here_long = float((long_run.reindex(w.index).fillna(0.0) * w).sum())
    dens_recent = here_recent / area.km2
    dens_long = here_long / area.km2
    pct_recent = percentile_of((per_lsoa / km2).to_numpy(), dens_recent)
    pct_long = percentile_of((long_run / km2).to_numpy(), dens_long)
    share_now = here_recent / per_lsoa.sum() if per_lsoa.sum() > 0 else math.nan
    share_long = here_long / long_run.sum() if long_run.sum() > 0 else math.nan
    relative = share_now / share_long if share_long > 0 else None
    high = pct_recent >= policy.min_city_percentile
    above_usual = relative is not None and relative >= policy.min_ratio_to_own_history
    return CityComparison(
        method=(
            f"serious violence per km^2 over {months[0]}..{months[-1]} (police.uk) and recorded "
            "violence against the person + robbery per km^2, 2011-2021 annual mean (MPS), each "
            f"as a percentile among London's {len(lsoas):,} LSOAs; relative level = the area's "
            "share of London now / its long-run share; thresholds from the guardrail policy "
            f"({policy.min_city_percentile:g}th percentile, {policy.min_ratio_to_own_history:g}x)"
        ),
        recent_per_km2=dens_recent,
        recent_percentile=pct_recent,
        long_run_per_km2=dens_long,
        long_run_percentile=pct_long,
        relative_to_own_history=relative,
        verdict=exceptionality_verdict(high, above_usual),
    )


def deployment_history(
    windows: Sequence[Any], area: BaseGeometry, as_of: datetime, neighbour_distance_m: float
) -> DeploymentHistory:
    """Deployed hours in the area and within ``neighbour_distance_m`` of it over the last 28, 90
    and 365 days to ``as_of``. ``windows`` have ``case_id``, ``area_wkt``, ``start``, ``end``."""
    as_of = as_utc(as_of)
    near = [
        w
        for w in windows
        if str(getattr(w, "status", "")).lower() not in NOT_DEPLOYED
        and shapely.dwithin(area, shapely.from_wkt(w.area_wkt), neighbour_distance_m)
    ]
    spans = [(as_utc(w.start), min(as_utc(w.end), as_of)) for w in near]

    def hours(days: int) -> float:
        return union_hours(spans, as_of - timedelta(days=days), as_of)

    return DeploymentHistory(
        neighbour_distance_m=neighbour_distance_m,
        as_of=as_of,
        hours_28d=hours(28),
        hours_90d=hours(90),
        hours_365d=hours(365),
        cases=sorted({str(w.case_id) for w in near if as_utc(w.start) < as_of}),
    )


def forecast_standing(
    surface: RiskSurface, area: BaseGeometry, policy: GuardrailPolicy | None = None
) -> ForecastStanding:
    """The evidence rule's numbers for ``area`` on ``surface``, with a verdict in words."""
    policy = policy or GuardrailPolicy()
    ev = evidence_test(surface, area, long_run_from_drivers(surface))
    high = ev.city_percentile >= policy.min_city_percentile
    ratio = ev.ratio_to_history
    above = ratio is not None and not math.isnan(ratio) and ratio >= policy.min_ratio_to_own_history
    # the guardrail's test on the frozen surge figure: its p-value too (one figure, one test)
    surge_p = (ev.surge or {}).get("p_value")
    by_chance = above and surge_p is not None and not surge_p <= SURGE_ALPHA
    if ratio is None:
        verdict = "own long-run level unknown: exceptionality cannot be shown"
    elif by_chance:
        verdict = (
            f"not exceptional: {ratio:.2f} times its own expected level, but a surge that size "
            f"arises by chance here (surge scan p = {surge_p:.3g}, above {SURGE_ALPHA:g})"
        )
    else:
        verdict = exceptionality_verdict(high, above)
    pg = surface.data_version.get("police_generated_share")
    return ForecastStanding(
        model=surface.model,
        start=surface.start.isoformat(),
        end=surface.end.isoformat(),
        risk_per_km2=ev.density,
        city_percentile=ev.city_percentile,
        long_run_per_km2=ev.long_run_density,
        ratio_to_own_history=None if ratio is None or not math.isfinite(ratio) else ratio,
        police_generated_share=None if pg is None else float(pg),
        verdict=verdict,
    )
