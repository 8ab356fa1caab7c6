"""The CIA's automatic indicators for a chosen area, computed from the real London files.

For an LSOA, a ward or a polygon (British National Grid), this module fills in who lives there
(population, age, 2011 census ethnicity, IMD 2019), how heavily the area is already policed
(stop-and-search volume and disproportionality; past deployments), the recent serious-violence
trend, and whether the area is exceptional now or "just always high" against the city.

Every figure says which *level* it is at and how it was made, because the sources differ:

* residents: ONS mid-2020 LSOA estimates (population, age bands); 2011 census ethnic group
  counts (GLA LSOA atlas); IMD 2019 (MHCLG), population-weighted over LSOAs for larger areas;
* stop and search: police.uk Met files. Only the 2016-06 file has locations, so the *area*
  figures use that month alone; the *force-wide* figures use all eleven Met months (2015-04 to
  2016-01 and 2016-06). Method: searches per 1,000 residents of each self-defined ethnic group
  (2011 census denominators, mapped to the census's five groups), and the ratio of each group's
  rate to the White rate. Searches of people who did not state an ethnicity are counted apart;
* serious violence: police.uk street crimes 2022 (victim-reported serious violence: violence and
  sexual offences, robbery), by month;
* long-run level: MPS recorded violence against the person plus robbery per LSOA, 2011-2021
  annual mean (London Datastore), ranked against the city like the recent figure.

An area made of whole LSOAs (an LSOA; a 2014-scheme ward = the LSOAs whose interior point lies in
it) counts residents and street crimes by LSOA code. A free polygon takes each LSOA's residents
in proportion to the share of its land inside the polygon (residents assumed spread evenly: no
output-area geometry is available) and counts points inside the polygon.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pydantic import BaseModel, ConfigDict, Field
from shapely.geometry.base import BaseGeometry

from vigil.cases.guardrail_policy import GuardrailPolicy
from vigil.clock import as_utc
from vigil.data.taxonomy import SERIOUS_VIOLENCE
from vigil.errors import DataError, VigilError
from vigil.forecast.surface import RiskSurface
from vigil.geo.projection import BNG, to_metres
from vigil.impact.assessment import AreaProfile, CommunityImpactAssessment
from vigil.impact.guardrails import (
    NOT_DEPLOYED,
    evidence_test,
    long_run_from_drivers,
    percentile_of,
    union_hours,
)
from vigil.settings import shared_data_dir

#: the census's five broad ethnic groups, in the order every table shows them
GROUPS: tuple[str, ...] = ("White", "Mixed", "Asian", "Black", "Other")

LSOA_SHP = Path("london-geography/boundaries/london-2011-lsoa-gen20.shp")
WARDS_ZIP = Path("london-boundaries-extra/london_wards.zip")
POPULATION_CSV = Path("london-geography/population/london-mid2020-pop.csv")
ATLAS_CSV = Path("london-demographics/lsoa-data_clean.csv")
IMD_XLSX = Path("london-boundaries-extra/london_lsoa_deprivation.xlsx")
STOP_SEARCH_DIR = Path("met-stop-search-2015-2016")
AREA_STOP_SEARCH_FILE = "2016-06-metropolitan-stop-and-search.csv"
LONG_RUN_FILES = (
    Path("london-geography/crime_annual_lsoa/london-2011-2021-major-violence.csv"),
    Path("london-geography/crime_annual_lsoa/london-2011-2021-major-robbery.csv"),
)
AGE_BANDS = ("0-15", "16-29", "30-44", "45-64", "65+")
ATLAS_ETHNICITY = {
    "White": "Ethnic Group;White;2011",
    "Mixed": "Ethnic Group;Mixed/multiple ethnic groups;2011",
    "Asian": "Ethnic Group;Asian/Asian British;2011",
    "Black": "Ethnic Group;Black/African/Caribbean/Black British;2011",
    "Other": "Ethnic Group;Other ethnic group;2011",
}
IMD_SCORE = "Index of Multiple Deprivation (IMD) Score"
IMD_DECILE = "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)"
IMD_POP = "Total population: mid 2015 (excluding prisoners)"


class AreaNotFound(VigilError):
    """The LSOA or ward code is not a London area in the boundary files."""


# ---------------------------------------------------------------------- sources (memoised)
def _need(path: Path) -> Path:
    if not path.exists():
        raise DataError("dataset not found (set VIGIL_SHARED_DATA)", file=str(path))
    return path


@lru_cache(maxsize=2)
def _lsoas(shared: Path) -> gpd.GeoDataFrame:
    g = gpd.read_file(_need(shared / LSOA_SHP))[["LSOA11CD", "LSOA11NM", "LAD11NM", "geometry"]]
    return g.set_crs(BNG, allow_override=True).set_index("LSOA11CD", drop=False)


@lru_cache(maxsize=2)
def _wards(shared: Path) -> gpd.GeoDataFrame:
    g = gpd.read_file(f"zip://{_need(shared / WARDS_ZIP)}")[
        ["GSS_CODE", "NAME", "BOROUGH", "geometry"]
    ]
    return g.to_crs(BNG).set_index("GSS_CODE", drop=False)


@lru_cache(maxsize=2)
def _residents(shared: Path) -> pd.DataFrame:
    """Per LSOA: mid-2020 persons by age band, 2011 census ethnic group counts, IMD 2019."""
    pop = pd.read_csv(_need(shared / POPULATION_CSV)).set_index("LSOA11CD")
    out = pd.DataFrame(index=pop.index)
    out["population"] = pop["Persons_All-Ages"].astype(float)
    for band in AGE_BANDS:
        out[f"age_{band}"] = pop[f"Persons_{band}"].astype(float)
    atlas = pd.read_csv(_need(shared / ATLAS_CSV), encoding="latin-1").set_index(
        "Lower Super Output Area"
    )
    for group, col in ATLAS_ETHNICITY.items():
        out[f"eth_{group}"] = pd.to_numeric(atlas[col], errors="coerce").reindex(out.index)
    imd = pd.read_excel(_need(shared / IMD_XLSX), sheet_name="IMD 2019").set_index(
        "LSOA code (2011)"
    )
    imd_pop = pd.read_excel(shared / IMD_XLSX, sheet_name="Population figures").set_index(
        "LSOA code (2011)"
    )
    out["imd_score"] = imd[IMD_SCORE].reindex(out.index).astype(float)
    out["imd_decile"] = imd[IMD_DECILE].reindex(out.index).astype(float)
    out["imd_population"] = imd_pop[IMD_POP].reindex(out.index).astype(float)
    return out


@lru_cache(maxsize=2)
def _long_run(shared: Path) -> pd.Series:
    """Mean annual recorded violence + robbery per LSOA, 2011-2021 (0 where not listed)."""
    total: pd.Series | None = None
    for rel in LONG_RUN_FILES:
        df = pd.read_csv(_need(shared / rel)).set_index("LSOA11CD")
        years = [c for c in df.columns if c.isdigit()]
        s = df[years].astype(float).mean(axis=1)
        total = s if total is None else total.add(s, fill_value=0.0)
    assert total is not None
    return total


@lru_cache(maxsize=2)
def _street_sv(shared: Path) -> pd.DataFrame:
    """Victim-reported serious violence in London 2022: month, LSOA, x, y (BNG)."""
    from vigil.data.datasets import load_london_2022

    df = load_london_2022(shared)
    df = df[df["category"].isin(sorted(SERIOUS_VIOLENCE))]
    x, y = to_metres(df["lon"].to_numpy(), df["lat"].to_numpy(), BNG)
    return pd.DataFrame(
        {
            "month": df["time"].dt.strftime("%Y-%m").to_numpy(),
            "lsoa": df["area_code"].astype(str).to_numpy(),
            "x": x,
            "y": y,
        }
    )


@lru_cache(maxsize=2)
def _stop_search(shared: Path) -> pd.DataFrame:
    """Met stop-and-search records: month, census group (None = not stated), x, y (BNG or NaN).

    Read through the data layer's police.uk stop-and-search reader, which maps self-defined
    ethnicity to the 2011 census's five groups (Chinese under Asian, as the census does).
    """
    from vigil.data.stop_search import read_stop_search

    paths = sorted(_need(shared / STOP_SEARCH_DIR).glob("*-metropolitan-stop-and-search.csv"))
    if not paths:
        raise DataError("no Met stop-and-search files", file=str(shared / STOP_SEARCH_DIR))
    df = pd.concat([read_stop_search(p) for p in paths], ignore_index=True)
    x, y = to_metres(
        df["lon"].to_numpy(float, na_value=np.nan), df["lat"].to_numpy(float, na_value=np.nan), BNG
    )
    group = df["ethnicity_group"].astype(object)
    return pd.DataFrame(
        {
            "file": df["source_file"].map(lambda f: Path(str(f)).name).to_numpy(),
            "month": df["source_file"].map(lambda f: Path(str(f)).name[:7]).to_numpy(),
            "group": group.where(group != "Not stated", None).to_numpy(),
            "x": x,
            "y": y,
        }
    )


# ---------------------------------------------------------------------- the area
@dataclass(frozen=True)
class AreaSelection:
    """A chosen area: its geometry (BNG) and the share of each LSOA's residents it holds."""

    kind: str  # lsoa | ward | polygon
    code: str | None
    name: str | None
    geometry: BaseGeometry
    #: LSOA11CD -> weight (1 for whole LSOAs; land share inside a free polygon)
    lsoa_weights: pd.Series

    @property
    def whole_lsoas(self) -> bool:
        return self.kind in ("lsoa", "ward")

    @property
    def km2(self) -> float:
        return float(self.geometry.area) / 1e6


