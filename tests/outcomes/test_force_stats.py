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
        ("knife_crime", 2017, 3267),
        ("knife_crime", 2018, 3440),
        ("knife_crime", 2019, 3268),
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
    m = force_stats.monthly_by_borough(shared_data, "knife_crime")
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
    assert s.loc["knife_crime", "change_pct"] == pytest.approx(round(100 * (3268 - 3440) / 3440, 1))
    assert s["complete"].all()


def test_unknown_measure_and_missing_table_are_named(shared_data, tmp_path):
    with pytest.raises(DataError, match="unknown measure 'stabbings'"):
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
