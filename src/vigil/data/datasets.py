"""Loaders for the bundled real datasets, as canonical incident tables.

They read through the same mapped-CSV reader as ``vigil data import`` (one code path) and are
memoised in-process: models, backtests and tests call them repeatedly. Each call returns a copy,
so a caller that adds columns cannot change what the next caller sees.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from vigil.data.cache import cached_table
from vigil.data.readers import read_mapped
from vigil.errors import DataError
from vigil.settings import shared_data_dir

LONDON_2022_FILE = Path("met-street-2022") / "london_crimes_2022.csv.gz"
CHICAGO_FILE = (
    Path("chicago-aggravated-assaults-2010-2016") / "chicago_aggravated_assaults_2010_2016.csv.gz"
)


def _file(shared: Path | None, rel: Path) -> Path:
    path = shared_data_dir(shared) / rel
    if not path.is_file():
        raise DataError("bundled dataset not found (set VIGIL_SHARED_DATA)", file=str(path))
    return path


@lru_cache(maxsize=4)
def _london(path: Path) -> pd.DataFrame:
    return _parsed(path, "met-street-2022", "met-street-2022")


@lru_cache(maxsize=4)
def _chicago(path: Path) -> pd.DataFrame:
    return _parsed(path, "chicago-aggravated-assaults", "chicago-aggravated-assaults")


def _parsed(path: Path, mapping: str, dataset: str) -> pd.DataFrame:
    """The file read through its mapping, parsed once per machine (:mod:`vigil.data.cache`)."""
    import vigil.data

    return cached_table(
        f"dataset-{dataset}",
        [path],
        lambda: read_mapped(path, mapping, dataset).incidents,
        code=[vigil.data],
    )


def load_london_2022(shared: Path | None = None) -> pd.DataFrame:
    """Every police.uk street crime in London in 2022 with a London LSOA (849,170 rows).

    Month precision. The 239 points with no London LSOA (100 decoys from the surrounding county
    forces among them, see the folder's README.txt) are dropped by the mapping's region filter.
    """
    return _london(_file(shared, LONDON_2022_FILE).resolve()).copy()


def load_chicago(shared: Path | None = None, years: tuple[int, int] = (2010, 2016)) -> pd.DataFrame:
    """Chicago aggravated assaults, minute precision, for the years ``years`` (inclusive)."""
    first, last = years
    if first > last:
        raise ValueError(f"years must be (first, last) with first <= last, got {years}")
    df = _chicago(_file(shared, CHICAGO_FILE).resolve())
    year = df["time"].dt.year
    return df[(year >= first) & (year <= last)].reset_index(drop=True).copy()