def select_area(
    *,
    lsoa: str | None = None,
    ward: str | None = None,
    polygon: BaseGeometry | str | None = None,
    name: str | None = None,
    shared: Path | None = None,
) -> AreaSelection:
    """The area given by exactly one of an LSOA-2011 code, a 2014-scheme ward code or a polygon
    (a shapely geometry or WKT, in EPSG:27700)."""
    given = [v for v in (lsoa, ward, polygon) if v is not None]
    if len(given) != 1:
        raise ValueError("give exactly one of lsoa, ward or polygon")
    root = shared_data_dir(shared)
    lsoas = _lsoas(root)
    if lsoa is not None:
        code = lsoa.strip().upper()
        if code not in lsoas.index:
            raise AreaNotFound(f"LSOA {lsoa!r} is not a London LSOA (2011) in {LSOA_SHP}")
        row = lsoas.loc[code]
        weights = pd.Series({code: 1.0})
        return AreaSelection("lsoa", code, str(row["LSOA11NM"]), row.geometry, weights)
    if ward is not None:
        wards = _wards(root)
        code = ward.strip().upper()
        if code not in wards.index:
            raise AreaNotFound(f"ward {ward!r} is not a London ward (2014 scheme) in {WARDS_ZIP}")
        wrow = wards.loc[code]
        inside = shapely.contains(wrow.geometry, lsoas.geometry.representative_point().values)
        members = lsoas.index[np.asarray(inside)]
        if len(members) == 0:
            raise AreaNotFound(f"ward {code} contains no LSOA interior point")
        geom = shapely.union_all(lsoas.loc[members].geometry.values)
        label = f"{wrow['NAME']} ({wrow['BOROUGH']})"
        return AreaSelection("ward", code, label, geom, pd.Series(1.0, index=list(members)))
    geom = shapely.from_wkt(polygon) if isinstance(polygon, str) else polygon
    if geom is None or geom.is_empty or geom.area <= 0:
        raise ValueError("the polygon is empty or has no area")
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    cand = lsoas.iloc[lsoas.sindex.query(geom, predicate="intersects")]
    share = shapely.area(shapely.intersection(cand.geometry.values, geom)) / shapely.area(
        cand.geometry.values
    )
    weights = pd.Series(share, index=cand.index)
    weights = weights[weights > 0]
    if weights.empty:
        raise AreaNotFound("the polygon lies outside London's LSOAs (coordinates must be BNG)")
    return AreaSelection("polygon", None, name, geom, weights)


