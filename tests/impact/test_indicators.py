"""The CIA's automatic indicators on real London areas, checked against figures computed here
independently with plain csv / pandas / geopandas reads of the same files in shared/data.

Areas: LSOA E01003023 (Lambeth 021C, Brixton) and ward E05000420 (Coldharbour, Lambeth, 2014
scheme), whose ten member LSOAs (E01003043..E01003052) each lie over 98% inside it.
"""

from __future__ import annotations

import csv
import gzip
from collections import Counter
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from scipy.stats import percentileofscore

from vigil.impact.area import AreaNotFound, select_area
from vigil.impact.indicators import compute_indicators
from vigil.impact.models import AreaIndicators

LSOA = "E01003023"
WARD = "E05000420"
WARD_LSOAS = [f"E0100{n}" for n in range(3043, 3053)]
SV_TYPES = {"violent or sexual", "robbery"}  # police.uk names of victim-reported serious violence


@pytest.fixture(scope="module")
def lsoa_ind(shared_data: Path) -> AreaIndicators:
    return compute_indicators(select_area(lsoa=LSOA, shared=shared_data), shared=shared_data)


@pytest.fixture(scope="module")
def ward_ind(shared_data: Path) -> AreaIndicators:
    return compute_indicators(select_area(ward=WARD, shared=shared_data), shared=shared_data)


@pytest.fixture(scope="module")
def street_rows(shared_data: Path) -> list[dict[str, str]]:
    with gzip.open(shared_data / "met-street-2022/london_crimes_2022.csv.gz", "rt") as fh:
        return [r for r in csv.DictReader(fh) if r["type"] in SV_TYPES and r["lsoa11cd_pip"]]


def pop_rows(shared: Path) -> dict[str, dict[str, str]]:
    with open(shared / "london-geography/population/london-mid2020-pop.csv") as fh:
        return {r["LSOA11CD"]: r for r in csv.DictReader(fh)}


def atlas_rows(shared: Path) -> dict[str, dict[str, str]]:
    with open(shared / "london-demographics/lsoa-data_clean.csv", encoding="latin-1") as fh:
        return {r["Lower Super Output Area"]: r for r in csv.DictReader(fh)}


ETH = {
    "White": "Ethnic Group;White;2011",
    "Mixed": "Ethnic Group;Mixed/multiple ethnic groups;2011",
    "Asian": "Ethnic Group;Asian/Asian British;2011",
    "Black": "Ethnic Group;Black/African/Caribbean/Black British;2011",
    "Other": "Ethnic Group;Other ethnic group;2011",
}


def test_ward_is_its_lsoas(ward_ind: AreaIndicators) -> None:
    assert sorted(ward_ind.lsoas) == WARD_LSOAS
    assert ward_ind.area_name == "Coldharbour (Lambeth)"


@pytest.mark.parametrize("which", ["lsoa", "ward"])
def test_residents_match_the_census_files(
    which: str, lsoa_ind: AreaIndicators, ward_ind: AreaIndicators, shared_data: Path
) -> None:
    ind, codes = (lsoa_ind, [LSOA]) if which == "lsoa" else (ward_ind, WARD_LSOAS)
    pops, atlas = pop_rows(shared_data), atlas_rows(shared_data)
    assert ind.profile.population == sum(int(pops[c]["Persons_All-Ages"]) for c in codes)
    assert ind.profile.age_bands["16-29"] == sum(int(pops[c]["Persons_16-29"]) for c in codes)
    counts = {g: sum(int(atlas[c][col]) for c in codes) for g, col in ETH.items()}
    total = sum(counts.values())
    for g in ETH:
        assert ind.profile.ethnicity_2011[g] == pytest.approx(counts[g] / total)
    imd = pd.read_excel(
        shared_data / "london-boundaries-extra/london_lsoa_deprivation.xlsx", sheet_name=None
    )
    score = imd["IMD 2019"].set_index("LSOA code (2011)")[
        "Index of Multiple Deprivation (IMD) Score"
    ]
    popn = imd["Population figures"].set_index("LSOA code (2011)")[
        "Total population: mid 2015 (excluding prisoners)"
    ]
    expect = sum(score[c] * popn[c] for c in codes) / sum(popn[c] for c in codes)
    assert ind.profile.imd_score == pytest.approx(expect)


