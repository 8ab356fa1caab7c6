"""IncidentStore on real slices: import, re-import, all-or-nothing, query, summary."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from vigil.data.readers import read_mapped
from vigil.data.schema import INCIDENT_COLUMNS
from vigil.data.store import IncidentStore
from vigil.errors import DataError


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def test_import_then_reimport_does_not_duplicate(tmp_path: Path, london_slice: Path) -> None:
    store = IncidentStore(tmp_path / "store")
    first = store.import_file(london_slice, "met-street-2022")
    assert first.rows_read == 3000
    assert first.rows_imported + first.rows_dropped_outside_region == 3000
    again = store.import_file(london_slice, "met-street-2022")
    assert again.rows_imported == first.rows_imported
    df = store.query()
    assert len(df) == first.rows_imported
    assert df["incident_id"].is_unique
    assert dict(df.dtypes.astype(str)) == INCIDENT_COLUMNS
    assert store.datasets() == ["met-street-2022"]


def test_same_rows_from_another_file_are_duplicates(tmp_path: Path, london_slice: Path) -> None:
    # the same London rows copied under another name and imported into the same dataset:
    # content ids differ by file name, so they are new rows, but a police.uk file keyed by
    # Crime ID is recognised across files (see test_police_uk_zip_equals_folder)
    store = IncidentStore(tmp_path / "store")
    store.import_file(london_slice, "met-street-2022")
    copy = tmp_path / "copy.csv"
    shutil.copy(london_slice, copy)
    res = store.import_file(copy, "met-street-2022")
    assert res.rows_duplicate == 0
    assert len(store.query()) == 2 * res.rows_imported


def test_police_uk_zip_equals_folder(tmp_path: Path, city_street: Path) -> None:
    # the police.uk archive layout: a zip of YYYY-MM/ folders, here rebuilt from the real
    # City of London files (README.txt: 10,118 street rows, 465 without a location)
    archive = tmp_path / "2017-06.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in sorted(city_street.glob("*/*.csv")):
            zf.write(p, f"{p.parent.name}/{p.name}")
    store = IncidentStore(tmp_path / "store")
    res = store.import_file(city_street, format="police-uk", dataset="city")
    assert res.rows_imported == 10_118 and len(res.files) == 18
    again = store.import_file(archive, format="police-uk", dataset="city")
    # same file names, so every part is replaced: nothing added
    assert again.rows_imported == 10_118
    df = store.query("city")
    assert len(df) == 10_118
    assert df["lon"].isna().sum() == 465
    assert set(df["precision"]) == {"month"}
    counts = df["category"].value_counts()
    assert counts["antisocial_behaviour"] == 1_980 and counts["robbery"] == 49


def test_bad_file_leaves_store_untouched(tmp_path: Path, london_slice: Path) -> None:
    store = IncidentStore(tmp_path / "store")
    store.import_file(london_slice, "met-street-2022")
    before = {p: p.read_bytes() for p in _files(tmp_path / "store")}
    lines = london_slice.read_text().splitlines(keepends=True)
    # row 2000 gets an unparseable month: nothing of this file may be stored
    fields = lines[2000].split(",")
    fields[0] = "2022-13"
    lines[2000] = ",".join(fields)
    bad = tmp_path / "london_slice.csv"
    bad.write_text("".join(lines))
    with pytest.raises(DataError) as err:
        store.import_file(bad, "met-street-2022")
    assert err.value.row == 2000 and err.value.field == "month"
    assert {p: p.read_bytes() for p in _files(tmp_path / "store")} == before


def test_skip_bad_rows_writes_rejects(tmp_path: Path, london_slice: Path) -> None:
    lines = london_slice.read_text().splitlines(keepends=True)
    lines[10] = lines[10].replace("2022-01", "January", 1)  # data row 10: date
    parts = lines[20].split(",")
    parts[3] = "west"  # data row 20: longitude
    lines[20] = ",".join(parts)
    lines[30] = "2022-01,not a crime,,-0.1,51.5,E01000001,City of London\n"  # row 30: category
    lines[40] = "2022-01,robbery\n"  # row 40: too few fields
    bad = tmp_path / "bad.csv"
    bad.write_text("".join(lines))
    store = IncidentStore(tmp_path / "store")
    rejects = tmp_path / "rejects.csv"
    res = store.import_file(bad, "met-street-2022", skip_bad_rows=True, rejects_path=rejects)
    assert res.rows_rejected == 4
    assert res.rejects_path == rejects
    rej = pd.read_csv(rejects, dtype=str)
    assert dict(zip(rej["row"].astype(int), rej["field"], strict=True)) == {
        10: "month",
        20: "longitude",
        30: "type",
        40: "(row)",
    }
    assert len(store.query()) == res.rows_imported
    clean = read_mapped(london_slice, "met-street-2022")
    assert res.rows_imported == len(clean.incidents) - 4


def test_query_filters_and_summary(tmp_path: Path, shared_data: Path, london_slice: Path) -> None:
    store = IncidentStore(tmp_path / "store")
    store.import_file(london_slice, "met-street-2022")
    chicago = (
        shared_data
        / "chicago-aggravated-assaults-2010-2016"
        / "chicago_aggravated_assaults_2010_2016.csv.gz"
    )
    store.import_file(chicago, "chicago-aggravated-assaults")
    assert store.datasets() == ["chicago-aggravated-assaults", "met-street-2022"]
    y2014 = store.query("chicago-aggravated-assaults", start="2014-01-01", end="2015-01-01")
    assert len(y2014) == 12_943  # chicago README.txt: rows in 2014
    robbery = store.query(categories=["robbery"])
    assert set(robbery["dataset"]) == {"met-street-2022"} and len(robbery) > 0
    with pytest.raises(DataError, match="unknown category"):
        store.query(categories=["knife"])
    s = store.summary()
    assert s.total == 102_853 + len(store.query("met-street-2022"))
    assert s.by_category["incidents"].sum() == s.total
    assert s.by_month["incidents"].sum() == s.total
    assert s.by_area["incidents"].sum() == s.total
    one = store.summary("met-street-2022")
    assert set(one.by_dataset["dataset"]) == {"met-street-2022"}
    with pytest.raises(DataError, match="no dataset"):
        store.summary("nope")


def test_stop_search_import_and_query(tmp_path: Path, shared_data: Path) -> None:
    store = IncidentStore(tmp_path / "store")
    folder = shared_data / "met-stop-search-2015-2016"
    res = store.import_file(folder / "2016-06-metropolitan-stop-and-search.csv")
    assert res.kind == "stop_search" and res.rows_imported == 10_490  # README.txt
    df = store.stop_search()
    assert len(df) == 10_490
    assert "Gender" not in df.columns and "age_range" not in df.columns
    assert df["lon"].notna().mean() > 0.9  # README: locations for 92% of rows
    assert set(df["ethnicity_group"]) <= {"Asian", "Black", "Mixed", "White", "Other", "Not stated"}
    june = store.stop_search(start="2016-06-10", end="2016-06-11")
    assert 0 < len(june) < len(df)
    summ = store.stop_search_summary()
    assert summ["records"].tolist() == [10_490]
    assert 0.9 < summ["located"].iloc[0] < 0.95


def test_full_london_import_summary_matches_readme(tmp_path: Path, shared_data: Path) -> None:
    """The issue's acceptance check: all of met-street-2022 in, summary == README.txt.

    README.txt: 849,409 rows; 239 have no London LSOA (100 decoys among them) and are dropped
    by the mapping's documented region filter; in-London counts: robbery 27,203, weapon
    possession 5,055, violent or sexual 251,236.
    """
    store = IncidentStore(tmp_path / "store")
    path = shared_data / "met-street-2022" / "london_crimes_2022.csv.gz"
    res = store.import_file(path, "met-street-2022")
    assert (res.rows_read, res.rows_dropped_outside_region, res.rows_rejected) == (849_409, 239, 0)
    s = store.summary()
    assert s.total == 849_409 - 239
    cats = dict(zip(s.by_category["category"], s.by_category["incidents"], strict=True))
    in_london = (cats["robbery"], cats["weapons_possession"], cats["violence"])
    assert in_london == (27_203, 5_055, 251_236)
    assert len(s.by_month) == 12 and s.by_month["incidents"].sum() == s.total
    assert s.by_area["area_code"].notna().all() and len(s.by_area) == 4_834
    imp = s.imports.iloc[0]
    assert (imp["rows_read"], imp["rows_stored"]) == (849_409, 849_170)