# ---------------------------------------------------------------------- indicator blocks
class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StopSearchGroup(_Block):
    group: str
    searches: int
    residents: float
    rate_per_1000: float | None
    ratio_to_white: float | None


class StopSearchIndicators(_Block):
    level: str  # "area" or "force-wide (Metropolitan Police)"
    months: list[str]
    source: str
    method: str
    total: int
    not_stated: int
    groups: list[StopSearchGroup]


class ViolenceTrend(_Block):
    source: str
    monthly: dict[str, int]
    recent_months: list[str]
    recent_monthly_mean: float
    earlier_monthly_mean: float
    change_ratio: float | None  # recent / earlier monthly mean
    london_change_ratio: float | None


class CityComparison(_Block):
    """Is the area exceptional, or just always high? Ranks among London's LSOAs by density."""

    method: str
    recent_per_km2: float
    recent_percentile: float
    long_run_per_km2: float
    long_run_percentile: float
    #: area's share of London now / its share over the long run (1 = its usual level)
    relative_to_own_history: float | None
    verdict: str


class DeploymentHistory(_Block):
    neighbour_distance_m: float
    as_of: datetime
    hours_28d: float
    hours_90d: float
    hours_365d: float
    cases: list[str]


class ForecastStanding(_Block):
    """Where the area stands on the forecast a case was decided on (the guardrails' numbers)."""

    model: str
    start: str
    end: str
    risk_per_km2: float
    city_percentile: float
    long_run_per_km2: float | None
    ratio_to_own_history: float | None
    police_generated_share: float | None
    verdict: str


