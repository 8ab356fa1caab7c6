"""The police.uk stop-and-search reader on the real Met and City of London files."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from vigil.data.stop_search import (
    ETHNICITY_GROUPS,
    STOP_SEARCH_COLUMNS,
    ethnicity_group,
    read_stop_search,
    read_stop_search_file,
)
from vigil.errors import DataError

JUNE = "2016-06-metropolitan-stop-and-search.csv"


@pytest.fixture(scope="module")
def june(shared_data: Path) -> pd.DataFrame:
    return read_stop_search_file(shared_data / "met-stop-search-2015-2016" / JUNE).incidents


def test_schema_and_no_personal_fields(june: pd.DataFrame) -> None:
    assert dict(june.dtypes.astype(str)) == STOP_SEARCH_COLUMNS
    assert len(june) == 10_490  # README.txt
    assert not {"gender", "age_range", "Gender", "Age range"} & set(june.columns)
    assert set(june["precision"]) == {"minute"}
    assert june["search_id"].is_unique


def test_times_are_london_local(shared_data: Path, june: pd.DataFrame) -> None:
    # police.uk publishes UTC offsets; June is BST, so local time is UTC + 1 hour
    with open(shared_data / "met-stop-search-2015-2016" / JUNE, encoding="utf-8-sig") as fh:
        first = next(csv.DictReader(fh))
    utc = pd.Timestamp(first["Date"]).tz_convert("UTC").tz_localize(None)
    assert june["time"].iloc[0] == utc + pd.Timedelta(hours=1)


def test_ethnicity_groups_match_an_independent_count(shared_data: Path, june: pd.DataFrame) -> None:
    with open(shared_data / "met-stop-search-2015-2016" / JUNE, encoding="utf-8-sig") as fh:
        raw = [r["Self-defined ethnicity"] for r in csv.DictReader(fh)]
    expected: Counter[str] = Counter()
    for v in raw:
        if not v or "Not stated" in v or "(NS)" in v:
            expected["Not stated"] += 1
        elif v.startswith("Asian") or "Chinese (O1)" in v:
            expected["Asian"] += 1
        elif v.startswith("Black"):
            expected["Black"] += 1
        elif v.startswith("Mixed"):
            expected["Mixed"] += 1
        elif v.startswith("White"):
            expected["White"] += 1
        else:
            expected["Other"] += 1
    assert june["ethnicity_group"].value_counts().to_dict() == dict(expected)
    assert set(june["officer_ethnicity_group"]) <= set(ETHNICITY_GROUPS)


@pytest.mark.parametrize(
    ("value", "group"),
    [
        ("White - White British (W1)", "White"),
        ("Black or Black British - African (B2)", "Black"),
        ("Asian or Asian British - Bangladeshi (A3)", "Asian"),
        ("Chinese or other ethnic group - Chinese (O1)", "Asian"),
        ("Chinese or other ethnic group - Any other ethnic group (O9)", "Other"),
        ("Mixed - White and Black Caribbean (M1)", "Mixed"),
        ("Not Stated (NS)", "Not stated"),
        ("Other ethnic group - Arab (O2)", "Other"),
        ("", "Not stated"),
        ("Black", "Black"),
        ("Other", "Other"),
    ],
)
def test_ethnicity_group(value: str, group: str) -> None:
    assert ethnicity_group(value) == group


def test_folder_reads_every_file(shared_data: Path) -> None:
    # README.txt: Met 126,305 + 10,490 rows, City of London 1,397 rows
    df = read_stop_search(shared_data / "met-stop-search-2015-2016")
    assert len(df) == 126_305 + 10_490 + 1_397
    assert df["lon"].isna().sum() >= 126_305  # no Met locations published in 2015


def test_bad_boolean_is_located(tmp_path: Path, shared_data: Path) -> None:
    lines = (shared_data / "met-stop-search-2015-2016" / JUNE).read_text().splitlines()[:20]
    lines[12] = lines[12].rsplit(",", 1)[0] + ",perhaps"
    p = tmp_path / "bad-stop-and-search.csv"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as err:
        read_stop_search_file(p)
    assert (err.value.row, err.value.field) == (12, "Removal of more than just outer clothing")
    res = read_stop_search_file(p, skip_bad_rows=True)
    assert len(res.incidents) == 18 and res.rows_rejected == 1
