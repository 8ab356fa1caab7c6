"""Column mappings: YAML validation, x/y sources, per-record precision, header checks."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vigil.data.mapping import (
    RegionSpec,
    TimeFormat,
    load_mapping,
    parse_mapping,
    shipped_mappings,
)
from vigil.data.readers import read_mapped
from vigil.data.schema import Precision
from vigil.errors import DataError
from vigil.geo.projection import BNG, to_metres


@pytest.fixture(scope="module")
def chicago_rows(shared_data: Path) -> list[str]:
    """Header + first 500 rows of chicago_aggravated_assaults_2010_2016.csv.gz."""
    path = (
        shared_data
        / "chicago-aggravated-assaults-2010-2016"
        / "chicago_aggravated_assaults_2010_2016.csv.gz"
    )
    with gzip.open(path, "rt") as fh:
        return [next(fh).rstrip("\n") for _ in range(501)]


def test_shipped_mappings_load() -> None:
    assert {"met-street-2022", "chicago-aggravated-assaults", "police-uk-street"} <= set(
        shipped_mappings()
    )
    for name in shipped_mappings():
        assert load_mapping(name).name == name


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("name: x\ntime: {column: d, format: '%Y', precision: year}\nlon: a\nlat: b\n"
         "category: {value: robbery}", "time.precision"),
        ("name: x\ntime: {column: d, format: '%Y', precision: day}\nlon: a\n"
         "category: {value: robbery}", None),
        ("name: x\ntime: {column: d, format: '%Y', precision: day}\nlon: a\nlat: b\n"
         "category: {value: robbery}\ncategories: {knife: stabbing}", None),
        ("name: x\ntime: {column: d, format: '%Y', precision: day}\nlon: a\nlat: b\n"
         "category: {value: robbery}\ncolour: red", "colour"),
        ("- just\n- a list", None),
        ("name: [unclosed", None),
    ],
)  # fmt: skip
def test_bad_mappings_are_data_errors(text: str, field: str | None) -> None:
    with pytest.raises(DataError) as err:
        parse_mapping(text, "m.yaml")
    assert err.value.file == "m.yaml"
    if field:
        assert err.value.field == field


def test_per_record_precision_never_invented(tmp_path: Path, chicago_rows: list[str]) -> None:
    rows = list(chicago_rows)
    # rows 5 and 9 known only to the day, as a source with missing times would publish them
    for r in (5, 9):
        date, rest = rows[r].split(",", 1)
        rows[r] = date[:10] + "," + rest
    src = tmp_path / "chicago_mixed.csv"
    src.write_text("\n".join(rows) + "\n")
    mapping = load_mapping("chicago-aggravated-assaults").model_copy(deep=True)
    mapping.time.alternatives = [TimeFormat(format="%Y-%m-%d", precision=Precision.DAY)]
    with pytest.raises(DataError) as err:  # the shipped mapping has no date-only format
        read_mapped(src, "chicago-aggravated-assaults")
    assert (err.value.row, err.value.field) == (5, "date")
    df = read_mapped(src, mapping).incidents
    assert list(df.loc[df["precision"] == "day", "source_row"]) == [5, 9]
    day = df[df["precision"] == "day"]
    assert (day["time"] == day["time"].dt.normalize()).all()
    assert (df["precision"] == "minute").sum() == 498


def test_xy_mapping_round_trips(tmp_path: Path, shared_data: Path) -> None:
    # 1,000 rows of met-street-2022 re-expressed as BNG eastings/northings, against the same
    # rows read through the shipped lon/lat mapping (the first 1,000 lines of the file as they
    # are: the reader maps each row alone, so the whole file need not be parsed for them)
    src = tmp_path / "london_head.csv"
    with gzip.open(shared_data / "met-street-2022" / "london_crimes_2022.csv.gz", "rt") as fh:
        src.write_text("".join(next(fh) for _ in range(1001)))
    df = pd.read_csv(src, dtype=str, keep_default_na=False, nrows=1000)
    x, y = to_metres(df["longitude"].astype(float), df["latitude"].astype(float), BNG)
    out = df.drop(columns=["longitude", "latitude"]).assign(
        easting=np.round(x, 1), northing=np.round(y, 1)
    )
    path = tmp_path / "bng.csv"
    out.to_csv(path, index=False)
    yaml_text = (
        "name: london-bng\n"
        "time: {column: month, format: '%Y-%m', precision: month}\n"
        "x: easting\ny: northing\ncrs: 'EPSG:27700'\n"
        "category: {column: type}\narea_code: lsoa11cd_pip\n"
        "region: {name: London, bbox: [-0.75, 51.15, 0.5, 51.85], drop_if_blank: lsoa11cd_pip}\n"
    )
    mfile = tmp_path / "bng.yaml"
    mfile.write_text(yaml_text)
    res = read_mapped(path, mfile)
    ref = read_mapped(src, "met-street-2022").incidents.head(len(res.incidents))
    assert len(res.incidents) == (df["lsoa11cd_pip"] != "").sum() == len(ref)
    assert np.allclose(res.incidents["lon"], ref["lon"], atol=2e-5)
    assert np.allclose(res.incidents["lat"], ref["lat"], atol=2e-5)


def test_header_problems_name_the_column(tmp_path: Path, chicago_rows: list[str]) -> None:
    extra = tmp_path / "extra.csv"
    extra.write_text(
        "\n".join([chicago_rows[0] + ",victim_name"] + [r + ",x" for r in chicago_rows[1:5]])
    )
    with pytest.raises(DataError) as err:
        read_mapped(extra, "chicago-aggravated-assaults")
    assert err.value.field == "victim_name" and "unknown column" in str(err.value)
    missing = tmp_path / "missing.csv"
    missing.write_text("\n".join(",".join(r.split(",")[1:]) for r in chicago_rows[:5]))
    with pytest.raises(DataError) as err:
        read_mapped(missing, "chicago-aggravated-assaults")
    assert err.value.field == "date"
    dup = tmp_path / "dup.csv"
    dup.write_text("date,date\n1,2\n")
    with pytest.raises(DataError, match="repeats"):
        read_mapped(dup, "chicago-aggravated-assaults")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="empty"):
        read_mapped(empty, "chicago-aggravated-assaults")


def test_header_only_file_is_empty_not_an_error(tmp_path: Path, chicago_rows: list[str]) -> None:
    for i, text in enumerate((chicago_rows[0], chicago_rows[0] + "\n", chicago_rows[0] + "\n\n")):
        p = tmp_path / f"h{i}.csv"
        p.write_text(text)
        res = read_mapped(p, "chicago-aggravated-assaults")
        assert (res.rows_read, len(res.incidents)) == (0, 0)


@pytest.fixture(scope="module")
def london_edges(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All 239 met-street-2022 rows with no London LSOA, plus 1,000 rows that have one."""
    src = shared_data / "met-street-2022" / "london_crimes_2022.csv.gz"
    df = pd.read_csv(src, dtype=str, keep_default_na=False)
    blank = df[df["lsoa11cd_pip"] == ""]
    assert len(blank) == 239  # README.txt
    out = tmp_path_factory.mktemp("edges") / "london_edges.csv"
    pd.concat([blank, df[df["lsoa11cd_pip"] != ""].iloc[::800].head(1000)]).to_csv(out, index=False)
    return out


def test_boundary_region_finds_the_decoys(london_edges: Path) -> None:
    # README.txt: 100 of the 239 LSOA-less points are decoys from the surrounding county forces;
    # the other 139 are London points just outside the generalised LSOA polygons. The borough
    # union ("london" boundary) must reject exactly the decoys among them.
    base = load_mapping("met-street-2022")
    strict = base.model_copy(update={"region": RegionSpec(name="London", boundary="london")})
    with pytest.raises(DataError, match="outside region London") as err:
        read_mapped(london_edges, strict)
    assert err.value.field == "longitude"
    res = read_mapped(london_edges, strict, skip_bad_rows=True)
    rejected = res.rejects.drop_duplicates("row")
    assert (rejected["lsoa11cd_pip"] == "").sum() == 100
    assert len(rejected) <= 102  # at most a couple of edge points with an LSOA
    lenient = base.model_copy(
        update={"region": RegionSpec(name="London", boundary="london", drop_outside_boundary=True)}
    )
    kept = read_mapped(london_edges, lenient)
    assert kept.dropped_outside_region == len(rejected)
    assert len(kept.incidents) == 1239 - len(rejected)