def test_lsoa_profile_by_hand(lsoa_ind: AreaIndicators) -> None:
    # Lambeth 021C read off the files: 2,665 residents mid-2020; 2011 census 522 Black of 2,380;
    # IMD 2019 score 19.316, decile 5
    p = lsoa_ind.profile
    assert p.population == 2665
    assert p.ethnicity_2011["Black"] == pytest.approx(522 / 2380)
    assert p.imd_score == pytest.approx(19.316) and p.imd_decile == 5


@pytest.mark.parametrize("which", ["lsoa", "ward"])
def test_serious_violence_trend_matches_street_file(
    which: str, lsoa_ind: AreaIndicators, ward_ind: AreaIndicators, street_rows: list[dict]
) -> None:
    ind, codes = (lsoa_ind, {LSOA}) if which == "lsoa" else (ward_ind, set(WARD_LSOAS))
    by_month = Counter(r["month"] for r in street_rows if r["lsoa11cd_pip"] in codes)
    t = ind.violence_trend
    assert t.monthly == {f"2022-{m:02d}": by_month.get(f"2022-{m:02d}", 0) for m in range(1, 13)}
    recent = sum(by_month[m] for m in ("2022-10", "2022-11", "2022-12")) / 3
    earlier = sum(by_month[f"2022-{m:02d}"] for m in range(1, 10)) / 9
    assert t.recent_monthly_mean == pytest.approx(recent)
    assert t.change_ratio == pytest.approx(recent / earlier)


def test_now_is_the_datas_last_month_not_a_constant(
    lsoa_ind: AreaIndicators, street_rows: list[dict], shared_data: Path
) -> None:
    # no month named: the street-crime data's own last month is "now"
    last = max(r["month"] for r in street_rows)
    assert lsoa_ind.violence_trend.recent_months[-1] == last
    # a month named: the trend and the city rank stop there, counted from the file by hand
    june = compute_indicators(
        select_area(lsoa=LSOA, shared=shared_data), as_of_month="2022-06", shared=shared_data
    )
    by_month = Counter(r["month"] for r in street_rows if r["lsoa11cd_pip"] == LSOA)
    t = june.violence_trend
    assert t.monthly == {f"2022-{m:02d}": by_month.get(f"2022-{m:02d}", 0) for m in range(1, 7)}
    assert t.recent_months == ["2022-04", "2022-05", "2022-06"]
    assert t.source.startswith("police.uk street crimes 2022-01..2022-06")
    assert "2022-04..2022-06" in june.city.method
    recent = sum(by_month[f"2022-{m:02d}"] for m in (4, 5, 6))
    assert june.city.recent_per_km2 == pytest.approx(recent / june.area_km2)
    # a month after the data: the latest figures, and a note that says so
    later = compute_indicators(
        select_area(lsoa=LSOA, shared=shared_data), as_of_month="2031-01", shared=shared_data
    )
    assert later.violence_trend.recent_months[-1] == last
    assert any(f"end in {last}, before 2031-01" in n for n in later.notes)


def test_too_few_months_is_a_clear_error(shared_data: Path) -> None:
    from vigil.errors import DataError

    area = select_area(lsoa=LSOA, shared=shared_data)
    with pytest.raises(DataError, match="as_of.*more than 3 months.*up to 2022-02"):
        compute_indicators(area, as_of_month="2022-02", shared=shared_data)


def test_city_comparison_by_hand(
    lsoa_ind: AreaIndicators, street_rows: list[dict], shared_data: Path
) -> None:
    lsoas = gpd.read_file(shared_data / "london-geography/boundaries/london-2011-lsoa-gen20.shp")
    km2 = lsoas.set_index("LSOA11CD").area / 1e6
    recent = Counter(
        r["lsoa11cd_pip"] for r in street_rows if r["month"] in ("2022-10", "2022-11", "2022-12")
    )
    dens = pd.Series({c: recent.get(c, 0) / a for c, a in km2.items()})
    c = lsoa_ind.city
    assert c.recent_per_km2 == pytest.approx(recent[LSOA] / km2[LSOA])
    assert c.recent_percentile == pytest.approx(percentileofscore(dens, dens[LSOA], kind="mean"))
    annual = sum(
        pd.read_csv(
            shared_data / f"london-geography/crime_annual_lsoa/london-2011-2021-major-{k}.csv"
        )
        .set_index("LSOA11CD")[[str(y) for y in range(2011, 2022)]]
        .mean(axis=1)
        .reindex(km2.index)
        .fillna(0)
        for k in ("violence", "robbery")
    )
    lr_dens = annual / km2
    assert c.long_run_per_km2 == pytest.approx(lr_dens[LSOA])
    assert c.long_run_percentile == pytest.approx(
        percentileofscore(lr_dens, lr_dens[LSOA], kind="mean")
    )
    share_now = recent[LSOA] / sum(recent[k] for k in km2.index)
    assert c.relative_to_own_history == pytest.approx(share_now / (annual[LSOA] / annual.sum()))
    # Lambeth 021C: in the top tenth long-run, lower now and below its usual share of London
    assert c.long_run_percentile > 90 and c.relative_to_own_history < 1
    assert c.verdict.startswith("not exceptional")


