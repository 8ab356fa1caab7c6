"""Issue 13: a mapping can combine a date column with a separate time column, and de-duplicate
a file with one row per victim on an incident key. Tested on real Chicago rows (shared/data),
rewritten the way many city portals publish them: "MM/DD/YYYY" and "HH:MM" in two columns, and
an incident number repeated on the row of each victim."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from vigil.data.mapping import parse_mapping
from vigil.data.readers import read_mapped
from vigil.data.store import IncidentStore
from vigil.errors import DataError

MAPPING = """
name: chicago-split
time: {column: date, time_column: time, format: "%m/%d/%Y %H:%M", precision: minute,
       alternatives: [{format: "%m/%d/%Y", precision: day}]}
lon: longitude
lat: latitude
category: {value: aggravated assault}
area_code: district
incident_key: [case_number]
region: {name: Chicago, bbox: [-88.0, 41.6, -87.5, 42.1]}
"""


@pytest.fixture(scope="module")
def chicago(shared_data: Path) -> pd.DataFrame:
    src = shared_data / "chicago-aggravated-assaults-2010-2016"
    with gzip.open(src / "chicago_aggravated_assaults_2010_2016.csv.gz", "rt") as fh:
        lines = [next(fh) for _ in range(401)]
    from io import StringIO

    return pd.read_csv(StringIO("".join(lines)), dtype=str)


def _split_file(chicago: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Date and time in two columns; every 4th incident has a second victim's row."""
    t = pd.to_datetime(chicago["date"], format="%Y-%m-%d %H:%M")
    out = pd.DataFrame(
        {
            "case_number": [f"JA{100000 + i}" for i in range(len(chicago))],
            "date": t.dt.strftime("%m/%d/%Y"),
            "time": t.dt.strftime("%H:%M"),
            "longitude": chicago["longitude"],
            "latitude": chicago["latitude"],
            "district": chicago["district"],
            "victim": "1",
        }
    )
    out.loc[7, "time"] = ""  # a date-only record
    second = out.iloc[::4].assign(victim="2")
    both = pd.concat([out, second]).sort_values(["case_number", "victim"], kind="stable")
    both.to_csv(path, index=False)
    return out


def test_date_and_time_columns_and_one_row_per_incident(chicago, tmp_path: Path) -> None:
    path = tmp_path / "chicago-split.csv"
    incidents = _split_file(chicago, path)
    res = read_mapped(path, parse_mapping(MAPPING))
    got = res.incidents
    n = len(chicago)
    assert res.rows_read == n + len(range(0, n, 4))
    assert res.duplicate_key_rows == len(range(0, n, 4))
    assert len(got) == n  # one row per incident
    expected = pd.to_datetime(chicago["date"], format="%Y-%m-%d %H:%M")
    # minute precision from the two columns, identical to the original date-time column
    minute = got["precision"] == "minute"
    assert minute.sum() == n - 1
    assert sorted(got.loc[minute, "time"]) == sorted(expected.drop(index=7))
    # the blank time: the date alone, at day precision
    day = got[got["precision"] == "day"]
    assert len(day) == 1 and day["time"].iloc[0] == expected[7].normalize()
    # the kept row of each incident is its first (victim 1) row, at the incident's place
    assert got["lon"].round(4).tolist() == chicago["longitude"].astype(float).round(4).tolist()
    assert incidents["case_number"].is_unique


def test_same_incident_in_a_later_file_is_a_duplicate(chicago, tmp_path: Path) -> None:
    a = tmp_path / "a.csv"
    _split_file(chicago, a)
    b = tmp_path / "b.csv"
    b.write_text("".join(a.read_text().splitlines(keepends=True)[:21]))  # rows of the same cases
    store = IncidentStore(tmp_path / "store")
    cmap = parse_mapping(MAPPING)
    first = store.import_file(a, cmap, dataset="chi")
    second = store.import_file(b, cmap, dataset="chi")
    assert second.rows_imported == 0 and second.rows_duplicate == 20
    assert store.summary("chi").total == first.rows_imported == len(chicago)


def test_bad_combined_time_names_both_columns(chicago, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    _split_file(chicago, path)
    text = path.read_text().splitlines(keepends=True)
    cells = text[3].split(",")
    cells[2] = "25:99"
    text[3] = ",".join(cells)
    path.write_text("".join(text))
    with pytest.raises(DataError, match=r"row 3, field 'date \+ time'.*unparseable date"):
        read_mapped(path, parse_mapping(MAPPING))


def test_incident_key_must_be_in_the_header(tmp_path: Path, chicago) -> None:
    path = tmp_path / "nokey.csv"
    _split_file(chicago, path)
    cmap = parse_mapping(MAPPING.replace("[case_number]", "[case_no]"))
    with pytest.raises(DataError, match="case_no"):
        read_mapped(path, cmap)