class AreaIndicators(_Block):
    area_kind: str
    area_code: str | None
    area_name: str | None
    area_km2: float
    lsoas: dict[str, float] = Field(description="LSOA-2011 code -> share of its residents counted")
    profile: AreaProfile
    stop_search_area: StopSearchIndicators
    stop_search_force: StopSearchIndicators
    violence_trend: ViolenceTrend
    city: CityComparison
    deployments: DeploymentHistory | None = None
    forecast: ForecastStanding | None = None
    notes: list[str] = Field(default_factory=list)


# ---------------------------------------------------------------------- computations
def area_profile(area: AreaSelection, shared: Path | None = None) -> AreaProfile:
    res = _residents(shared_data_dir(shared))
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
    ss = _stop_search(root)
    res = _residents(root)
    # force-wide: the Met does not police the City of London, so its residents are left out
    met = res.index.isin(_lsoas(root).index[_lsoas(root)["LAD11NM"] != "City of London"])
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


def _points_in_area(area: AreaSelection, df: pd.DataFrame) -> pd.DataFrame:
    if area.whole_lsoas:
        return df[df["lsoa"].isin(area.lsoa_weights.index)]
    ok = np.isfinite(df["x"].to_numpy())
    sub = df[ok]
    return sub[shapely.contains_xy(area.geometry, sub["x"].to_numpy(), sub["y"].to_numpy())]


def violence_trend(
    area: AreaSelection, as_of: str = "2022-12", recent: int = 3, shared: Path | None = None
) -> ViolenceTrend:
    """Monthly victim-reported serious violence to ``as_of`` (YYYY-MM); the last ``recent``
    months' mean against the mean of the months before them, for the area and for London."""
    sv = _street_sv(shared_data_dir(shared))
    months = sorted(m for m in sv["month"].unique() if m <= as_of)
    if len(months) <= recent:
        raise ValueError(f"need more than {recent} months of data up to {as_of}; have {months}")
    here = _points_in_area(area, sv)
    monthly = here["month"].value_counts().reindex(months, fill_value=0).astype(int)
    london = sv["month"].value_counts().reindex(months, fill_value=0).astype(float)
    rec, earlier = months[-recent:], months[:-recent]

    def ratio(s: pd.Series) -> float | None:
        before = float(s[earlier].mean())
        return float(s[rec].mean()) / before if before > 0 else None

    return ViolenceTrend(
        source="police.uk street crimes 2022 (met-street-2022): violence and sexual offences, "
        "robbery",
        monthly={str(m): int(v) for m, v in monthly.items()},
        recent_months=rec,
        recent_monthly_mean=float(monthly[rec].mean()),
        earlier_monthly_mean=float(monthly[earlier].mean()),
        change_ratio=ratio(monthly),
        london_change_ratio=ratio(london),
    )


