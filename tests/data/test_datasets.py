"""The bundled-dataset loaders on the real files, checked against the folders' README.txt."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from vigil.data.datasets import load_chicago, load_london_2022
from vigil.data.schema import INCIDENT_COLUMNS
from vigil.data.taxonomy import CATEGORIES


@pytest.fixture(scope="module")
def london(shared_data: Path) -> pd.DataFrame:
    return load_london_2022(shared_data)


def test_london_matches_readme_counts(london: pd.DataFrame) -> None:
    # met-street-2022/README.txt: 849,409 rows, 239 of them with no London LSOA (dropped);
    # in-London counts quoted there: robbery 27,203, weapon possession 5,055, violent 251,236.
    assert len(london) == 849_409 - 239
    counts = london["category"].value_counts()
    assert counts["robbery"] == 27_203
    assert counts["weapons_possession"] == 5_055
    assert counts["violence"] == 251_236
    assert london["area_code"].notna().all()
    assert london["area_code"].str.startswith("E01").all()


def test_london_is_canonical_month_precision(london: pd.DataFrame) -> None:
    assert list(london.columns) == list(INCIDENT_COLUMNS)
    assert dict(london.dtypes.astype(str)) == INCIDENT_COLUMNS
    assert set(london["precision"]) == {"month"}
    # month-only: never an invented day or time
    assert (london["time"].dt.day == 1).all() and (london["time"].dt.hour == 0).all()
    assert london["time"].min() == pd.Timestamp("2022-01-01")
    assert london["time"].max() == pd.Timestamp("2022-12-01")
    assert set(london["category"]) <= set(CATEGORIES)
    assert london["incident_id"].is_unique
    assert london["lon"].between(-0.6, 0.4).all() and london["lat"].between(51.2, 51.8).all()


def test_london_is_memoised_but_returns_copies(shared_data: Path, london: pd.DataFrame) -> None:
    again = load_london_2022(shared_data)
    assert again is not london
    again["extra"] = 1
    assert "extra" not in load_london_2022(shared_data).columns
    pd.testing.assert_series_equal(again["incident_id"], london["incident_id"])


def test_chicago_minute_precision_and_years(shared_data: Path) -> None:
    df = load_chicago(shared_data)
    # chicago README: the file holds 2010-2016 (102,853 rows), 17,324 of them in 2010
    assert len(df) == 102_853
    assert set(df["precision"]) == {"minute"}
    assert set(df["category"]) == {"aggravated_assault"}
    assert (df["time"].dt.year == 2010).sum() == 17_324
    assert (df["time"].dt.minute != 0).any()
    only = load_chicago(shared_data, years=(2014, 2014))
    assert len(only) == 12_943 and set(only["time"].dt.year) == {2014}
    with pytest.raises(ValueError):
        load_chicago(shared_data, years=(2016, 2010))


def test_all_rows_match_readme_type_counts(shared_data: Path) -> None:
    # README.txt "Rows by type" counts all 849,409 rows, the 239 outside London included:
    # read with the shipped mapping less its region filter, every count must match exactly.
    from vigil.data.mapping import load_mapping
    from vigil.data.readers import read_mapped

    mapping = load_mapping("met-street-2022").model_copy(update={"region": None})
    path = shared_data / "met-street-2022" / "london_crimes_2022.csv.gz"
    df = read_mapped(path, mapping).incidents
    assert len(df) == 849_409
    readme = {
        "violent or sexual": 251_308, "other theft": 123_506, "vehicle crime": 106_159,
        "theft from person": 61_724, "public order": 60_010, "criminal damage or arson": 53_808,
        "burglary": 51_916, "drugs": 41_003, "shoplifting": 38_150, "robbery": 27_210,
        "bicycle theft": 18_655, "other": 10_900, "weapon possession": 5_060,
    }  # fmt: skip
    assert df["raw_category"].value_counts().to_dict() == readme
