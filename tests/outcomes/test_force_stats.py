"""Force-wide statistics against the figures published with the source tables.

Figures come from shared/data/mps-recorded-crime/README.txt (borough_10_21.csv London totals) and
shared/data/met-homicide-victims-2003-2023/README.txt (victims per year); Vigil computes them from
the tables and must reproduce them exactly.
"""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from vigil.errors import DataError
from vigil.outcomes import force_stats


@pytest.fixture(scope="module")
def homicide(shared_data):
    return force_stats.yearly_by_borough(shared_data, "homicide")


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2003, 210),
        (2008, 144),
        (2014, 84),
        (2017, 133),
        (2018, 128),
        (2019, 150),
        (2020, 123),
        (2021, 131),
        (2022, 106),
    ],
)
def test_homicide_victims_per_year_match_met_readme(shared_data, year, expected):
    victims = force_stats.homicide_victims_by_year(shared_data)
    assert victims.total(year) == expected


@pytest.mark.parametrize(("year", "expected"), [(2017, 142), (2018, 138), (2019, 153)])
def test_recorded_homicide_offences_match_readme(homicide, year, expected):
    assert homicide.total(year) == expected


@pytest.mark.parametrize(
    ("measure", "year", "expected"),
    [
        ("possession_blade", 2017, 3267),
        ("possession_blade", 2018, 3440),
        ("possession_blade", 2019, 3268),
        ("violence_with_injury", 2018, 77236),
        ("robbery_personal", 2019, 37049),
    ],
)
def test_london_totals_match_readme(shared_data, measure, year, expected):
    assert force_stats.yearly_by_borough(shared_data, measure).total(year) == expected


def test_serious_violence_is_the_sum_of_its_parts(shared_data):
    sv = force_stats.yearly_by_borough(shared_data, "serious_violence").total(2019)
    parts = sum(
        force_stats.yearly_by_borough(shared_data, m).total(2019)
        for m in ("homicide", "violence_with_injury", "robbery_personal")
    )
    assert sv == parts == 153 + 77501 + 37049


def test_year_on_year_change_and_partial_years(homicide):
    london = homicide.london().set_index("year")
    # 2017 -> 2018: 142 -> 138
    assert london.loc[2018, "yoy_change"] == -4
    assert london.loc[2018, "yoy_pct"] == pytest.approx(-400 / 142)
    # the tables start in April 2010 and end in November 2023: partial, never compared
    assert london.loc[2010, "months"] == 9
    assert london.loc[2023, "months"] == 11
    assert pd.isna(london.loc[2010, "yoy_change"]) and pd.isna(london.loc[2023, "yoy_change"])
    assert pd.isna(london.loc[2011, "yoy_change"])  # previous year partial


def test_borough_rows_sum_to_london(homicide):
    f = homicide.frame
    boroughs = f[(f["borough"] != "London") & (f["year"] == 2019)]["count"].sum()
    assert boroughs == homicide.total(2019)
    assert homicide.total(2019, "Lambeth") > 0


def test_monthly_year_on_year_compares_same_month(shared_data):
    m = force_stats.monthly_by_borough(shared_data, "possession_blade")
    lam = m[m["borough"] == "Lambeth"].set_index("month")
    jan19, jan18 = lam.loc[pd.Timestamp("2019-01-01")], lam.loc[pd.Timestamp("2018-01-01")]
    assert jan19["yoy_change"] == jan19["count"] - jan18["count"]
    # 2022 months come from the second table (borough_21_23.csv), joined end to end
    assert pd.Timestamp("2022-06-01") in lam.index
    assert lam.index.is_unique


def test_summary_for_2019(shared_data):
    s = force_stats.summary(shared_data, 2019).set_index("measure")
    assert s.loc["homicide", "count"] == 153 and s.loc["homicide", "previous"] == 138
    assert s.loc["homicide_victims", "count"] == 150
    assert s.loc["possession_blade", "change_pct"] == pytest.approx(
        round(100 * (3268 - 3440) / 3440, 1)
    )
    # a 12 % rise on about 140 homicides is within what chance produces
    assert s.loc["homicide", "status"] == "within normal variation"
    assert (
        s.loc["homicide", "change"]["ci_low_pct"] < 0 < s.loc["homicide", "change"]["ci_high_pct"]
    )
    # knife crime is not published before March 2022: no count, and nothing in its place
    assert not s.loc["knife_crime", "available"] and pd.isna(s.loc["knife_crime", "count"])
    assert "March 2022" in s.loc["knife_crime", "status"]
    assert s.loc["possession_blade", "origin"] == "police-generated"
    complete = s.drop(index=["knife_crime", "knife_crime_with_injury"])
    assert complete["complete"].all()


def test_unknown_measure_and_missing_table_are_named(shared_data, tmp_path):
    with pytest.raises(DataError, match="unknown measure 'stabbings'.*knife-crime-with-injury"):
        force_stats.monthly_by_borough(shared_data, "stabbings")
    with pytest.raises(DataError, match="borough_10_21.csv"):
        force_stats.load_borough_months(tmp_path)