def city_comparison(
    area: AreaSelection,
    as_of: str = "2022-12",
    recent: int = 3,
    policy: GuardrailPolicy | None = None,
    shared: Path | None = None,
) -> CityComparison:
    """The area's recent serious-violence density and its long-run density, each ranked among
    London's LSOAs; the verdict applies the policy's evidence thresholds to these data."""
    policy = policy or GuardrailPolicy()
    root = shared_data_dir(shared)
    sv = _street_sv(root)
    lsoas = _lsoas(root)
    km2 = lsoas.geometry.area / 1e6
    months = sorted(m for m in sv["month"].unique() if m <= as_of)[-recent:]
    recent_sv = sv[sv["month"].isin(months)]
    per_lsoa = recent_sv["lsoa"].value_counts().reindex(lsoas.index, fill_value=0).astype(float)
    long_run = _long_run(root).reindex(lsoas.index).fillna(0.0)

    here_recent = float(len(_points_in_area(area, recent_sv)))
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
    if high and above_usual:
        verdict = "exceptional: high against the city and well above its own usual level"
    elif high:
        verdict = "always high: high against the city but near its own usual level"
    elif above_usual:
        verdict = "rising: well above its own usual level but not high against the city"
    else:
        verdict = "not exceptional: neither high against the city nor above its usual level"
    return CityComparison(
        method=(
            f"serious violence per km^2 over {months[0]}..{months[-1]} (police.uk) and recorded "
            "violence against the person + robbery per km^2, 2011-2021 annual mean (MPS), each "
            "as a percentile among London's 4,835 LSOAs; relative level = the area's share of "
            "London now / its long-run share; thresholds from the guardrail policy "
            f"({policy.min_city_percentile:g}th percentile, {policy.min_ratio_to_own_history:g}x)"
        ),
        recent_per_km2=dens_recent,
        recent_percentile=pct_recent,
        long_run_per_km2=dens_long,
        long_run_percentile=pct_long,
        relative_to_own_history=relative,
        verdict=verdict,
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
    if ratio is None:
        verdict = "own long-run level unknown: exceptionality cannot be shown"
    elif high and above:
        verdict = "exceptional: high against the city and well above its own usual level"
    elif high:
        verdict = "always high: high against the city but near its own usual level"
    elif above:
        verdict = "rising: well above its own usual level but not high against the city"
    else:
        verdict = "not exceptional: neither high against the city nor above its usual level"
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


def compute_indicators(
    area: AreaSelection,
    *,
    as_of_month: str = "2022-12",
    policy: GuardrailPolicy | None = None,
    session: Any = None,
    now: datetime | None = None,
    surface: RiskSurface | None = None,
    shared: Path | None = None,
) -> AreaIndicators:
    """Every automatic indicator for ``area``. Past deployments need a case-database ``session``
    and ``now``; without them that block is left empty (and said so in ``notes``). Given the
    case's evidence ``surface``, the area's standing on that forecast is added."""
    policy = policy or GuardrailPolicy()
    area_ss, force_ss = stop_search_indicators(area, shared)
    notes = [
        "Stop-and-search 'area' figures come from one month (2016-06), the only Met month "
        "published with locations; force-wide figures cover every Met month available.",
        "Searches are located where they happened; residents are the denominator, as in Home "
        "Office disproportionality figures, so areas with many visitors show high rates.",
    ]
    deployments = None
    if session is not None and now is not None:
        from vigil.cases.queries import deployment_windows

        now = as_utc(now)
        windows = deployment_windows(session, now - timedelta(days=366), now, now=now)
        deployments = deployment_history(windows, area.geometry, now, policy.neighbour_distance_m)
    else:
        notes.append("Past deployments: not computed (no case database given).")
    return AreaIndicators(
        area_kind=area.kind,
        area_code=area.code,
        area_name=area.name,
        area_km2=area.km2,
        lsoas={str(k): float(v) for k, v in area.lsoa_weights.items()},
        profile=area_profile(area, shared),
        stop_search_area=area_ss,
        stop_search_force=force_ss,
        violence_trend=violence_trend(area, as_of_month, shared=shared),
        city=city_comparison(area, as_of_month, policy=policy, shared=shared),
        deployments=deployments,
        forecast=None if surface is None else forecast_standing(surface, area.geometry, policy),
        notes=notes,
    )


def indicators_for_case(
    session: Any,
    case_id: int,
    now: datetime,
    *,
    policy: GuardrailPolicy | None = None,
    as_of_month: str = "2022-12",
    shared: Path | None = None,
) -> AreaIndicators:
    """The indicators for a case's area, with its frozen evidence forecast and the deployments
    on record before ``now`` (read-only: the case is not changed and no audit entry written)."""
    import json

    from vigil.db.cases import Case

    case = session.get(Case, case_id)
    if case is None:
        raise AreaNotFound(f"case {case_id} does not exist")
    surface = None
    if case.evidence_json:
        data = json.loads(case.evidence_json)
        surface = RiskSurface.from_dict(data.get("surface", data))
    area = select_area(polygon=case.area_wkt, name=f"case {case_id} area", shared=shared)
    return compute_indicators(
        area,
        as_of_month=as_of_month,
        policy=policy,
        session=session,
        now=now,
        surface=surface,
        shared=shared,
    )


def start_assessment(
    indicators: AreaIndicators, case_id: str | int | None = None
) -> CommunityImpactAssessment:
    """A CIA draft with its area profile and automatic indicators filled in; the rest (tension,
    consultation, risks, mitigations, communication, review) is for people to complete."""
    return CommunityImpactAssessment(
        case_id=None if case_id is None else str(case_id),
        area_profile=indicators.profile,
        indicators=indicators.model_dump(mode="json"),
    )