def _self_defined_group(value: str) -> str | None:
    if not value or value.startswith("Not Stated"):
        return None
    if value.startswith("Chinese or other ethnic group - Chinese"):
        return "Asian"  # the 2011 census counts Chinese as Asian
    return {
        "White": "White",
        "Mixed": "Mixed",
        "Asian or Asian British": "Asian",
        "Black or Black British": "Black",
    }.get(value.split(" - ")[0], "Other")


def test_force_wide_disproportionality_by_hand(lsoa_ind: AreaIndicators, shared_data: Path) -> None:
    counts: Counter[str | None] = Counter()
    for path in sorted((shared_data / "met-stop-search-2015-2016").glob("*metropolitan*.csv")):
        with open(path) as fh:
            counts.update(
                _self_defined_group(r["Self-defined ethnicity"]) for r in csv.DictReader(fh)
            )
    atlas = atlas_rows(shared_data)
    residents = {
        g: sum(int(r[col]) for r in atlas.values() if not r["Names"].startswith("City of London"))
        for g, col in ETH.items()
    }
    f = lsoa_ind.stop_search_force
    assert f.total == sum(counts.values()) == 136795
    assert f.not_stated == counts[None]
    rate = {g: 1000 * counts[g] / residents[g] for g in ETH}
    got = {g.group: g for g in f.groups}
    for g in ETH:
        assert got[g].searches == counts[g]
        assert got[g].rate_per_1000 == pytest.approx(rate[g])
        assert got[g].ratio_to_white == pytest.approx(rate[g] / rate["White"])
    assert got["Black"].ratio_to_white > 3  # 37.5 vs 11.4 searches per 1,000


def test_area_stop_search_by_hand(ward_ind: AreaIndicators, shared_data: Path) -> None:
    ss = pd.read_csv(
        shared_data / "met-stop-search-2015-2016/2016-06-metropolitan-stop-and-search.csv"
    )
    ss = ss.dropna(subset=["Latitude", "Longitude"])
    pts = gpd.GeoDataFrame(
        ss, geometry=gpd.points_from_xy(ss["Longitude"], ss["Latitude"]), crs=4326
    ).to_crs(27700)
    lsoas = gpd.read_file(shared_data / "london-geography/boundaries/london-2011-lsoa-gen20.shp")
    ward = lsoas[lsoas["LSOA11CD"].isin(WARD_LSOAS)].union_all()
    inside = pts[pts.within(ward)]
    a = ward_ind.stop_search_area
    assert a.level == "area" and a.months == ["2016-06"]
    assert a.total == len(inside) > 0
    groups = Counter(_self_defined_group(v) for v in inside["Self-defined ethnicity"].fillna(""))
    assert {g.group: g.searches for g in a.groups} == {g: groups.get(g, 0) for g in ETH}


def test_polygon_area_weights_residents(shared_data: Path) -> None:
    lsoas = gpd.read_file(shared_data / "london-geography/boundaries/london-2011-lsoa-gen20.shp")
    geom = lsoas.set_index("LSOA11CD").loc[LSOA, "geometry"]
    half = shapely.intersection(
        geom, shapely.box(*geom.bounds[:2], geom.centroid.x, geom.bounds[3])
    )
    area = select_area(polygon=half.wkt, shared=shared_data)
    share = half.area / geom.area
    assert area.lsoa_weights[LSOA] == pytest.approx(share)
    from vigil.impact.computations import area_profile

    assert area_profile(area, shared_data).population == pytest.approx(2665 * share, abs=0.1)


def test_unknown_area_is_named(shared_data: Path) -> None:
    with pytest.raises(AreaNotFound, match="E01999999"):
        select_area(lsoa="E01999999", shared=shared_data)
    with pytest.raises(AreaNotFound, match="ward 'E05999999'"):
        select_area(ward="E05999999", shared=shared_data)
    with pytest.raises(AreaNotFound, match="outside London"):
        select_area(polygon=shapely.box(0, 0, 100, 100), shared=shared_data)