def test_bad_count_is_located(shared_data, tmp_path):
    src = shared_data / "mps-recorded-crime" / "csv"
    dst = tmp_path / "mps-recorded-crime" / "csv"
    dst.mkdir(parents=True)
    shutil.copy(src / "borough_21_23.csv", dst / "borough_21_23.csv")
    lines = (src / "borough_10_21.csv").read_text().splitlines()
    cells = lines[3].split(",")
    cells[5] = "lots"
    lines[3] = ",".join(cells)
    (dst / "borough_10_21.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"borough_10_21.csv, row 3, field 'count'"):
        force_stats.load_borough_months(tmp_path)


# ---- the MPS Monthly Crime Dashboard: the real knife crime series (issue 15)
# London Knife Crime with Injury offences per calendar year, shared/data/mps-recorded-crime/
# README.txt: 2022 (Mar-Dec) 3,039; 2023 3,749; 2024 3,855; 2025 3,402.


@pytest.mark.parametrize(
    ("year", "expected", "months"),
    [(2022, 3039, 10), (2023, 3749, 12), (2024, 3855, 12), (2025, 3402, 12)],
)
def test_knife_crime_with_injury_matches_dashboard_readme(shared_data, year, expected, months):
    t = force_stats.yearly_by_borough(shared_data, "knife_crime_with_injury")
    assert t.total(year) == expected and t.months(year) == months


def test_knife_crime_offences_by_calendar_year_against_the_dashboard_table(shared_data):
    """London Knife Crime offences per calendar year, summed straight from the parquet table
    (every Borough row, including the dashboard's not-known rows)."""
    raw = pd.read_parquet(
        shared_data / "mps-recorded-crime" / "parquet" / "monthly-crime-dashboard.parquet"
    )
    sel = raw[
        (raw["area_type"] == "Borough")
        & (raw["crime_subtype"] == "Knife Crime")
        & (raw["measure"] == "Offences")
    ]
    direct = sel.groupby(sel["month_year"].dt.year)["count"].sum()
    t = force_stats.yearly_by_borough(shared_data, "knife_crime")
    for year in (2022, 2023, 2024, 2025):
        assert t.total(year) == int(direct.loc[year])
    assert t.total(2022) == 10508  # the March-December 2022 figure quoted in issue 15
    positive = force_stats.yearly_by_borough(shared_data, "knife_crime", "positive_outcomes")
    assert positive.total(2023) == 1698
    # year-on-year: 2023 is compared with nothing (2022 has 10 months), 2024 with 2023
    change = t.change(2024)
    assert change is not None and change.pct == pytest.approx(100 * (16593 / 14711 - 1))
    assert t.change(2023) is None


def test_knife_crime_is_never_computed_from_possession(shared_data):
    """Blade possession is police-generated and is never called knife crime (issue 15)."""
    from vigil.outcomes.definitions import MEASURES, check_naming

    check_naming()
    for key, m in MEASURES.items():
        if "knife" in key and "crime" in key:
            assert m.table == "dashboard" and m.origin == "victim-reported", key
            assert not any("possession" in c.lower() for c in m.categories), key
    knife = force_stats.yearly_by_borough(shared_data, "knife_crime")
    possession = force_stats.yearly_by_borough(shared_data, "possession_blade")
    # 2022: the possession figure the old report printed as "knife_crime" was 2,678
    assert possession.total(2022) == 2678 and knife.total(2022) == 10508
    assert "knife_crime" not in force_stats.MEASURES  # the recorded-crime table has no such key
    for key in ("knife_crime", "knife_crime_with_injury"):
        assert "possession" not in force_stats.MEASURE_LABELS[key].lower()


def test_knife_crime_by_safer_neighbourhood_team_sums_to_the_borough(shared_data):
    snt = force_stats.snt_monthly(shared_data, "knife_crime")
    lam = snt[(snt["borough"] == "Lambeth") & (snt["month"].dt.year == 2023)]
    assert lam["snt"].nunique() > 10
    b = force_stats.monthly_by_borough(shared_data, "knife_crime")
    b = b[(b["borough"] == "Lambeth") & (b["month"].dt.year == 2023)]
    assert lam["count"].sum() == b["count"].sum()


def test_area_indicators_for_a_case(shared_data):
    july = [pd.Timestamp("2023-07-01")]
    ind = force_stats.area_indicators(shared_data, july, borough="Lambeth")
    kc = ind["measures"]["knife_crime"]
    b = force_stats.monthly_by_borough(shared_data, "knife_crime")
    lam = b[b["borough"] == "Lambeth"].set_index("month")["count"]
    assert kc["offences"] == lam.loc["2023-07-01"] and kc["previous"] == lam.loc["2022-07-01"]
    assert kc["change"]["verdict"] in ("within normal variation", "a change beyond chance")
    one_snt = force_stats.snt_monthly(shared_data, "knife_crime")
    name = one_snt[one_snt["borough"] == "Lambeth"]["snt"].iloc[0]
    snt = force_stats.area_indicators(shared_data, july, borough="Lambeth", snt=name)
    assert snt["level"] == "Safer Neighbourhood Team"
    assert snt["measures"]["knife_crime"]["offences"] <= kc["offences"]
    # before the dashboard starts: said, not substituted
    old = force_stats.area_indicators(shared_data, [pd.Timestamp("2019-07-01")], borough="Lambeth")
    assert not old["covered"] and old["measures"]["knife_crime"]["offences"] is None


def test_partial_year_is_compared_on_the_months_both_cover(shared_data):
    s = force_stats.summary(shared_data, 2023).set_index("measure")
    like = s.loc["knife_crime_with_injury", "like_for_like"]
    assert like["label"] == "March-December 2023 against March-December 2022"
    assert like["previous"] == 3039 and like["count"] == 3749 - like_jan_feb(shared_data)


def like_jan_feb(shared_data):
    s = force_stats.london_monthly(shared_data, "knife_crime_with_injury")
    return int(s.loc[["2023-01-01", "2023-02-01"]].sum())
